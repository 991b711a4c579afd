"""Names and constants shared by every layer that speaks of geometry (one home for each)."""

GEOMETRY_NAMES: tuple[str, ...] = ("euclidean", "sphere", "poincare", "lorentz")
"""Every geometry an embedding can live in, as :func:`mmviz.geometry.get_geometry` names them."""

HYPERBOLIC: tuple[str, ...] = ("poincare", "lorentz")
"""The two models of hyperbolic space (entailment cones, distance from the origin as depth)."""

DEFAULT_CONE_MIN_RADIUS = 0.1
"""MERU's entailment-cone constant K (Ganea et al.'s minimum radius): the half-aperture is
asin(2K / (√c‖x_space‖)). A run trained with another ``min_radius`` keeps its own; this is the
value for embeddings that carry none (uploaded files)."""
