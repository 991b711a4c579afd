"""Figures of the R/U/S studies (CoMM): probe accuracies per method beside the paper's or beside
chance, probe accuracies over training steps, and the three-modality study's tones. Pure
functions of plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mmviz.plots import style

INTERACTIONS = ("R", "U", "S")
TITLES = {"R": "Redundancy R (shape)", "U": "Uniqueness U (texture of image 1)",
          "S": "Synergy S (mapping holds)"}
CHANCE_PERCENT = {"R": 10.0, "U": 10.0, "S": 50.0}
METHOD_COLORS = {"Cross": style.EUCLIDEAN, "Cross+Self": "#059669", "FactorCL": style.MUTED,
                 "CoMM": style.HYPERBOLIC, "CoMM (two-view term only)": "#0891b2",
                 "Pairwise": style.EUCLIDEAN, "Anchor": "#059669",
                 "CoMM n = 3 (two-view term only)": "#0891b2", "CoMM n = 3 (no tone term)": "#db2777",
                 "CoMM n = 3 + pair views": "#7c3aed"}
INTERACTIONS3 = ("R", "U1", "U2", "U3", "S1", "S2")
TITLES3 = {"R": "R: shape = pitch (all three)", "U1": "U1: texture of image 1", "U2": "U2: texture of image 2",
           "U3": "U3: rhythm of the tone", "S1": "S1: images 1 + 2 together", "S2": "S2: all three together"}
CHANCE3 = {"R": 10.0, "U1": 10.0, "U2": 10.0, "U3": 10.0, "S1": 50.0, "S2": 50.0}


def _color(label: str) -> str:
    for name, color in sorted(METHOD_COLORS.items(), key=lambda kv: -len(kv[0])):
        if label.startswith(name):
            return color
    return style.POINT_COLORS[sum(map(ord, label)) % len(style.POINT_COLORS)]


def rus_bars(measured: Mapping[str, Mapping[str, float | None]],
             paper: Mapping[str, Mapping[str, float]], height: int = 430,
             keys: Sequence[str] = INTERACTIONS, titles: Mapping[str, str] = TITLES,
             chance: Mapping[str, float] = CHANCE_PERCENT,
             title: str = "Linear-probe accuracy: measured here vs the CoMM paper",
             xaxis_title: str = "interaction (probe)", suffix: str = " (here)") -> go.Figure:
    """Grouped bars of probe accuracy (%) per interaction in ``keys`` (R, U, S by default): each
    method measured here (solid) and as the paper reports it (hatched; ``paper`` may be empty),
    with each interaction's chance level drawn as a dashed line across its group.
    ``measured``: label → {key: %} (None = not run); ``suffix`` follows each measured label."""
    keys = tuple(keys)
    # an empty trace first fixes the categories (and their tick labels) when there are no bars yet
    fig = go.Figure(go.Bar(x=list(keys), y=[None] * len(keys), showlegend=False, hoverinfo="skip",
                           name="categories"))
    for label, values in paper.items():
        fig.add_trace(go.Bar(
            x=list(keys), y=[values[k] for k in keys], name=f"{label} (paper)",
            marker=dict(color="white", line=dict(color=_color(label), width=2), pattern=dict(
                shape="/", fgcolor=_color(label), size=6)),
            hovertemplate=f"{label}, CoMM paper<br>%{{x}}: %{{y:.1f}}%<extra></extra>",
            text=[f"{values[k]:.0f}" for k in keys], textposition="outside", cliponaxis=False))
    for label, values in measured.items():
        ys = [values.get(k) for k in keys]
        fig.add_trace(go.Bar(
            x=list(keys), y=ys, name=f"{label}{suffix}", marker=dict(color=_color(label)),
            hovertemplate=f"{label}, measured here<br>%{{x}}: %{{y:.1f}}%<extra></extra>",
            text=["" if y is None else f"{y:.0f}" for y in ys], textposition="outside", cliponaxis=False))
    for i, k in enumerate(keys):
        level = chance[k]
        fig.add_shape(type="line", x0=i - 0.42, x1=i + 0.42, y0=level, y1=level, xref="x", yref="y",
                      line=dict(color=style.BOUNDARY, dash="dash", width=2))
        # In the gap after the group, on two lines: one line ran into the next group's bars.
        fig.add_annotation(x=i + 0.5, y=level, text=f"chance<br>{level:.0f}%", showarrow=False,
                           xanchor="center", yanchor="middle", font=dict(size=11, color=style.BOUNDARY))
    fig.update_layout(**style.base_layout(
        barmode="group", height=height, bargap=0.18, bargroupgap=0.04,
        title=dict(text=title, x=0.01),
        xaxis=dict(title=xaxis_title, tickvals=list(keys),
                   range=[-0.5, len(keys) - 0.38],  # room for the last chance label
                   ticktext=[titles[k] for k in keys]),
        yaxis=dict(title="balanced accuracy (%)", range=[0, 112], gridcolor=style.GRID),
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="center", x=0.5),
        margin=dict(l=10, r=10, t=50, b=110),
    ))
    return fig


def rus_curves(curves: Sequence[tuple[str, pd.DataFrame]], keys: Sequence[str] = INTERACTIONS,
               title: str = "Probe accuracy over training", height: int = 360,
               dashed: Sequence[bool] | None = None, titles: Mapping[str, str] = TITLES,
               chance: Mapping[str, float] = CHANCE_PERCENT, cols: int = 3) -> go.Figure:
    """One panel per interaction in ``keys`` (``cols`` to a row): probe accuracy (%) against the
    training step, a line per run, coloured by method (the label's start). ``curves``: (run
    label, frame with columns step and the keys, in %); ``dashed[i]``: draw run i dashed (e.g.
    the unbiased ones)."""
    ncols = min(cols, len(keys))
    nrows = -(-len(keys) // ncols)
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=[titles[k] for k in keys],
                        horizontal_spacing=0.07, vertical_spacing=0.16 if nrows > 1 else 0.0)
    for idx, k in enumerate(keys):
        j, row = idx % ncols + 1, idx // ncols + 1
        for i, (label, frame) in enumerate(curves):
            if k not in frame or frame[k].isna().all():
                continue
            fig.add_trace(go.Scatter(
                x=frame["step"], y=frame[k], mode="lines+markers", name=label, legendgroup=label,
                showlegend=idx == 0, line=dict(color=_color(label), width=2,
                                             dash="dot" if dashed is not None and dashed[i] else "solid"),
                marker=dict(size=5),
                hovertemplate=f"{label}<br>step %{{x}}<br>{k}: %{{y:.1f}}%<extra></extra>"), row=row, col=j)
        fig.add_hline(y=chance[k], line=dict(color=style.MUTED, dash="dash"), row=row, col=j,
                      annotation_text=f"chance {chance[k]:.0f}%", annotation_position="bottom right",
                      annotation_font=dict(size=11, color=style.MUTED))
        fig.update_xaxes(title_text="training step" if row == nrows else None, gridcolor=style.GRID, row=row, col=j)
        fig.update_yaxes(title_text="probe accuracy (%)" if j == 1 else None, range=[0, 105],
                         gridcolor=style.GRID, row=row, col=j)
    fig.update_layout(**style.base_layout(
        height=height * nrows if nrows > 1 else height, title=dict(text=title, x=0.01),
        legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="center", x=0.5),
        margin=dict(l=10, r=10, t=70, b=90)))
    return fig


def tone_figure(tones: np.ndarray, titles: Sequence[str], height: int = 230, cols: int = 2) -> go.Figure:
    """Tones drawn as waveforms, one panel each, ``cols`` to a row (shared y axis); ``titles`` may
    break lines with "<br>". tones: (K, L) float. ``height`` is per row."""
    k = len(tones)
    ncols = min(cols, k)
    nrows = -(-k // ncols)
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=list(titles), shared_yaxes=True,
                        horizontal_spacing=0.05, vertical_spacing=0.3 if nrows > 1 else 0.0)
    t = np.arange(tones.shape[1]) / tones.shape[1]
    for i, tone in enumerate(tones):
        row, col = i // ncols + 1, i % ncols + 1
        fig.add_trace(go.Scatter(x=t, y=tone, mode="lines", line=dict(color=style.HYPERBOLIC, width=1.1),
                                 showlegend=False, hovertemplate="t %{x:.3f}<br>%{y:.2f}<extra></extra>"),
                      row=row, col=col)
        fig.update_xaxes(title_text="time (one window)" if row == nrows else None, gridcolor=style.GRID,
                         row=row, col=col)
    fig.update_yaxes(gridcolor=style.GRID, zeroline=False)
    fig.update_annotations(font=dict(size=13))
    fig.update_layout(**style.base_layout(height=height * nrows + 40, margin=dict(l=10, r=10, t=60, b=10)))
    return fig
