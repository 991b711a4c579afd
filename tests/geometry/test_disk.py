"""The one Poincaré-disk toolkit (numpy, unit disk) against the torch manifolds and mpmath."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch

from mmviz.errors import MmvizError
from mmviz.geometry import disk, get_geometry


def test_mobius_recentring_keeps_pairwise_distances():
    rng = np.random.default_rng(1)
    u = rng.uniform(-0.7, 0.7, size=(50, 2))
    before = disk.pairwise_dist(u)
    for center in (7, np.array([0.5, -0.6]), 0):
        moved = disk.recenter(u, center)
        np.testing.assert_allclose(disk.pairwise_dist(moved), before, rtol=1e-9, atol=1e-12)
        assert (np.linalg.norm(moved, axis=1) < 1).all()
    assert np.abs(disk.recenter(u, 7)[7]).max() < 1e-15
    np.testing.assert_allclose(disk.mobius_add(-u[3], disk.mobius_add(u[3], u)), u, atol=1e-12)
    with pytest.raises(MmvizError, match="inside the unit disk"):
        disk.recenter(u, np.array([1.0, 0.0]))


@pytest.mark.parametrize("c", [0.1, 1.0, 4.0])
def test_mobius_addition_commutes_with_the_curvature_scaling(c):
    # (√c x) ⊕₁ (√c y) = √c (x ⊕_c y): the unit-disk toolkit draws every curvature.
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-0.6, 0.6, size=(2, 20, 2)) / math.sqrt(c)
    ball = get_geometry("poincare", c).ball
    expected = ball.mobius_add(torch.as_tensor(x), torch.as_tensor(y), project=False).numpy()
    got = np.stack([disk.mobius_add(math.sqrt(c) * x[i], math.sqrt(c) * y[i:i + 1])[0] for i in range(20)])
    np.testing.assert_allclose(got / math.sqrt(c), expected, rtol=1e-12, atol=1e-14)


def test_distances_match_the_torch_manifold():
    u = np.random.default_rng(2).uniform(-0.6, 0.6, size=(30, 2))
    ref = get_geometry("poincare", 1.0).pairwise_dist(torch.as_tensor(u)).numpy()
    np.testing.assert_allclose(disk.pairwise_dist(u), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(disk.dist0(u), get_geometry("poincare").dist0(torch.as_tensor(u)).numpy(),
                               rtol=1e-12)


def test_distances_of_near_points_by_the_rim_match_mpmath():
    mpmath.mp.dps = 60
    a = np.array([[0.999999, 0.0], [0.3, 0.4]])
    b = a + np.array([[0.0, 1e-9], [1e-12, 0.0]])
    got = disk.pairwise_dist(a, b).diagonal()
    for (ax, ay), (bx, by), d in zip(a, b, got):
        ax, ay, bx, by = (mpmath.mpf(float(v)) for v in (ax, ay, bx, by))
        sq = (ax - bx) ** 2 + (ay - by) ** 2
        exact = mpmath.acosh(1 + 2 * sq / ((1 - ax ** 2 - ay ** 2) * (1 - bx ** 2 - by ** 2)))
        assert d == pytest.approx(float(exact), rel=1e-9)


def test_points_on_the_rim_are_infinitely_far_only_when_asked():
    u = np.array([[1.0, 0.0], [0.0, 0.5]])
    assert np.isfinite(disk.pairwise_dist(u)).all()
    d = disk.pairwise_dist(u, boundary="inf")
    assert d[0, 1] == np.inf and d[0, 0] == 0.0 and np.isfinite(d[1, 1])
    with pytest.raises(MmvizError, match="boundary"):
        disk.pairwise_dist(u, boundary="wrap")


def test_geodesic_has_additive_length_and_constant_speed():
    a, b = np.array([0.3, -0.5]), np.array([-0.6, 0.2])
    arc = disk.geodesic(a, b, n=50)
    np.testing.assert_allclose(arc[[0, -1]], [a, b], atol=1e-12)
    steps = disk.pairwise_dist(arc[:-1], arc[1:]).diagonal()
    assert steps.sum() == pytest.approx(disk.pairwise_dist(a[None], b[None])[0, 0], rel=1e-9)
    np.testing.assert_allclose(steps, steps[0], rtol=1e-6)
    with pytest.raises(MmvizError, match="n >= 2"):
        disk.geodesic(a, b, n=1)


@pytest.mark.parametrize("radius", [0.0, 0.5, 3.0])
def test_circle_lies_at_its_hyperbolic_radius(radius):
    center = np.array([0.5, -0.3])
    points = disk.circle(center, radius, n=50)
    assert points.shape == (50, 2)
    np.testing.assert_allclose(points[0], points[-1], atol=1e-14)
    np.testing.assert_allclose(disk.pairwise_dist(center[None], points)[0], radius, atol=1e-9)


def test_circle_rejects_bad_input():
    with pytest.raises(MmvizError, match="2-D center"):
        disk.circle(np.zeros(3), 1.0)
    with pytest.raises(MmvizError, match="radius must be"):
        disk.circle(np.zeros(2), -1.0)


def test_expmap0_and_polar_put_points_at_their_distance():
    w = np.array([[3.0, 4.0], [0.0, 0.0], [80.0, 0.0]])
    np.testing.assert_allclose(disk.dist0(disk.expmap0(w))[:2], [5.0, 0.0], atol=1e-12)
    assert (disk.radius(disk.expmap0(w)) < 1).all()  # 80 rounds onto the rim in float64: kept inside
    p = disk.polar(np.array([2.0, 0.5]), np.array([0.0, math.pi / 2]))
    np.testing.assert_allclose(disk.dist0(p), [2.0, 0.5], rtol=1e-12)
