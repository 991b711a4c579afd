"""HoroPCA: the horospherical projection keeps Busemann coordinates, and points that already lie
in a 2-D geodesic plane are recovered with (near) zero distortion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmviz.errors import MmvizError
from mmviz.explorer import horopca
from mmviz.explorer.projections import _boost, _hyp_expmap0, project
from mmviz.metrics.projection import quality


def _plane_points(n: int = 150, dim: int = 10, spread: float = 0.7, seed: int = 0) -> np.ndarray:
    """Poincaré points (n, dim) on a 2-D geodesic plane that does not pass through the origin:
    a random 2-plane of tangent vectors (|v| < spread) at the origin, mapped by exp and then by a
    boost that moves the origin to a random point at distance 1.5."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(dim, 2)))[0]
    coef = rng.uniform(-1, 1, size=(n, 2))
    coef *= (spread * rng.uniform(0, 1, n) ** 0.5 / np.linalg.norm(coef, axis=1))[:, None]
    hyp = _hyp_expmap0(coef @ basis.T)
    shift = rng.normal(size=dim)
    m = _hyp_expmap0((1.5 * shift / np.linalg.norm(shift))[None, :])[0]
    moved = _boost(m, hyp)
    return moved[:, 1:] / (1.0 + moved[:, :1])


def _hyperboloid(ball: np.ndarray) -> np.ndarray:
    sq = (ball * ball).sum(1)
    return np.concatenate([((1 + sq) / (1 - sq))[:, None], 2 * ball / (1 - sq)[:, None]], axis=1)


def test_points_on_a_geodesic_plane_are_recovered_with_near_zero_distortion():
    ball = _plane_points()
    proj = project(ball, "poincare", 1.0, "horopca")
    q = quality(ball, proj, sample=150)
    assert q["distortion"] < 1e-6
    assert q["trustworthiness"] > 0.9999


def test_the_fit_finds_the_plane_from_a_random_start():
    ball = _plane_points(seed=1)
    hyp = _hyperboloid(ball)
    from mmviz.explorer.projections import _centred

    centred, _ = _centred(hyp)
    start = np.random.default_rng(3).normal(size=(2, ball.shape[1]))
    q, history = horopca.fit_directions(centred, start, steps=250)
    tangent_plane = np.linalg.svd(centred[:, 1:], full_matrices=False)[2][:2]  # the plane's directions
    overlap = np.linalg.svd(q @ tangent_plane.T, compute_uv=False)
    assert overlap.min() > 0.999  # the fitted ideal points span the data's plane
    assert history[-1] > history[0]


def test_the_projection_keeps_every_busemann_coordinate():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 6)) * 0.8
    hyp = np.concatenate([np.sqrt(1 + (x * x).sum(1))[:, None], x], axis=1)
    q = horopca.orthonormal(torch.as_tensor(rng.normal(size=(2, 6)))).numpy()
    y0, a = horopca.horo_project(hyp, q)
    assert np.allclose(y0 ** 2 - (a * a).sum(1), 1.0)  # on the hyperboloid
    image = np.concatenate([y0[:, None], a @ q], axis=1)  # (y0, Σ a_j q_j) in the full space
    assert np.allclose(horopca.busemann_coordinates(image, q), horopca.busemann_coordinates(hyp, q), rtol=1e-10)


def test_points_beyond_the_spine_are_folded_to_the_origin_side_as_in_the_reference():
    q = np.eye(2)
    for r, kept in ((0.3, True), (0.9, False)):  # the spine crosses the diagonal at |u| = sqrt(2) - 1
        u = r * np.array([[1.0, 1.0]]) / np.sqrt(2)
        back = horopca.to_disk(_hyperboloid(u), q)
        assert np.allclose(back, u) == kept
        assert np.allclose(horopca.busemann_coordinates(_hyperboloid(back), q),
                           horopca.busemann_coordinates(_hyperboloid(u), q))


def test_horopca_refuses_non_hyperbolic_embeddings():
    with pytest.raises(MmvizError, match="hyperbolic"):
        project(np.random.default_rng(0).normal(size=(50, 4)), "euclidean", 1.0, "horopca")
