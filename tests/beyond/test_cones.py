"""Cone membership against Ganea et al.'s formulas written out by hand, and the study's fractions."""

from types import SimpleNamespace

import numpy as np
import torch

from mmviz.beyond.common import cone_membership, disk_layout
from mmviz.beyond.unlearning import cone_fractions
from mmviz.geometry import get_geometry

K = 0.1


def _hand_in_cone(x: np.ndarray, y: np.ndarray) -> bool:
    """Ganea et al. 2018 on the unit Poincaré ball: y is in x's cone iff Ξ(x, y) ≤ ψ(x)."""
    nx2, ny2, dot = x @ x, y @ y, x @ y
    psi = np.arcsin(min(1.0, K * (1 - nx2) / np.sqrt(nx2)))
    num = dot * (1 + nx2) - nx2 * (1 + ny2)
    den = np.sqrt(nx2) * np.linalg.norm(x - y) * np.sqrt(1 + nx2 * ny2 - 2 * dot)
    xi = np.arccos(np.clip(num / den, -1, 1))
    return bool(xi <= psi)


def _model(geometry: str = "poincare"):
    return SimpleNamespace(geometry=lambda: get_geometry(geometry, 1.0), config=SimpleNamespace(min_radius=K))


def test_membership_matches_the_hand_formula_and_the_obvious_cases():
    apexes = np.array([[0.5, 0.0], [0.0, 0.4]])
    points = np.array([[0.8, 0.0], [0.7, 0.02], [0.6, 0.2], [0.3, 0.0], [0.0, 0.9], [0.05, 0.7]])
    member = cone_membership(_model(), torch.tensor(apexes, dtype=torch.float64),
                             torch.tensor(points, dtype=torch.float64))
    hand = np.array([[_hand_in_cone(a, p) for a in apexes] for p in points])
    np.testing.assert_array_equal(member, hand)
    # straight out along the apex's ray: inside; back towards the origin: outside
    assert member[0, 0] and member[4, 1] and not member[3, 0] and not member[0, 1]
    # ψ(0.5) = asin(0.1 · 0.75 / 0.5) = asin(0.15) ≈ 0.151 rad: (0.7, 0.02) is close to the ray, inside;
    # (0.6, 0.2) is far off it, outside
    assert member[1, 0] and not member[2, 0]


def test_fractions_of_a_hand_membership_matrix():
    member = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=bool)  # 4 images, 3 values' cones
    assert cone_fractions(member, 0) == {"in_own_cone": 0.5, "in_other_cone": 0.5}
    assert cone_fractions(member, 2) == {"in_own_cone": 0.25, "in_other_cone": 0.5}


def test_disk_layout_puts_distance_on_the_radius():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(20, 5))
    depth = rng.uniform(0.1, 3.0, 20)
    xy = disk_layout(vectors, depth, hyperbolic=True)
    np.testing.assert_allclose(np.linalg.norm(xy, axis=1), np.tanh(depth / 2))
    flat = disk_layout(vectors, depth, hyperbolic=False)
    radius = np.linalg.norm(flat, axis=1)
    assert np.isclose(radius.min(), 0.15) and np.isclose(radius.max(), 0.95)
    assert (np.argsort(radius) == np.argsort(depth)).all()
