"""What the Geometry page draws on the Poincaré disk, computed through :mod:`mmviz.geometry`.

Everything is returned in *unit-disk* coordinates (ball coordinates × √c), so the picture is
always the unit disk whatever the curvature; distances are measured in the ball of curvature −c.
A recentring (the Möbius isometry that sends a chosen point to the origin) is applied to every
drawn object alike — the picture changes, the distances do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
import torch

from mmviz.geometry import get_geometry


def polar_to_disk(radius_frac: np.ndarray, angle_deg: np.ndarray) -> np.ndarray:
    """(K,) fractions of the disk radius in [0, 1) and angles in degrees → (K, 2) unit-disk points."""
    a = np.deg2rad(angle_deg)
    return np.stack([radius_frac * np.cos(a), radius_frac * np.sin(a)], axis=1)


class DiskFrame:
    """The ball of curvature −c seen as the unit disk, optionally recentred on a point.

    ``to_view`` maps ball coordinates to what is drawn: recentre, then scale by √c.
    """

    def __init__(self, curvature: float, center: np.ndarray | None = None) -> None:
        self.geometry = get_geometry("poincare", curvature)
        self.scale = float(np.sqrt(curvature))
        self.center = None if center is None else torch.as_tensor(center, dtype=torch.float64)

    def from_unit(self, p: np.ndarray) -> torch.Tensor:
        """(…, 2) unit-disk coordinates → ball coordinates (float64 tensor)."""
        return torch.as_tensor(np.asarray(p, dtype=np.float64) / self.scale)

    def to_view(self, x: torch.Tensor) -> np.ndarray:
        """(…, 2) ball coordinates → (…, 2) drawn unit-disk coordinates."""
        if self.center is not None:
            x = self.geometry.mobius_recenter(x, self.center.expand_as(x))
        return (x * self.scale).numpy()


def grid_lines(frame: DiskFrame, n_rays: int = 12, radii=(1.0, 2.0, 3.0), n: int = 240) -> list[np.ndarray]:
    """The faint geodesic grid: ``n_rays`` diameters and hyperbolic circles of the given radii
    (in units of 1/√c) around the origin, each an (n, 2) polyline in view coordinates."""
    geo, lines = frame.geometry, []
    t = np.linspace(-1, 1, n)[:, None]
    for k in range(n_rays // 2):
        a = np.pi * k / (n_rays // 2)
        # a diameter, sampled evenly in hyperbolic length out to radius 6/√c
        direction = torch.tensor([np.cos(a), np.sin(a)], dtype=torch.float64)
        pts = geo.expmap0(torch.as_tensor(t * 6.0 / frame.scale) * direction)
        lines.append(frame.to_view(pts))
    origin = torch.zeros(2, dtype=torch.float64)
    for r in radii:
        lines.append(frame.to_view(geo.circle_points(origin, r / frame.scale, n)))
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
    base = DiskFrame(curvature)
    x = base.from_unit(unit_points)
    frame = DiskFrame(curvature, x[recenter] if recenter is not None else None)
    geo = frame.geometry
    view = frame.to_view(x)
    scene = DistanceScene(labels=list(labels), points=view, grid=grid_lines(frame))
    rows = []
    for i, j in combinations(range(len(x)), 2):
        scene.geodesics.append(frame.to_view(geo.geodesic_points(x[i], x[j], 96)))
        scene.chords.append(view[[i, j]])
        rows.append({
            "pair": f"{labels[i]}–{labels[j]}",
            "hyperbolic": float(geo.dist(x[i], x[j])),
            "Euclidean (drawn)": float(np.linalg.norm(view[i] - view[j])),
        })
    for i in range(len(x)):
        scene.circles.append(frame.to_view(geo.circle_points(x[i], circle_radius, 128)))
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
    x = torch.as_tensor(layout, dtype=torch.float64)
    frame = DiskFrame(curvature, x[recenter] if recenter is not None else None)
    arcs = [frame.to_view(frame.geometry.geodesic_points(x[c], x[p], n)) for c, p in edges]
    return frame.to_view(x), arcs, grid_lines(frame)


def distances_from(points: np.ndarray, curvature: float, index: int | None = None) -> np.ndarray:
    """(N,) hyperbolic distance of each ball point from point ``index`` (the origin if None)."""
    geo = get_geometry("poincare", curvature)
    x = torch.as_tensor(points, dtype=torch.float64)
    if index is None:
        return geo.dist0(x).numpy()
    return geo.dist(x, x[index].expand_as(x)).numpy()
