"""Figures of the Hierarchy lab: embedded trees on the disk and in the plane, training curves,
the precision/quality trade-off of the construction, and MAP against dimension."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mmviz.geometry.scenes import tree_scene
from mmviz.plots import style
from mmviz.plots.disk import add_lines, disk_figure

GEOMETRY_COLORS = {"Poincaré": style.HYPERBOLIC, "Lorentz": "#7c3aed", "Euclidean": style.EUCLIDEAN}
MAX_ARCS = 3000


def _nodes(fig: go.Figure, pos: np.ndarray, names: Sequence[str], depth: np.ndarray,
           extra: Sequence[str] | None) -> None:
    hover = [f"<b>{n}</b><br>depth {d}" + (f"<br>{e}" if extra is not None else "")
             for n, d, e in zip(names, depth, extra if extra is not None else [""] * len(names))]
    fig.add_trace(go.Scattergl(
        x=pos[:, 0], y=pos[:, 1], mode="markers", name="nodes", showlegend=False,
        marker=dict(size=np.clip(11 - 0.9 * depth, 4, 11), color=depth, colorscale="Viridis", cmin=0,
                    cmax=max(int(depth.max()), 1), line=dict(color="white", width=0.5),
                    colorbar=dict(title="depth", thickness=12, len=0.6)),
        hovertext=hover, hoverinfo="text",
    ))


def hierarchy_disk_figure(points: np.ndarray, edges: np.ndarray, names: Sequence[str], depth: np.ndarray, *,
                          curvature: float = 1.0, title: str = "", height: int = 520,
                          extra: Sequence[str] | None = None) -> go.Figure:
    """Nodes on the Poincaré disk, coloured by depth, edges as geodesic arcs.

    points: (N, 2) ball coordinates (curvature −c); edges: (E, 2) (child, parent); extra: one
    more hover line per node (e.g. its distance from the origin).
    """
    pts = np.asarray(points, dtype=np.float64)
    limit = (1 - 1e-12) / np.sqrt(curvature)  # geodesics need points strictly inside the ball
    norms = np.linalg.norm(pts, axis=1, keepdims=True)
    pts = np.where(norms > limit, pts / np.maximum(norms, 1e-300) * limit, pts)
    shown = np.asarray(edges)[:MAX_ARCS]
    pos, arcs, grid = tree_scene(pts, shown, curvature, n=16)
    fig = disk_figure(title, height=height, grid=grid)
    add_lines(fig, arcs, color="rgba(67, 56, 202, 0.35)", width=1.0, name="edges (geodesic arcs)",
              showlegend=True)
    _nodes(fig, pos, names, np.asarray(depth), extra)
    fig.update_layout(legend=dict(orientation="h", y=-0.02, x=0.5, xanchor="center"))
    return fig


def hierarchy_plane_figure(points: np.ndarray, edges: np.ndarray, names: Sequence[str], depth: np.ndarray, *,
                           title: str = "", height: int = 520, extra: Sequence[str] | None = None) -> go.Figure:
    """Nodes in the Euclidean plane, coloured by depth, edges as straight segments, equal aspect."""
    pts = np.asarray(points, dtype=np.float64)
    fig = go.Figure()
    add_lines(fig, [pts[[c, p]] for c, p in np.asarray(edges)[:MAX_ARCS]], color="rgba(234, 88, 12, 0.35)",
              width=1.0, name="edges (straight)", showlegend=True)
    _nodes(fig, pts, names, np.asarray(depth), extra)
    lim = float(np.abs(pts).max() * 1.08 + 1e-9)
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.02), height=height,
        xaxis=dict(range=[-lim, lim], title="x₁", constrain="domain", gridcolor="#eee"),
        yaxis=dict(range=[-lim, lim], title="x₂", scaleanchor="x", scaleratio=1, gridcolor="#eee"),
        legend=dict(orientation="h", y=-0.12, x=0.5, xanchor="center"),
    ))
    return fig


def curves_figure(curves: pd.DataFrame, metric: str, title: str, y_title: str, height: int = 300) -> go.Figure:
    """One line per run of ``metric`` against the step. curves: rows (label, geometry, step, name, value)."""
    fig = go.Figure()
    for label, part in curves[curves["name"] == metric].groupby("label", sort=False):
        geometry = part["geometry"].iloc[0]
        fig.add_trace(go.Scatter(x=part["step"], y=part["value"], mode="lines+markers", name=str(label),
                                 marker=dict(size=4), line=dict(color=GEOMETRY_COLORS.get(geometry), width=2),
                                 hovertemplate=f"{label}<br>step %{{x}}<br>{y_title} %{{y:.4g}}<extra></extra>"))
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.02), height=height,
        xaxis=dict(title="step", gridcolor="#eee"), yaxis=dict(title=y_title, gridcolor="#eee"),
        legend=dict(orientation="h", y=-0.3, x=0.5, xanchor="center"),
    ))
    return fig


def precision_figure(sweep: pd.DataFrame, height: int = 360) -> go.Figure:
    """MAP on the direct edges against the scale τ, float64 vs high precision (bits in the hover)."""
    fig = go.Figure()
    colors = {"float64": style.EUCLIDEAN, "high (mpmath)": style.HYPERBOLIC}
    for precision, part in sweep.groupby("precision", sort=False):
        fig.add_trace(go.Scatter(
            x=part["tau"], y=part["map_edges"], mode="lines+markers", name=f"{precision}",
            line=dict(color=colors.get(precision), width=3, dash="dash" if precision == "float64" else "solid"),
            customdata=np.stack([part["bits"], part["collapsed"], part["map_closure"]], axis=1),
            hovertemplate=(f"{precision}<br>τ = %{{x:.2f}}<br>MAP (edges) = %{{y:.4f}}<br>"
                           "MAP (closure) = %{customdata[2]:.3f}<br>%{customdata[0]} bits, "
                           "%{customdata[1]} nodes on the rim<extra></extra>"),
        ))
    fig.add_hline(y=0.989, line=dict(color="#6b7280", dash="dot"),
                  annotation_text="Sala et al. 2018: 0.989 on WordNet, 2-D", annotation_position="bottom right")
    fig.update_layout(**style.base_layout(
        title=dict(text="Precision vs quality: MAP on the direct edges against the scale τ", x=0.02),
        height=height, xaxis=dict(title="scale factor τ (length of every edge)", gridcolor="#eee"),
        yaxis=dict(title="MAP (direct edges)", range=[0, 1.02], gridcolor="#eee"),
        legend=dict(orientation="h", y=-0.25, x=0.5, xanchor="center"),
    ))
    return fig


def dimension_figure(by_dim: pd.DataFrame, reference: pd.DataFrame | None = None, height: int = 360) -> go.Figure:
    """Closure MAP against the embedding dimension, one line per geometry (runs in the store),
    plus dotted reference lines (e.g. the benchmark's measured numbers) if given."""
    fig = go.Figure()
    for geometry, part in by_dim.groupby("geometry", sort=False):
        fig.add_trace(go.Scatter(
            x=part["dim"], y=part["map_closure"], mode="lines+markers", name=f"{geometry} (your runs)",
            line=dict(color=GEOMETRY_COLORS.get(geometry), width=3), marker=dict(size=9),
            hovertemplate=f"{geometry}<br>dim %{{x}}<br>MAP (closure) %{{y:.3f}}<extra></extra>"))
    if reference is not None and len(reference):
        for geometry, part in reference.groupby("geometry", sort=False):
            fig.add_trace(go.Scatter(
                x=part["dim"], y=part["map_closure"], mode="lines+markers", name=f"{geometry} (benchmark)",
                line=dict(color=GEOMETRY_COLORS.get(geometry), width=1.5, dash="dot"), marker=dict(size=6),
                hovertemplate=f"{geometry} benchmark<br>dim %{{x}}<br>MAP (closure) %{{y:.3f}}<extra></extra>"))
    fig.update_layout(**style.base_layout(
        title=dict(text="Closure MAP against dimension", x=0.02), height=height,
        xaxis=dict(title="embedding dimension", type="log", tickvals=[2, 5, 10, 20, 50], gridcolor="#eee"),
        yaxis=dict(title="MAP (closure)", range=[0, 1.02], gridcolor="#eee"),
        legend=dict(orientation="h", y=-0.25, x=0.5, xanchor="center"),
    ))
    return fig
