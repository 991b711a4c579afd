"""The Poincaré disk as it is drawn: numpy float64 maths on the *unit* disk (curvature −1).

Every page that draws a disk (Geometry, Explorer, Hierarchy lab, home) uses these functions and
no other copy. A ball of curvature −c is drawn as the unit disk by scaling coordinates by √c;
Möbius addition commutes with that scaling ((√c x) ⊕₁ (√c y) = √c (x ⊕_c y)), so geodesics,
circles and recentrings computed here in view coordinates are those of the ball of curvature −c.

Rows are points: (N, D) arrays with ‖u‖ < 1 (D = 2 for the drawing helpers). The torch manifolds
in :mod:`mmviz.geometry.manifolds` are for training and measurement (gradients, float32 inputs);
this module is for pictures and read-outs in float64.
"""

from __future__ import annotations

import math

import numpy as np

from mmviz.errors import MmvizError

MAX_RADIUS = 1.0 - 1e-15
"""Largest Euclidean radius a drawn point keeps: float64 rounds points nearer the rim onto it."""


def inside(u: np.ndarray) -> np.ndarray:
    """Rows with ‖u‖ ≥ 1 (rounding) pulled in to :data:`MAX_RADIUS`: (N, D) → (N, D)."""
    r = np.linalg.norm(u, axis=-1, keepdims=True)
    return np.where(r > MAX_RADIUS, u * (MAX_RADIUS / np.maximum(r, 1e-300)), u)


def radius(u: np.ndarray) -> np.ndarray:
    """Euclidean distance of each row from the centre: (N, D) → (N,), float64."""
    return np.linalg.norm(np.asarray(u, np.float64), axis=-1)


def _check_boundary(boundary: str) -> None:
    if boundary not in ("clip", "inf"):
        raise MmvizError(f"boundary must be 'clip' or 'inf', got {boundary!r}")


def dist0(u: np.ndarray, *, boundary: str = "clip") -> np.ndarray:
    """Hyperbolic distance from the centre, 2 artanh‖u‖: (N, D) → (N,). A row on the rim is
    kept at :data:`MAX_RADIUS` (``boundary="clip"``) or is at +inf (``"inf"``), as in
    :func:`pairwise_dist`."""
    _check_boundary(boundary)
    if boundary == "inf":
        with np.errstate(divide="ignore"):
            return 2.0 * np.arctanh(np.minimum(radius(u), 1.0))
    return 2.0 * np.arctanh(np.minimum(radius(u), MAX_RADIUS))


def pairwise_dist(u: np.ndarray, v: np.ndarray | None = None, *, boundary: str = "clip") -> np.ndarray:
    """Hyperbolic distances between rows: (N, D), (M, D) → (N, M), float64.

    2 asinh(‖u − v‖ / √((1 − ‖u‖²)(1 − ‖v‖²))): accurate for near points (the textbook
    arccosh(1 + z) loses all relative accuracy as z → 0). The chord is the direct difference,
    not the Gram form ‖u‖² + ‖v‖² − 2u·v, which cancels for near points.

    ``boundary``: what a row that float64 rounded onto the rim gets. ``"clip"`` keeps it finite
    (drawing); ``"inf"`` puts it at +inf from every other row (the
    collapse that the Hierarchy lab's high-precision construction is there to show).
    """
    _check_boundary(boundary)
    same = v is None
    u = np.asarray(u, np.float64)
    v = u if same else np.asarray(v, np.float64)
    gap_u, gap_v = 1.0 - (u * u).sum(-1), 1.0 - (v * v).sum(-1)
    chord = np.empty((len(u), len(v)))
    for start in range(0, len(u), 512):  # (512, M, D) at a time: bounded memory for large N
        block = u[start:start + 512, None, :] - v[None, :, :]
        chord[start:start + 512] = np.sqrt((block * block).sum(-1))
    # 1 − ‖u‖² floored at 1e-150 (only rows exactly on the rim reach it): the product of two
    # stays ≥ 1e-300, a normal float64, so no 0/0 for two rim points.
    denom = np.sqrt(np.maximum(gap_u, 1e-150)[:, None] * np.maximum(gap_v, 1e-150)[None, :])
    d = 2.0 * np.arcsinh(chord / denom)
    if boundary == "inf":
        d[(gap_u[:, None] <= 0) | (gap_v[None, :] <= 0)] = np.inf
        if same:
            np.fill_diagonal(d, 0.0)
    return d


def _complex(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, np.float64)
    return a[..., 0] + 1j * a[..., 1]


