"""Figures on the Poincaré disk (unit-disk coordinates) and in the Euclidean plane."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mmviz.plots import style


def _joined(lines: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Many (n, 2) polylines → one x and one y array, each line ended by NaN (a gap: one trace
    draws them all). float32 arrays travel as compact typed arrays in the figure's JSON, so a
    tree of a thousand geodesic arcs costs the browser a fraction of what lists of floats did."""
    lines = [np.asarray(line, dtype=np.float32).reshape(-1, 2) for line in lines]
    if not lines:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    gap = np.full((1, 2), np.nan, dtype=np.float32)
    joined = np.concatenate([part for line in lines for part in (line, gap)])
    return joined[:, 0], joined[:, 1]


def add_lines(fig: go.Figure, lines: Sequence[np.ndarray], *, color: str, width: float = 1.5,
              dash: str = "solid", name: str = "", showlegend: bool = False, **kw) -> go.Figure:
    """Draw polylines as one trace."""
    xs, ys = _joined(lines)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=color, width=width, dash=dash),
                             name=name, showlegend=showlegend, hoverinfo="skip", **kw))
    return fig


def disk_figure(title: str | None = None, height: int = 560, grid: Sequence[np.ndarray] = ()) -> go.Figure:
    """An empty Poincaré disk: the boundary circle, a faint geodesic grid, equal aspect, no axes."""
    fig = go.Figure()
    t = np.linspace(0, 2 * np.pi, 361)
    fig.add_trace(go.Scatter(x=np.cos(t), y=np.sin(t), mode="lines", line=dict(color=style.BOUNDARY, width=2),
                             name="boundary (infinitely far)", hoverinfo="skip", showlegend=False))
    if len(grid):
        add_lines(fig, grid, color=style.GRID, width=1)
    axis = dict(range=[-1.06, 1.06], visible=False, fixedrange=False)
    fig.update_layout(**style.base_layout(
        title=dict(text=title or "", x=0.02), height=height,
        xaxis=dict(axis, constrain="domain"), yaxis=dict(axis, scaleanchor="x", scaleratio=1),
    ))
    return fig


def add_points(fig: go.Figure, pts: np.ndarray, labels: Sequence[str], *, colors: Sequence[str] | str,
               hover: Sequence[str] | None = None, size: int = 13, name: str = "points",
               text_position: str = "top center", showlegend: bool = False) -> go.Figure:
    """Labelled markers; ``hover`` gives each point's hover text."""
    fig.add_trace(go.Scatter(
        x=pts[:, 0], y=pts[:, 1], mode="markers+text", text=list(labels), textposition=text_position,
        textfont=dict(size=14), marker=dict(size=size, color=colors, line=dict(color="white", width=1.5)),
        hovertext=list(hover) if hover is not None else list(labels), hoverinfo="text", name=name,
        showlegend=showlegend,
    ))
    return fig


def distance_figure(scene, title: str = "") -> go.Figure:
    """The distances panel: grid, hyperbolic circles, Euclidean chords, geodesic arcs, points."""
    fig = disk_figure(title, grid=scene.grid)
    add_lines(fig, scene.circles, color="rgba(219, 39, 119, 0.55)", width=1.5, dash="dot",
              name="hyperbolic circle of radius ρ", showlegend=True)
    add_lines(fig, scene.chords, color=style.EUCLIDEAN, width=2, dash="dash",
              name="straight chord (Euclidean)", showlegend=True)
    add_lines(fig, scene.geodesics, color=style.HYPERBOLIC, width=3, name="geodesic (hyperbolic)",
              showlegend=True)
    norms = np.linalg.norm(scene.points, axis=1)
    hover = [f"{lab}<br>drawn at ({p[0]:.3f}, {p[1]:.3f}), |x| = {r:.4f}"
             for lab, p, r in zip(scene.labels, scene.points, norms)]
    colors = [style.POINT_COLORS[i % len(style.POINT_COLORS)] for i in range(len(scene.labels))]
    return add_points(fig, scene.points, scene.labels, colors=colors, hover=hover)


