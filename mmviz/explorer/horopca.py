"""HoroPCA (Chami, Gu, Nguyen & Ré, ICML 2021): hyperbolic PCA along horospheres.

The data are first moved so that their Fréchet mean is the origin. The K principal directions
are ideal points q_1..q_K (orthonormal unit vectors, so on the sphere at infinity), and the
target is the geodesic submanifold M through the origin and those ideal points: on the unit
hyperboloid, M = {(y0, Σ_j a_j q_j)}. A point's horospherical projection is the point of M with
the same Busemann coordinates B_j(x) = log(x0 - <x_s, q_j>) for every j: it keeps the distance
to each ideal point, where tangent PCA keeps distances to the base point only.

With c_j = exp B_j(x), the projection y has a_j = y0 - c_j and y0 a root of
(1 - K) y0² + 2 S y0 - (Σc² + 1) = 0 (S = Σ c_j). The two roots are mirror images across the
geodesic hull of the ideal points (the "spine"); like the authors' code this takes the one on
the origin's side, the smaller: y0 = (Σc² + 1) / (S + sqrt(S² - (K - 1)(Σc² + 1))), a form with
no cancellation. Points of M beyond the spine (at distance > ~0.88 from the origin in the
direction between two ideal points) are therefore folded back; points of M nearer the origin
are kept exactly.

The directions maximise the projected points' mean squared pairwise distance (the paper's
variance objective), with Adam on unconstrained vectors orthonormalised by Gram–Schmidt each
step (the authors' optimiser; lr 0.05). Initialised at the top principal axes of the tangent
vectors at the mean (tangent PCA's answer) rather than at random: deterministic, and it starts
where the baseline ends. The objective is fitted on a random sample of ``fit_rows`` points; the
projection itself is closed-form for all N.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from mmviz.errors import MmvizError

FIT_ROWS = 400
STEPS = 150
LR = 0.05


def busemann_coordinates(hyp: np.ndarray | torch.Tensor, q):
    """exp of the Busemann functions: c_j = x0 - <x_s, q_j>, (N, d + 1), (K, d) -> (N, K) (> 0)."""
    return hyp[:, :1] - hyp[:, 1:] @ q.T


def horo_project(hyp, q):
    """Horospherical projection onto the submanifold through the origin and the orthonormal ideal
    points ``q`` (K, d): unit-hyperboloid points (N, d + 1) -> (y0 (N,), a (N, K)), the projection
    being (y0, Σ_j a_j q_j). Works on numpy arrays and (differentiably) on torch tensors."""
    k = q.shape[0]
    c = busemann_coordinates(hyp, q)
    s, sq = c.sum(1), (c * c).sum(1)
    disc = s * s - (k - 1) * (sq + 1.0)
    root = np.sqrt(np.maximum(disc, 0.0)) if isinstance(disc, np.ndarray) else torch.sqrt(disc.clamp_min(0.0))
    y0 = (sq + 1.0) / (s + root)
    return y0, y0[:, None] - c


def _hyperboloid_dist(y0: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Pairwise distances of (y0, a) points of the K-dim hyperboloid, off the diagonal: (n*(n-1)/2,)."""
    inner = y0[:, None] * y0[None, :] - a @ a.T
    iu = torch.triu_indices(len(y0), len(y0), 1)
    eps = 1e-6 if inner.dtype == torch.float32 else 1e-12
    return torch.acosh(inner[iu[0], iu[1]].clamp_min(1.0 + eps))


def orthonormal(w: torch.Tensor) -> torch.Tensor:
    """Gram–Schmidt of the rows of ``w`` (K, d) in order (the first row's direction is kept)."""
    rows: list[torch.Tensor] = []
    for v in w:
        for u in rows:
            v = v - (v @ u) * u
        rows.append(v / v.norm().clamp_min(1e-15))
    return torch.stack(rows)


def fit_directions(hyp: np.ndarray, init: np.ndarray, *, steps: int = STEPS, lr: float = LR,
                   fit_rows: int = FIT_ROWS, seed: int = 0,
                   progress: Callable[[str], None] | None = None) -> tuple[np.ndarray, list[float]]:
    """Ideal points (K, d) maximising the mean squared pairwise distance of the projections of
    the (already centred) unit-hyperboloid points ``hyp`` (N, d + 1), from ``init`` (K, d).
    Returns (orthonormal directions, the variance at every step)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ~10⁵-element ops: a second thread costs more than it gives (5x slower on 2 busy cores)
    try:
        return _fit(hyp, init, steps=steps, lr=lr, fit_rows=fit_rows, seed=seed, progress=progress)
    finally:
        torch.set_num_threads(threads)


def _fit(hyp, init, *, steps, lr, fit_rows, seed, progress) -> tuple[np.ndarray, list[float]]:
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(hyp), min(fit_rows, len(hyp)), replace=False))
    # float32: the objective is a mean over ~10⁵ pairs, and the fit is twice as fast as in float64.
    x = torch.as_tensor(hyp[rows], dtype=torch.float32)
    w = torch.nn.Parameter(torch.as_tensor(init, dtype=torch.float32).clone())
    opt = torch.optim.Adam([w], lr=lr)
    history: list[float] = []
    for step in range(steps):
        y0, a = horo_project(x, orthonormal(w))
        variance = (_hyperboloid_dist(y0, a) ** 2).mean()
        history.append(variance.item())
        opt.zero_grad()
        (-variance).backward()
        opt.step()
        if progress and step % 50 == 0:
            progress(f"HoroPCA: step {step:,} of {steps:,}, projected variance {history[-1]:.3f}")
    return orthonormal(w.detach().double()).numpy(), history


def to_disk(hyp: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Unit-hyperboloid points (N, d + 1) -> their projections as Poincaré coordinates in the
    basis ``q`` (N, K), |u| < 1."""
    y0, a = horo_project(hyp, q)
    return a / (1.0 + y0)[:, None]


def check_dimension(dim: int, k: int = 2) -> None:
    if dim < k:
        raise MmvizError(f"HoroPCA to {k}-D needs embeddings of dimension at least {k}, got {dim}")
