"""CLIP (Radford et al. 2021): L2-normalised features on the unit sphere, cosine logits
scaled by a learnable 1/τ (initialised at 1/0.07, clamped to ≤ 100), symmetric InfoNCE."""

from __future__ import annotations

from torch import Tensor

from mmviz.geometry import Geometry, SphereGeometry, get_geometry
from mmviz.models.base import ContrastiveModel
from mmviz.models.config import ClipConfig
from mmviz.models.encoders import ModalitySpec


class Clip(ContrastiveModel):
    """CLIP on the sphere; :meth:`features` gives the raw pre-normalisation features whose
    norms mmviz compares with MERU's distances from the origin."""

    geometry_name = "sphere"

    def __init__(self, inputs: tuple[ModalitySpec, ModalitySpec], config: ClipConfig) -> None:
        super().__init__(inputs, config)
        self.sphere: SphereGeometry = get_geometry("sphere")  # type: ignore[assignment]

    def geometry(self) -> Geometry:
        return self.sphere

    def project(self, features: Tensor, side: int) -> Tensor:
        """Unit vectors x/|x|: (B, dim) → (B, dim)."""
        return self.sphere.project(features)

    def similarity(self, za: Tensor, zb: Tensor) -> Tensor:
        """Cosine similarity of unit vectors: (B1, dim), (B2, dim) → (B1, B2)."""
        return za @ zb.T
