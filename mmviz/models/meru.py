"""MERU (Desai et al. 2023): image and text features lifted into hyperbolic space.

Each side's features are multiplied by a learnable α (initialised at 1/√dim, kept ≤ 1 so it
never scales norms up) and mapped onto the manifold with ``expmap0``; logits are
−distance × 1/τ; the curvature c is learned in log space within [0.1, 10]; the entailment
loss asks the general side (the caption) to hold its partner (the image) in its cone.

``Meru`` lives on the Lorentz hyperboloid (as in the paper); ``MeruPoincare`` is the same
model on the Poincaré ball, where float32 points near the boundary are handled by
:mod:`mmviz.geometry` (distances from float64 conformal factors, projection 4 ulps inside).

Where mmviz differs from MERU's code (facebookresearch/meru, ``lorentz.py`` and ``models.py``):

* **exp-map limit.** MERU's ``exp_map0`` clamps √c‖v‖ at asinh(2¹⁵) ≈ 11.09, so no point lies
  further than 11.09/√c from the origin; beyond it the point keeps v's direction and stops
  moving out (and the norm gets no gradient). ``exp_map_limit`` does the same here, default
  MERU's value. With ``exp_map_limit = 0`` only the geometry's own cap applies: |v| ≤
  0.95 ln(float max)/√c, 84/√c in float32, which exists to keep the time coordinate finite, not
  to bound the model. Runs stored before the parameter existed keep 0 (``legacy_params``).
* **exterior angle at x = y.** MERU's ``oxy_angle`` meets 0/0 there (c⟨x, y⟩_L = −1) and its
  ``eps`` makes it π/2; mmviz's :meth:`~mmviz.geometry.manifolds.Geometry.exterior_angle` returns
  0, the limit along the outward ray, so a point lies in its own cone and the entailment loss
  of a pair that already coincides is 0, not a push of π/2 − aperture.
* **curvature range.** MERU clamps log c to [log(c₀/10), log(10 c₀)] around its *initial* c₀;
  mmviz keeps c in [0.1, 10] whatever the start (:data:`CURVATURE_RANGE`), so runs started at
  different curvatures search the same range and the form's bounds mean the same for every run.
  The two agree at MERU's default c₀ = 1.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from mmviz.geometry import Geometry, geometry_with_curvature
from mmviz.losses import entailment_loss
from mmviz.models.base import ContrastiveModel
from mmviz.models.config import MeruConfig
from mmviz.models.encoders import ModalitySpec

CURVATURE_RANGE = (0.1, 10.0)
"""Bounds of the learned curvature c: MERU's guard against unstable training."""


class Meru(ContrastiveModel):
    """MERU on the Lorentz hyperboloid: points (B, dim + 1), time coordinate first."""

    geometry_name = "lorentz"

    def __init__(self, inputs: tuple[ModalitySpec, ModalitySpec], config: MeruConfig) -> None:
        super().__init__(inputs, config)
        self.log_curvature = nn.Parameter(torch.tensor(math.log(config.curvature)),
                                          requires_grad=config.learn_curvature)
        # log α per side; α = 1/√dim gives features of norm ~1 at initialisation.
        self.log_alpha = nn.Parameter(torch.full((2,), -0.5 * math.log(config.dim)))
        self.entail_side = _general_side(inputs)

    def curvature_tensor(self) -> Tensor:
        """c as a 0-d Tensor (differentiable), within :data:`CURVATURE_RANGE`."""
        # MERU bounds c to a decade either side of 1: outside it training becomes unstable
        # (c → 0 flattens the space, c → ∞ makes every distance explode).
        low, high = (math.log(v) for v in CURVATURE_RANGE)
        return self.log_curvature.clamp(low, high).exp()

    def curvature(self) -> float:
        return float(self.curvature_tensor().detach())

    def alpha(self) -> Tensor:
        """Feature scales α of the two sides, shape (2,), each ≤ 1."""
        # α ≤ 1 only ever shrinks features (MERU): once α = 1 it can be dropped at inference.
        return self.log_alpha.clamp(max=0.0).exp()

    def geometry(self) -> Geometry:
        return geometry_with_curvature(self.geometry_name, self.curvature_tensor())

    def project(self, features: Tensor, side: int) -> Tensor:
        """expmap0(α · features), with √c‖α · features‖ clamped at ``exp_map_limit`` as MERU's
        ``exp_map0`` does: (B, dim) → points of :meth:`geometry`."""
        v = features * self.alpha()[side]
        limit = self.config.exp_map_limit
        if limit > 0:
            # v · min(1, limit / (√c‖v‖)): beyond the limit only v's direction moves the point
            reach = self.curvature_tensor().sqrt() * v.norm(dim=-1, keepdim=True)
            v = v * (limit / reach.clamp_min(limit)).clamp(max=1.0)
        return self.geometry().expmap0(v)

    def similarity(self, za: Tensor, zb: Tensor) -> Tensor:
        """Negative geodesic distance: (B1, E), (B2, E) → (B1, B2)."""
        return -self.geometry().pairwise_dist(za, zb)

    def extra_losses(self, za: Tensor, zb: Tensor) -> dict[str, tuple[float, Tensor]]:
        """``entailment``: the general side's cone should contain its partner."""
        geometry = self.geometry()
        general, specific = (za, zb) if self.entail_side == 0 else (zb, za)
        angle = geometry.exterior_angle(general, specific)
        aperture = geometry.half_aperture(general, self.config.min_radius)
        return {"entailment": (self.config.entail_weight, entailment_loss(angle, aperture))}

    @torch.no_grad()
    def constrain_(self) -> None:
        super().constrain_()
        self.log_curvature.clamp_(*(math.log(v) for v in CURVATURE_RANGE))
        self.log_alpha.clamp_(max=0.0)

    @torch.no_grad()
    def scalars(self) -> dict[str, float]:
        out = super().scalars()
        alpha = self.alpha()
        out.update({"alpha_0": float(alpha[0]), "alpha_1": float(alpha[1])})
        return out


class MeruPoincare(Meru):
    """MERU on the Poincaré ball: points (B, dim), logits −d_H · 1/τ, Ganea's cones."""

    geometry_name = "poincare"


def _general_side(inputs: tuple[ModalitySpec, ModalitySpec]) -> int:
    """Which side entails the other: the text side if exactly one side is text, else side 1."""
    text_sides = [i for i, spec in enumerate(inputs) if spec.kind == "text"]
    return text_sides[0] if len(text_sides) == 1 else 1