def _real(z: np.ndarray) -> np.ndarray:
    return np.stack([np.real(z), np.imag(z)], axis=-1)


def mobius_add(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Möbius addition a ⊕ z = (a + z) / (1 + ā z) on the unit disk (complex form).

    a: (2,) or (N, 2), z: (N, 2) → (N, 2). The isometry of the disk that takes 0 to a.
    """
    ac, zc = _complex(a), _complex(z)
    return inside(_real((ac + zc) / (1.0 + np.conj(ac) * zc)))


def recenter(points: np.ndarray, center: np.ndarray | int) -> np.ndarray:
    """Möbius-move ``center`` (a point (2,) or a row index) to the origin; distances unchanged.

    points: (N, 2) → (N, 2).
    """
    c = points[int(center)] if np.ndim(center) == 0 else np.asarray(center, np.float64)
    if not np.linalg.norm(c) < 1.0:
        raise MmvizError("the recentring point must lie inside the unit disk")
    return mobius_add(-np.asarray(c, np.float64), points)


def geodesic(a: np.ndarray, b: np.ndarray, n: int = 24) -> np.ndarray:
    """n points on the geodesic from a to b, endpoints included, evenly spaced in hyperbolic
    length: (2,), (2,) → (n, 2).

    Möbius-move a to 0 (w = (b − a)/(1 − ā b)); from 0 the geodesic is the segment to w, at
    hyperbolic fraction t: tanh(t artanh‖w‖) w/‖w‖; then move back with a ⊕ ·.
    """
    if n < 2:
        raise MmvizError(f"a geodesic needs n >= 2 points, got {n}")
    ac, bc = complex(a[0], a[1]), complex(b[0], b[1])
    w = (bc - ac) / (1.0 - np.conj(ac) * bc)
    t = np.linspace(0.0, 1.0, n)
    r = abs(w)
    s = np.tanh(t * np.arctanh(min(r, MAX_RADIUS))) * (w / r) if r > 0 else np.zeros(n, dtype=complex)
    return _real((ac + s) / (1.0 + np.conj(ac) * s))


def circle(center: np.ndarray, hyperbolic_radius: float, n: int = 128) -> np.ndarray:
    """The circle of the given hyperbolic radius (curvature −1) around a 2-D point, closed
    (first point = last): (2,), r ≥ 0 → (n, 2).

    Around the origin it is the Euclidean circle of radius tanh(r/2); the Möbius translation
    center ⊕ · is an isometry taking 0 to ``center``, so it maps that circle onto the wanted one.
    """
    center = np.asarray(center, np.float64)
    if center.shape != (2,):
        raise MmvizError(f"a disk circle needs a 2-D center of shape (2,), got {center.shape}")
    if not (hyperbolic_radius >= 0 and math.isfinite(hyperbolic_radius)):
        raise MmvizError(f"radius must be a finite number >= 0, got {hyperbolic_radius!r}")
    if n < 2:
        raise MmvizError(f"a circle needs n >= 2 points, got {n}")
    theta = np.linspace(0.0, 2.0 * math.pi, n)
    around_origin = math.tanh(hyperbolic_radius / 2.0) * np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    return mobius_add(center, around_origin)


def expmap0(w: np.ndarray) -> np.ndarray:
    """Exponential map at the centre with the Riemannian norm: a tangent vector of length ‖w‖
    lands at Euclidean radius tanh(‖w‖/2). (N, D) → (N, D)."""
    n = np.linalg.norm(w, axis=-1, keepdims=True)
    factor = np.where(n > 0, np.tanh(n / 2.0) / np.maximum(n, 1e-300), 0.5)
    return inside(w * factor)


def lorentz_centroid(u: np.ndarray) -> np.ndarray:
    """The normalised mean on the hyperboloid of unit-disk points, back in the disk:
    (..., k, 2) → (..., 2), the centroid of each group of k."""
    sq = (u * u).sum(-1, keepdims=True)
    a = 1.0 - sq
    m = np.concatenate([(1.0 + sq) / a, 2.0 * u / a], axis=-1).mean(-2)
    m = m / np.sqrt(np.maximum(m[..., :1] ** 2 - (m[..., 1:] ** 2).sum(-1, keepdims=True), 1e-300))
    return m[..., 1:] / (1.0 + m[..., :1])


def polar(distance: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Points at hyperbolic ``distance`` from the centre in direction ``angle`` (radians):
    (N,), (N,) → (N, 2)."""
    r = np.minimum(np.tanh(np.asarray(distance, np.float64) / 2.0), MAX_RADIUS)
    return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=-1)
