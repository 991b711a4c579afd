"""mmviz: the geometry of multimodal contrastive learning, made visible."""

__version__ = "0.1.0"
