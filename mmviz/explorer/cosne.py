"""CO-SNE (Guo, Guo & Yu, CVPR 2022): t-SNE into the Poincaré disk that keeps the hierarchy.

- High-dimensional affinities: t-SNE's, a Gaussian of the *hyperbolic* distance per row with
  its width set by bisection to the perplexity, symmetrised: P = (P_cond + P_condᵀ) / 2n.
- Low-dimensional affinities: a hyperbolic Student-t (Cauchy),
  w_ij = 1 / (1 + d_H(y_i, y_j)² / γ), q_ij = w_ij / Σ_{k≠l} w_kl.
- Loss: KL(P ‖ Q) + (λ / n) Σ_i (|x_i|² - |y_i|²)², the second term keeping each point's
  Poincaré norm (so its distance from the origin, its depth) as CO-SNE does.
- Gradient (:func:`objective`), written out and checked against finite differences: with
  u_ij = 1 + 2 δ_ij / (a_i a_j), δ_ij = |y_i - y_j|², a_i = 1 - |y_i|², d = arcosh u,
  ∂KL/∂y_i = Σ_j G_ij [(y_i - y_j) + δ_ij y_i / a_i], G_ij = 16 (w_ij / γ)(p_ij - q_ij)(d_ij / sinh d_ij) / (a_i a_j).
- Optimiser: Riemannian Adam on the Poincaré ball (geoopt), from the radial projection (each
  point already at its own depth), early exaggeration ×4 for the first 100 iterations.

The fit is exact (O(n²) per iteration), so it runs on at most ``fit_rows`` points; beyond that,
every other point is placed at the Lorentz centroid of its ``neighbours`` nearest fitted points
(by distance in the original space), at its own depth. The notes say so.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from mmviz.geometry import disk as unit_disk

PERPLEXITY = 30.0
GAMMA = 1.0
NORM_WEIGHT = 1.0
ITERATIONS = 350
EXAGGERATION = 4.0
EXAGGERATION_ITERATIONS = 100
LR = 0.05
FIT_ROWS = 1500
NEIGHBOURS = 10


def hyperbolic_sq_dist(hyp: np.ndarray, other: np.ndarray | None = None) -> np.ndarray:
    """Squared distances between unit-hyperboloid points: (n, d + 1), (m, d + 1) -> (n, m)."""
    other = hyp if other is None else other
    inner = np.outer(hyp[:, 0], other[:, 0]) - hyp[:, 1:] @ other[:, 1:].T
    return np.arccosh(np.maximum(inner, 1.0)) ** 2


def joint_probabilities(sq_dist: np.ndarray, perplexity: float = PERPLEXITY, iters: int = 64) -> np.ndarray:
    """t-SNE's symmetric P from squared distances (n, n): each row's Gaussian precision is set by
    bisection (in log space, all rows at once) so that its entropy is log(perplexity)."""
    n = len(sq_dist)
    perplexity = min(perplexity, (n - 1) / 3.0)
    d = sq_dist.copy()
    np.fill_diagonal(d, np.inf)
    d = d - d.min(axis=1, keepdims=True)  # shift per row: the row's P is unchanged, exp never overflows
    finite = np.where(np.isinf(d), 0.0, d)
    lo, hi = np.full(n, -30.0), np.full(n, 30.0)
    target = math.log(perplexity)
    for _ in range(iters):
        beta = np.exp((lo + hi) / 2.0)
        p = np.exp(-d * beta[:, None])
        total = p.sum(axis=1)
        entropy = np.log(total) + beta * (finite * p).sum(axis=1) / total
        too_flat = entropy > target  # too many effective neighbours: sharpen
        lo = np.where(too_flat, (lo + hi) / 2.0, lo)
        hi = np.where(too_flat, hi, (lo + hi) / 2.0)
    p = p / p.sum(axis=1, keepdims=True)
    return (p + p.T) / (2.0 * n)


def objective(y, p, norms_sq, *, gamma: float = GAMMA, norm_weight: float = NORM_WEIGHT,
              exaggeration: float = 1.0, with_loss: bool = True):
    """CO-SNE's loss and its Euclidean gradient at disk points ``y`` (n, 2), |y| < 1.

    p: (n, n) symmetric joint probabilities (zero diagonal, sum 1); norms_sq: (n,) the original
    points' squared Poincaré norms; numpy arrays or torch tensors (the fit passes float32
    tensors: the n² transcendental functions are what an iteration costs). ``exaggeration``
    scales P in the gradient's attraction (t-SNE's early exaggeration); the loss returned is the
    unexaggerated one (None when ``with_loss`` is False). Returns (loss, gradient (n, 2)) in
    the type of ``y``.
    """
    as_numpy = isinstance(y, np.ndarray)
    y, p, norms_sq = (torch.as_tensor(v) for v in (y, p, norms_sq))
    n = len(y)
    sq = (y * y).sum(1)
    a = 1.0 - sq
    aa = torch.outer(a, a)
    delta = (sq[:, None] + sq[None, :] - 2.0 * y @ y.T).clamp_min_(0.0)
    e = 2.0 * delta / aa  # u - 1, with u = cosh d
    sinh = torch.sqrt(e * (e + 2.0))
    d = torch.log1p(e + sinh)  # arcosh u, accurate near u = 1
    w = torch.reciprocal((d * d).div_(gamma).add_(1.0))
    w.fill_diagonal_(0.0)
    q = w / w.sum()
    gap = norms_sq - sq
    loss = None
    if with_loss:
        tiny = torch.finfo(q.dtype).tiny
        kl = torch.sum(torch.xlogy(p, p) - p * torch.log(q.clamp_min(tiny)))
        loss = float(kl) + norm_weight / n * float(torch.sum(gap * gap))
    ratio = torch.where(d > 1e-4, d / sinh.clamp_min(1e-30), torch.ones_like(d))  # d / sinh d -> 1 at d = 0
    g = (exaggeration * p - q).mul_(w).mul_(ratio).div_(aa).mul_(16.0 / gamma)
    g.fill_diagonal_(0.0)
    grad = (g.sum(1) + (g * delta).sum(1) / a)[:, None] * y - g @ y
    grad -= (4.0 * norm_weight / n) * gap[:, None] * y
    return loss, (grad.numpy() if as_numpy else grad)


def fit(hyp: np.ndarray, start: np.ndarray, *, perplexity: float = PERPLEXITY, gamma: float = GAMMA,
        norm_weight: float = NORM_WEIGHT, iterations: int = ITERATIONS, lr: float = LR,
        progress: Callable[[str], None] | None = None) -> tuple[np.ndarray, list[float]]:
    """CO-SNE of unit-hyperboloid points ``hyp`` (n, d + 1) from disk points ``start`` (n, 2).
    Returns (disk points (n, 2), the loss every 10 iterations)."""
    import geoopt  # noqa: PLC0415 - only a fit needs it (and its import warns)

    p = torch.as_tensor(joint_probabilities(hyperbolic_sq_dist(hyp), perplexity), dtype=torch.float32)
    space = hyp[:, 1:] / (1.0 + hyp[:, :1])
    norms_sq = torch.as_tensor((space * space).sum(1), dtype=torch.float32)
    ball = geoopt.PoincareBall()
    y = geoopt.ManifoldParameter(torch.as_tensor(unit_disk.inside(start), dtype=torch.float64), manifold=ball)
    opt = geoopt.optim.RiemannianAdam([y], lr=lr)
    losses: list[float] = []
    for it in range(iterations):
        exaggeration = EXAGGERATION if it < EXAGGERATION_ITERATIONS else 1.0
        loss, grad = objective(y.detach().float(), p, norms_sq, gamma=gamma, norm_weight=norm_weight,
                               exaggeration=exaggeration, with_loss=it % 10 == 0)
        y.grad = grad.double()
        opt.step()
        if loss is not None:
            losses.append(loss)
        if progress and it % 50 == 0:
            progress(f"CO-SNE: iteration {it:,} of {iterations:,} on {len(hyp):,} points, loss {losses[-1]:.4f}")
    return unit_disk.inside(y.detach().numpy()), losses


def place_rest(hyp_rest: np.ndarray, hyp_fit: np.ndarray, disk_fit: np.ndarray,
               neighbours: int = NEIGHBOURS, chunk: int = 4096) -> np.ndarray:
    """Points not fitted: each at the Lorentz centroid of the disk positions of its ``neighbours``
    nearest fitted points, moved along that direction to its own depth. (m, d + 1) -> (m, 2)."""
    k = min(neighbours, len(hyp_fit))
    out = np.empty((len(hyp_rest), 2))
    for s in range(0, len(hyp_rest), chunk):
        block = hyp_rest[s:s + chunk]
        inner = np.outer(block[:, 0], hyp_fit[:, 0]) - block[:, 1:] @ hyp_fit[:, 1:].T
        near = np.argpartition(inner, k - 1, axis=1)[:, :k]  # smallest inner product = nearest
        centre = unit_disk.lorentz_centroid(disk_fit[near])
        direction = centre / np.maximum(np.linalg.norm(centre, axis=1, keepdims=True), 1e-300)
        depth = np.arccosh(np.maximum(block[:, 0], 1.0))
        out[s:s + chunk] = direction * np.tanh(depth / 2.0)[:, None]
    return unit_disk.inside(out)


def cosne_disk(hyp: np.ndarray, start: np.ndarray, *, fit_rows: int = FIT_ROWS, seed: int = 0,
               progress: Callable[[str], None] | None = None, **kw) -> tuple[np.ndarray, list[str]]:
    """CO-SNE of unit-hyperboloid points (N, d + 1) from disk points ``start`` (N, 2): fitted on
    at most ``fit_rows`` of them, the rest placed by :func:`place_rest`. Returns (disk, notes)."""
    n = len(hyp)
    if n <= fit_rows:
        disk, _ = fit(hyp, start, progress=progress, **kw)
        return disk, [f"CO-SNE fitted on all {n:,} points"]
    rows = np.sort(np.random.default_rng(seed).choice(n, fit_rows, replace=False))
    fitted, _ = fit(hyp[rows], start[rows], progress=progress, **kw)
    rest = np.setdiff1d(np.arange(n), rows, assume_unique=True)
    if progress:
        progress(f"CO-SNE: placing the other {len(rest):,} points by their nearest fitted points…")
    disk = np.empty((n, 2))
    disk[rows] = fitted
    disk[rest] = place_rest(hyp[rest], hyp[rows], fitted)
    return disk, [f"CO-SNE fitted on a random {fit_rows:,} of the {n:,} points (exact t-SNE is O(n²) per "
                  f"iteration); each other point sits at the centroid of its {NEIGHBOURS} nearest fitted "
                  "points, at its own depth"]
