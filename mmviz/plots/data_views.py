"""Figures for the Data page: Gaussian pairs and spectrum, hierarchies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mmviz.plots import style


def canonical_pairs_figure(a: np.ndarray, b: np.ndarray, rhos: Sequence[float], labels=None,
                           max_points: int = 1500) -> go.Figure:
    """Scatter of the i-th canonical variate of u against that of v, one panel per pair.

    a, b: (N, k) canonical variates of u and v; rhos: (k,) population canonical correlations.
    """
    k = a.shape[1]
    n = min(len(a), max_points)
    fig = make_subplots(rows=1, cols=k, subplot_titles=[f"pair {i + 1}: ρ = {r:.2f}" for i, r in enumerate(rhos)],
                        horizontal_spacing=0.06)
    color = None if labels is None else np.asarray(labels)[:n]
    for i in range(k):
        fig.add_trace(go.Scattergl(
            x=a[:n, i], y=b[:n, i], mode="markers",
            marker=dict(size=4, opacity=0.5, color=color if color is not None else style.HYPERBOLIC,
                        colorscale="Turbo" if color is not None else None),
            hovertext=[f"sample {j}" for j in range(n)], hoverinfo="text+x+y", showlegend=False,
        ), row=1, col=i + 1)
        fig.update_xaxes(title_text=f"u · a{i + 1}", row=1, col=i + 1, gridcolor="#eee")
        fig.update_yaxes(title_text=f"v · b{i + 1}", row=1, col=i + 1, gridcolor="#eee",
                         scaleanchor=f"x{i + 1 if i else ''}", scaleratio=1)
    fig.update_layout(**style.base_layout(title=dict(text="Canonical variates: u against v", x=0.01), height=400,
                                          margin=dict(l=10, r=10, t=80, b=10)))
    return fig


def spectrum_figure(true_rho: Sequence[float], sample_rho: Sequence[float]) -> go.Figure:
    """Bar chart of the population canonical correlations beside the sample's."""
    idx = [str(i + 1) for i in range(len(true_rho))]
    fig = go.Figure([
        go.Bar(x=idx, y=list(true_rho), name="population (exact)", marker_color=style.HYPERBOLIC),
        go.Bar(x=idx, y=list(sample_rho)[:len(idx)], name="this sample", marker_color=style.EUCLIDEAN),
    ])
    fig.update_layout(**style.base_layout(
        title=dict(text="Canonical-correlation spectrum", x=0.01), height=340, barmode="group",
        legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
        xaxis=dict(title="canonical pair"), yaxis=dict(title="correlation ρ", range=[0, 1], gridcolor="#eee"),
    ))
    return fig


def hierarchy_sunburst(ids: Sequence[str], names: Sequence[str], parent_of: Sequence[int], depth: np.ndarray,
                       max_nodes: int = 3000) -> go.Figure:
    """A hierarchy as a sunburst (a spanning tree: one parent per node); the root in the middle.

    parent_of: (N,) parent index per node, −1 for the root.
    """
    keep = np.argsort(depth, kind="stable")[:max_nodes]
    kept = set(keep.tolist())
    fig = go.Figure(go.Sunburst(
        ids=[ids[i] for i in keep], labels=[names[i] for i in keep],
        parents=["" if parent_of[i] < 0 or parent_of[i] not in kept else ids[parent_of[i]] for i in keep],
        hovertext=[f"{names[i]} ({ids[i]}), depth {depth[i]}" for i in keep], hoverinfo="text",
        maxdepth=4, insidetextorientation="radial",
        marker=dict(colors=[int(depth[i]) for i in keep], colorscale="Viridis", cmin=0, cmax=int(depth.max()) + 1),
    ))
    fig.update_layout(**style.base_layout(title=dict(text="The hierarchy (click a wedge to zoom in)", x=0.01),
                                          height=560, margin=dict(l=5, r=5, t=50, b=5)))
    return fig


def depth_histogram(depth: np.ndarray) -> go.Figure:
    """Number of nodes at each depth."""
    values, counts = np.unique(depth, return_counts=True)
    fig = go.Figure(go.Bar(x=values, y=counts, marker_color=style.HYPERBOLIC,
                           hovertemplate="depth %{x}: %{y} nodes<extra></extra>"))
    fig.update_layout(**style.base_layout(title=dict(text="Nodes per depth", x=0.01), height=300,
                                          xaxis=dict(title="depth", dtick=1),
                                          yaxis=dict(title="nodes", gridcolor="#eee")))
    return fig


def level_counts_figure(table: pd.DataFrame) -> go.Figure:
    """Distinct captions per level (how many images each one entails)."""
    fig = go.Figure(go.Bar(x=table["level"].astype(str), y=table["captions"], marker_color=style.HYPERBOLIC,
                           text=table["captions"], textposition="inside", insidetextfont=dict(color="white"),
                           hovertemplate="level %{x}: %{y} distinct captions<extra></extra>"))
    fig.update_layout(**style.base_layout(title=dict(text="Distinct captions per level", x=0.01), height=300,
                                          xaxis=dict(title="caption level (attributes named)"),
                                          yaxis=dict(title="distinct captions", type="log", gridcolor="#eee")))
    return fig