def tree_disk_figure(pos: np.ndarray, arcs: Sequence[np.ndarray], grid: Sequence[np.ndarray],
                     labels: Sequence[str], depth: np.ndarray, *, title: str = "", show_labels: bool = False,
                     highlight: Sequence[int] = (), height: int = 460) -> go.Figure:
    """A tree in the disk: edges as geodesic arcs, nodes coloured by depth, a highlighted path."""
    fig = disk_figure(title, height=height, grid=grid)
    add_lines(fig, arcs, color="rgba(67, 56, 202, 0.55)", width=1.2)
    _add_tree_nodes(fig, pos, labels, depth, show_labels, highlight)
    return fig


def tree_plane_figure(pos: np.ndarray, edges: np.ndarray, labels: Sequence[str], depth: np.ndarray, *,
                      title: str = "", show_labels: bool = False, height: int = 460) -> go.Figure:
    """The same tree in the Euclidean plane, straight edges, equal aspect."""
    fig = go.Figure()
    add_lines(fig, [pos[[c, p]] for c, p in edges], color="rgba(234, 88, 12, 0.55)", width=1.2)
    _add_tree_nodes(fig, pos, labels, depth, show_labels, ())
    lim = float(np.abs(pos).max() * 1.08 + 1e-9)
    axis = dict(range=[-lim, lim], visible=False)
    fig.update_layout(**style.base_layout(title=dict(text=title, x=0.02), height=height,
                                          xaxis=dict(axis, constrain="domain"),
                                          yaxis=dict(axis, scaleanchor="x", scaleratio=1)))
    return fig


def _add_tree_nodes(fig, pos, labels, depth, show_labels, highlight) -> None:
    fig.add_trace(go.Scatter(
        x=pos[:, 0], y=pos[:, 1], mode="markers+text" if show_labels else "markers",
        text=list(labels) if show_labels else None, textposition="top center",
        marker=dict(size=np.clip(12 - 1.6 * depth, 4, 12), color=depth, colorscale="Viridis",
                    cmin=0, cmax=max(int(depth.max()), 1), line=dict(color="white", width=0.5),
                    showscale=False),
        hovertext=[f"{lab} (depth {d})" for lab, d in zip(labels, depth)], hoverinfo="text",
        showlegend=False, name="nodes",
    ))
    if len(highlight):
        idx = list(highlight)
        fig.add_trace(go.Scatter(
            x=pos[idx, 0], y=pos[idx, 1], mode="lines+markers",
            line=dict(color="#db2777", width=3), marker=dict(size=12, color="#db2777"),
            hovertext=[f"{labels[i]} (depth {depth[i]})" for i in idx], hoverinfo="text",
            name="generic → specific", showlegend=True,
        ))


def room_figure(room: pd.DataFrame, branching: int) -> go.Figure:
    """Log-scale counts: nodes per depth (b^k) vs circle length in both geometries (depth ≥ 1)."""
    room = room[room["depth"] >= 1]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=room["depth"], y=room["nodes"], mode="lines+markers",
                             name=f"nodes at depth k = {branching}^k", line=dict(color="#059669", width=3)))
    fig.add_trace(go.Scatter(x=room["depth"], y=room["hyperbolic circle length"], mode="lines+markers",
                             name="hyperbolic circle length ~ e^r", line=dict(color=style.HYPERBOLIC, width=3)))
    fig.add_trace(go.Scatter(x=room["depth"], y=room["Euclidean circle length"],
                             mode="lines+markers", name="Euclidean circle length ~ r",
                             line=dict(color=style.EUCLIDEAN, width=3, dash="dash")))
    fig.update_layout(**style.base_layout(
        title=dict(text="Room at radius r = depth vs nodes to place", x=0.02), height=360,
        xaxis=dict(title="depth k (= radius r)", dtick=1, gridcolor="#eee"),
        yaxis=dict(title="count / length (log scale)", type="log", gridcolor="#eee"),
        legend=dict(orientation="v", y=0.5, x=1.02, yanchor="middle", xanchor="left"),
        margin=dict(l=10, r=10, t=50, b=10),
    ))
    return fig
