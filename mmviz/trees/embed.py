"""Trained embeddings of a hierarchy (Nickel & Kiela 2017): one free point per node.

Loss over the transitive closure with negative sampling: for a positive pair (u, v) — u is
a descendant of v — and K nodes v′ drawn uniformly at random,

    L(u, v) = −log( e^{−d(u, v)} / (e^{−d(u, v)} + Σ_k e^{−d(u, v′_k)}) ),

where negatives that are in fact related to u (its ancestors, its descendants or u itself)
are masked out of the sum. ``d`` is the Poincaré distance (points on geoopt's
``PoincareBall``, trained with Riemannian Adam/SGD), the Euclidean distance (plain
coordinates), or the Lorentz distance (points on the hyperboloid, Nickel & Kiela 2018).
A burn-in phase at a tenth of the learning rate lets the points find their rough angular
arrangement before they spread out towards the boundary.

Everything a step draws (the positives, the negatives) is a pure function of (seed, step),
so a resumed run continues exactly where its checkpoint left it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mmviz.data.base import Hierarchy
from mmviz.geometry.manifolds import geoopt  # imported there with its torch.jit warning silenced
from mmviz.models.config import param

GEOMETRIES = ("poincare", "euclidean", "lorentz")


@dataclass(frozen=True)
class TreeEmbedConfig:
    """A free point per node trained on the closure (Nickel & Kiela 2017)."""

    dim: int = param(2, "int", "Embedding dimension (2 = what the disk shows exactly).", min=2, max=200)
    negatives: int = param(50, "int", "Negative samples per positive pair.", min=1, max=1000)
    burn_in: int = param(500, "int", "Burn-in steps at a reduced learning rate (0 = none; at most a "
                         "fifth of the run).", min=0,
                         max=1_000_000)
    burn_in_factor: float = param(0.1, "float", "Learning-rate factor during the burn-in.", min=0.001,
                                  max=1.0, advanced=True)
    init_scale: float = param(1e-3, "float", "Points start uniform in [−s, s]^dim around the origin.",
                              min=1e-6, max=0.1, advanced=True)
    optimizer: str = param("radam", "choice", "Riemannian Adam or Riemannian SGD (geoopt).",
                           choices=("radam", "rsgd"), advanced=True)


@dataclass(frozen=True)
class HyperbolicEmbedConfig(TreeEmbedConfig):
    """The same, in a hyperbolic space of curvature −c."""

    curvature: float = param(1.0, "float", "Curvature c (the space curves at −c); fixed.", min=0.1, max=10.0)


def poincare_dist(x: torch.Tensor, y: torch.Tensor, c: float = 1.0) -> torch.Tensor:
    """Poincaré distance (1/√c)·arcosh(1 + 2c‖x − y‖² / ((1 − c‖x‖²)(1 − c‖y‖²))), (..., D) → (...).

    Written out rather than through geoopt's Möbius addition: it is the formula Nickel & Kiela
    differentiate, and 2.5× faster here. Clamps: the denominator at 1e-15 (a point the
    optimiser left on the boundary stays finitely far), the arcosh argument at 1 + 1e-15
    (its derivative is infinite at exactly 1, i.e. at x = y).
    """
    sq = (x - y).pow(2).sum(-1)
    gap = (1 - c * x.pow(2).sum(-1)) * (1 - c * y.pow(2).sum(-1))
    arg = 1 + 2 * c * sq / gap.clamp_min(1e-15)
    return torch.arccosh(arg.clamp_min(1 + 1e-15)) / c ** 0.5


class TreeEmbedding(nn.Module):
    """N points in one geometry; ``weight`` is (N, D) (Lorentz: (N, D + 1), time first), float64."""

    def __init__(self, n: int, config: TreeEmbedConfig, geometry: str = "poincare", seed: int = 0) -> None:
        super().__init__()
        if geometry not in GEOMETRIES:
            raise ValueError(f"geometry must be one of {GEOMETRIES}, got {geometry!r}")
        self.config, self.geometry = config, geometry
        self.curvature = float(getattr(config, "curvature", 1.0))
        gen = torch.Generator().manual_seed(seed)
        init = (torch.rand(n, config.dim, generator=gen, dtype=torch.float64) * 2 - 1) * config.init_scale
        if geometry == "poincare":
            self.manifold = geoopt.PoincareBall(c=self.curvature)
        elif geometry == "lorentz":
            # geoopt's Lorentz uses k = 1/c for the hyperboloid −x0² + ‖x‖² = −k
            self.manifold = geoopt.Lorentz(k=1.0 / self.curvature)
            init = self.manifold.expmap0(torch.cat([torch.zeros(n, 1, dtype=torch.float64), init], dim=1))
        else:
            self.manifold = geoopt.Euclidean()
        self.weight = geoopt.ManifoldParameter(init, manifold=self.manifold)

    def dist(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Distance between broadcastable batches of points (..., D) → (...)."""
        if self.geometry == "euclidean":
            return (x - y).pow(2).sum(-1).clamp_min(1e-30).sqrt()  # clamp: finite gradient at x = y
        if self.geometry == "poincare":
            return poincare_dist(x, y, self.curvature)
        return self.manifold.dist(x, y)

    def loss(self, u: torch.Tensor, v: torch.Tensor, negatives: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean loss of B positives. u, v: (B,) node ids; negatives: (B, K) ids; mask: (B, K)
        bool, True where a negative is a real negative (False: related to u, left out)."""
        w = self.weight
        others = torch.cat([v[:, None], negatives], dim=1)  # (B, 1 + K)
        d = self.dist(w[u][:, None, :], w[others])
        logits = -d
        logits[:, 1:] = logits[:, 1:].masked_fill(~mask, float("-inf"))
        return torch.nn.functional.cross_entropy(logits, torch.zeros(len(u), dtype=torch.long))

    @torch.no_grad()
    def pairwise_dist(self) -> np.ndarray:
        """(N, N) float64 distances between every pair of nodes."""
        w = self.weight.detach()
        if self.geometry == "euclidean":
            return torch.cdist(w, w).numpy()
        out = torch.empty(len(w), len(w), dtype=torch.float64)
        for start in range(0, len(w), 256):
            out[start:start + 256] = self.manifold.dist(w[start:start + 256, None, :], w[None, :, :])
        out.fill_diagonal_(0.0)
        return out.numpy()

    @torch.no_grad()
    def radius(self) -> np.ndarray:
        """(N,) distance of each node from the origin."""
        w = self.weight.detach()
        if self.geometry == "euclidean":
            return w.norm(dim=-1).numpy()
        return self.manifold.dist0(w).numpy()

    @torch.no_grad()
    def ball_points(self) -> np.ndarray:
        """(N, D) points to draw: Poincaré ball coordinates (Lorentz mapped there), or the
        Euclidean coordinates as they are."""
        w = self.weight.detach()
        if self.geometry == "lorentz":
            k = self.manifold.k
            return (w[:, 1:] / (w[:, :1] + k.sqrt())).numpy()
        return w.numpy().copy()

    def scalars(self) -> dict[str, float]:
        """Logged beside the loss: the largest distance of a node from the origin."""
        return {"train/max_radius": float(self.radius().max())}


def make_optimizer(model: TreeEmbedding, lr: float) -> torch.optim.Optimizer:
    """geoopt's Riemannian Adam or SGD over the points (plain Adam/SGD in Euclidean space)."""
    if model.config.optimizer == "rsgd":
        return geoopt.optim.RiemannianSGD(model.parameters(), lr=lr, stabilize=100)
    return geoopt.optim.RiemannianAdam(model.parameters(), lr=lr, stabilize=100)


class ClosureSampler:
    """Positive pairs and negatives of a hierarchy, drawn as a pure function of (seed, step).

    ``related[u, v]`` (N, N) bool is True when u = v or one is an ancestor of the other.
    """

    def __init__(self, hierarchy: Hierarchy, negatives: int) -> None:
        n = len(hierarchy)
        self.n, self.k = n, negatives
        self.pairs = torch.as_tensor(hierarchy.closure, dtype=torch.long)
        related = np.eye(n, dtype=bool)
        closure = np.asarray(hierarchy.closure, dtype=np.int64).reshape(-1, 2)
        related[closure[:, 0], closure[:, 1]] = True
        related[closure[:, 1], closure[:, 0]] = True
        self.related = torch.as_tensor(related)

    def batch(self, batch_size: int, seed: int, step: int) -> tuple[torch.Tensor, ...]:
        """(u, v, negatives, mask) of step ``step``: (B,), (B,), (B, K), (B, K) bool."""
        gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
        idx = torch.randint(len(self.pairs), (batch_size,), generator=gen)
        u, v = self.pairs[idx, 0], self.pairs[idx, 1]
        negatives = torch.randint(self.n, (batch_size, self.k), generator=gen)
        mask = ~self.related[u[:, None], negatives]
        return u, v, negatives, mask
