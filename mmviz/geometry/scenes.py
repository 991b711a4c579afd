"""What the Geometry page draws on the Poincaré disk, computed with :mod:`mmviz.geometry.disk`.

Everything is returned in *unit-disk* coordinates (ball coordinates × √c), so the picture is
always the unit disk whatever the curvature; distances are measured in the ball of curvature −c.
A recentring (the Möbius isometry that sends a chosen point to the origin) is applied to every
drawn object alike — the picture changes, the distances do not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from mmviz.geometry import disk


def polar_to_disk(radius_frac: np.ndarray, angle_deg: np.ndarray) -> np.ndarray:
    """(K,) fractions of the disk radius in [0, 1) and angles in degrees → (K, 2) unit-disk points."""
    a = np.deg2rad(angle_deg)
    return np.stack([radius_frac * np.cos(a), radius_frac * np.sin(a)], axis=1)


def _view(unit: np.ndarray, center: np.ndarray | None) -> np.ndarray:
    """(N, 2) unit-disk points as drawn: Möbius-moved so that ``center`` (unit disk) is the origin."""
    return unit if center is None else disk.recenter(unit, center)


def grid_lines(center: np.ndarray | None = None, n_rays: int = 12, radii=(1.0, 2.0, 3.0),
               n: int = 240) -> list[np.ndarray]:
    """The faint geodesic grid: ``n_rays`` diameters and hyperbolic circles of the given radii
    (in units of 1/√c) around the origin, each an (n, 2) polyline in view coordinates."""
    lines = []
    t = np.linspace(-1, 1, n)
    for k in range(n_rays // 2):
        a = np.pi * k / (n_rays // 2)
        # a diameter, sampled evenly in hyperbolic length out to radius 6/√c
        lines.append(_view(disk.polar(np.abs(6.0 * t), np.where(t < 0, a + np.pi, a)), center))
    for r in radii:
        lines.append(_view(disk.circle(np.zeros(2), r, n), center))
    return lines


@dataclass
class DistanceScene:
    """Points, the geodesics and chords between them, circles around them, the grid, and a
    distance table with one row per pair. Arrays are (n, 2) polylines in view coordinates."""

    labels: list[str]
    points: np.ndarray
    geodesics: list[np.ndarray] = field(default_factory=list)
    chords: list[np.ndarray] = field(default_factory=list)
    circles: list[np.ndarray] = field(default_factory=list)
    grid: list[np.ndarray] = field(default_factory=list)
    table: pd.DataFrame | None = None


def distance_scene(unit_points: np.ndarray, labels: list[str], curvature: float, circle_radius: float,
                   recenter: int | None = None) -> DistanceScene:
    """The Geometry page's first panel.

    unit_points: (K, 2) positions chosen in the (un-recentred) unit disk, norms < 1.
    circle_radius: hyperbolic radius of the circle drawn around each point (ball units).
    recenter: index of the point to move to the centre, or None.
    """
    unit = np.asarray(unit_points, np.float64)
    sqrt_c = math.sqrt(curvature)
    center = unit[recenter] if recenter is not None else None
    view = _view(unit, center)
    scene = DistanceScene(labels=list(labels), points=view, grid=grid_lines(center))
    rows = []
    for i, j in combinations(range(len(unit)), 2):
        scene.geodesics.append(_view(disk.geodesic(unit[i], unit[j], 96), center))
        scene.chords.append(view[[i, j]])
        rows.append({
            "pair": f"{labels[i]}–{labels[j]}",
            "hyperbolic": float(disk.pairwise_dist(unit[i:i + 1], unit[j:j + 1])[0, 0]) / sqrt_c,
            "Euclidean (drawn)": float(np.linalg.norm(view[i] - view[j])),
        })
    for i in range(len(unit)):
        scene.circles.append(_view(disk.circle(unit[i], circle_radius * sqrt_c, 128), center))
    table = pd.DataFrame(rows)
    table["ratio"] = table["hyperbolic"] / table["Euclidean (drawn)"].clip(lower=1e-12)
    scene.table = table
    return scene


def tree_scene(layout: np.ndarray, edges: np.ndarray, curvature: float, recenter: int | None = None,
               n: int = 32) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """A tree laid out in the ball: (N, 2) node positions, edges as geodesic arcs, and the grid,
    all in view coordinates, optionally recentred on node ``recenter``.

    layout: (N, 2) ball coordinates; edges: (E, 2) (child, parent) indices.
    """
    unit = np.asarray(layout, np.float64) * math.sqrt(curvature)
    center = unit[recenter] if recenter is not None else None
    view = _view(unit, center)
    # A Möbius map takes geodesics to geodesics, so each arc is sampled between its drawn
    # endpoints, with points in proportion to its drawn length: the many short arcs near the rim
    # are near-straight and get 2 to 4 points, not n (a mammal tree's JSON shrinks about 4×).
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    chords = np.linalg.norm(view[edges[:, 0]] - view[edges[:, 1]], axis=1)
    counts = np.clip(np.ceil(chords * n).astype(int) + 1, 2, n)
    arcs = [disk.geodesic(view[c], view[p], int(k)) for (c, p), k in zip(edges, counts)]
    return view, arcs, grid_lines(center)


def distances_from(points: np.ndarray, curvature: float, index: int | None = None) -> np.ndarray:
    """(N,) hyperbolic distance of each ball point from point ``index`` (the origin if None)."""
    unit = np.asarray(points, np.float64) * math.sqrt(curvature)
    if index is None:
        return disk.dist0(unit) / math.sqrt(curvature)
    return disk.pairwise_dist(unit, unit[index:index + 1])[:, 0] / math.sqrt(curvature)
