"""CO-SNE: the written-out gradient against finite differences, t-SNE's affinities, and a fit
that lowers its loss and keeps every point in the disk."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmviz.explorer import cosne
from mmviz.explorer.projections import project


def _hyperboloid(x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.sqrt(1 + (x * x).sum(1))[:, None], x], axis=1)


@pytest.mark.parametrize(("gamma", "norm_weight", "exaggeration"), [(1.0, 1.0, 1.0), (0.3, 5.0, 1.0), (2.0, 0.0, 4.0)])
def test_the_gradient_matches_finite_differences(gamma, norm_weight, exaggeration):
    rng = np.random.default_rng(0)
    n = 14
    y = rng.normal(size=(n, 2)) * 0.35
    y[3] = y[5] + 1e-9  # a near-coincident pair: d / sinh d at its limit
    p = cosne.joint_probabilities(cosne.hyperbolic_sq_dist(_hyperboloid(rng.normal(size=(n, 5)))), 4.0)
    norms_sq = rng.uniform(0, 0.9, n)

    def log_z(z: np.ndarray) -> float:
        sq = (z * z).sum(1)
        delta = sq[:, None] + sq[None, :] - 2 * z @ z.T
        d = np.arccosh(np.maximum(1 + 2 * delta / np.outer(1 - sq, 1 - sq), 1.0))
        w = 1 / (1 + d * d / gamma)
        return math.log(w.sum() - np.trace(w))

    def loss(z: np.ndarray) -> float:
        # Early exaggeration follows -α Σ p log w + log Z (t-SNE's (αp - q) gradient): KL with αP
        # counts log Z α times, so take (α - 1) log Z back off.
        value, _ = cosne.objective(z, exaggeration * p, norms_sq, gamma=gamma, norm_weight=norm_weight)
        return value - (exaggeration - 1.0) * log_z(z)

    _, grad = cosne.objective(y, p, norms_sq, gamma=gamma, norm_weight=norm_weight, exaggeration=exaggeration)
    h = 1e-6
    numeric = np.zeros_like(y)
    for i in range(n):
        for k in range(2):
            up, down = y.copy(), y.copy()
            up[i, k] += h
            down[i, k] -= h
            numeric[i, k] = (loss(up) - loss(down)) / (2 * h)
    assert np.abs(numeric - grad).max() < 1e-7 * max(1.0, np.abs(grad).max())


def test_joint_probabilities_are_symmetric_normalised_and_at_the_perplexity():
    rng = np.random.default_rng(1)
    sq = cosne.hyperbolic_sq_dist(_hyperboloid(rng.normal(size=(120, 4))))
    p = cosne.joint_probabilities(sq, 10.0)
    assert np.allclose(p, p.T) and math.isclose(p.sum(), 1.0, rel_tol=1e-12) and np.all(np.diag(p) == 0)
    # Row 0's conditional distribution at the bisected precision has entropy log(10).
    d = sq[0, 1:] - sq[0, 1:].min()
    betas = np.exp(np.linspace(-30, 30, 200001))
    cond = [np.exp(-b * d) / np.exp(-b * d).sum() for b in betas[::2000]]
    entropies = [-(c * np.log(np.maximum(c, 1e-300))).sum() for c in cond]
    assert min(entropies) < math.log(10.0) < max(entropies)


def test_a_fit_lowers_the_loss_and_keeps_points_inside():
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(4, 6)) * 1.5
    x = np.concatenate([c + 0.1 * rng.normal(size=(40, 6)) for c in centres])
    hyp = _hyperboloid(x)
    start = project(x / (1 + np.sqrt(1 + (x * x).sum(1)))[:, None], "poincare", 1.0, "radial").disk
    disk, losses = cosne.fit(hyp, start, perplexity=10.0, iterations=150)
    assert losses[-1] < 0.8 * losses[0]
    assert np.all(np.linalg.norm(disk, axis=1) < 1.0)
    # The four clusters stay apart: each point's nearest neighbour on the disk is in its own cluster.
    labels = np.repeat(np.arange(4), 40)
    dd = np.linalg.norm(disk[:, None] - disk[None], axis=-1) + np.eye(len(disk)) * 9
    assert np.mean(labels[dd.argmin(1)] == labels) > 0.95


def test_points_not_fitted_are_placed_by_their_neighbours_at_their_own_depth():
    rng = np.random.default_rng(3)
    fitted = _hyperboloid(rng.normal(size=(30, 3)))
    disk = rng.uniform(-0.5, 0.5, size=(30, 2))
    twin = fitted[7:8] * 1.0
    placed = cosne.place_rest(twin, fitted, disk, neighbours=1)
    assert np.allclose(placed[0] / np.linalg.norm(placed[0]), disk[7] / np.linalg.norm(disk[7]))
    assert math.isclose(2 * math.atanh(np.linalg.norm(placed[0])), math.acosh(twin[0, 0]), rel_tol=1e-9)


def test_large_sets_are_fitted_on_a_sample_and_say_so():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(260, 4))
    hyp = _hyperboloid(x)
    start = rng.uniform(-0.4, 0.4, size=(260, 2))
    disk, notes = cosne.cosne_disk(hyp, start, fit_rows=120, iterations=20)
    assert disk.shape == (260, 2) and np.all(np.linalg.norm(disk, axis=1) < 1)
    assert "random 120 of the 260" in notes[0]
