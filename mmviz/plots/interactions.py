"""Figures of the R/U/S study (CoMM): probe accuracies per method beside the paper's, and
probe accuracies over training steps. Pure functions of plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mmviz.plots import style

INTERACTIONS = ("R", "U", "S")
TITLES = {"R": "Redundancy R (shape)", "U": "Uniqueness U (texture of image 1)",
          "S": "Synergy S (mapping holds)"}
CHANCE_PERCENT = {"R": 10.0, "U": 10.0, "S": 50.0}
METHOD_COLORS = {"Cross": style.EUCLIDEAN, "Cross+Self": "#059669", "FactorCL": style.MUTED,
                 "CoMM": style.HYPERBOLIC, "CoMM (two-view term only)": "#0891b2"}


def _color(label: str) -> str:
    for name, color in sorted(METHOD_COLORS.items(), key=lambda kv: -len(kv[0])):
        if label.startswith(name):
            return color
    return style.POINT_COLORS[sum(map(ord, label)) % len(style.POINT_COLORS)]


def rus_bars(measured: Mapping[str, Mapping[str, float | None]],
             paper: Mapping[str, Mapping[str, float]], height: int = 430) -> go.Figure:
    """Grouped bars of probe accuracy (%) for R, U, S: each method measured here (solid) and
    as the paper reports it (hatched), with each interaction's chance level drawn as a dashed
    line across its group. ``measured``: label → {"R", "U", "S"} in % (None = not run)."""
    fig = go.Figure()
    for label, values in paper.items():
        fig.add_trace(go.Bar(
            x=list(INTERACTIONS), y=[values[k] for k in INTERACTIONS], name=f"{label} (paper)",
            marker=dict(color="white", line=dict(color=_color(label), width=2), pattern=dict(
                shape="/", fgcolor=_color(label), size=6)),
            hovertemplate=f"{label}, CoMM paper<br>%{{x}}: %{{y:.1f}}%<extra></extra>",
            text=[f"{values[k]:.0f}" for k in INTERACTIONS], textposition="outside", cliponaxis=False))
    for label, values in measured.items():
        ys = [values.get(k) for k in INTERACTIONS]
        fig.add_trace(go.Bar(
            x=list(INTERACTIONS), y=ys, name=f"{label} (here)", marker=dict(color=_color(label)),
            hovertemplate=f"{label}, measured here<br>%{{x}}: %{{y:.1f}}%<extra></extra>",
            text=["" if y is None else f"{y:.0f}" for y in ys], textposition="outside", cliponaxis=False))
    for i, k in enumerate(INTERACTIONS):
        chance = CHANCE_PERCENT[k]
        fig.add_shape(type="line", x0=i - 0.42, x1=i + 0.42, y0=chance, y1=chance, xref="x", yref="y",
                      line=dict(color=style.BOUNDARY, dash="dash", width=2))
        # In the gap after the group, on two lines: one line ran into the next group's bars.
        fig.add_annotation(x=i + 0.5, y=chance, text=f"chance<br>{chance:.0f}%", showarrow=False,
                           xanchor="center", yanchor="middle", font=dict(size=11, color=style.BOUNDARY))
    fig.update_layout(**style.base_layout(
        barmode="group", height=height, bargap=0.18, bargroupgap=0.04,
        title=dict(text="Linear-probe accuracy: measured here vs the CoMM paper", x=0.01),
        xaxis=dict(title="interaction (probe)", tickvals=list(INTERACTIONS),
                   range=[-0.5, len(INTERACTIONS) - 0.38],  # room for the last chance label
                   ticktext=[TITLES[k] for k in INTERACTIONS]),
        yaxis=dict(title="balanced accuracy (%)", range=[0, 112], gridcolor=style.GRID),
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="center", x=0.5),
        margin=dict(l=10, r=10, t=50, b=110),
    ))
    return fig


def rus_curves(curves: Sequence[tuple[str, pd.DataFrame]], keys: Sequence[str] = INTERACTIONS,
               title: str = "Probe accuracy over training", height: int = 360,
               dashed: Sequence[bool] | None = None) -> go.Figure:
    """One panel per interaction in ``keys``: probe accuracy (%) against the training step, a
    line per run, coloured by method (the label's start). ``curves``: (run label, frame with
    columns step, R, U, S in %); ``dashed[i]``: draw run i dashed (e.g. the unbiased ones)."""
    fig = make_subplots(rows=1, cols=len(keys), subplot_titles=[TITLES[k] for k in keys],
                        horizontal_spacing=0.07)
    for j, k in enumerate(keys, start=1):
        for i, (label, frame) in enumerate(curves):
            if k not in frame or frame[k].isna().all():
                continue
            fig.add_trace(go.Scatter(
                x=frame["step"], y=frame[k], mode="lines+markers", name=label, legendgroup=label,
                showlegend=j == 1, line=dict(color=_color(label), width=2,
                                             dash="dot" if dashed is not None and dashed[i] else "solid"),
                marker=dict(size=5),
                hovertemplate=f"{label}<br>step %{{x}}<br>{k}: %{{y:.1f}}%<extra></extra>"), row=1, col=j)
        fig.add_hline(y=CHANCE_PERCENT[k], line=dict(color=style.MUTED, dash="dash"), row=1, col=j,
                      annotation_text=f"chance {CHANCE_PERCENT[k]:.0f}%", annotation_position="bottom right",
                      annotation_font=dict(size=11, color=style.MUTED))
        fig.update_xaxes(title_text="training step", gridcolor=style.GRID, row=1, col=j)
        fig.update_yaxes(title_text="probe accuracy (%)" if j == 1 else None, range=[0, 105],
                         gridcolor=style.GRID, row=1, col=j)
    fig.update_layout(**style.base_layout(
        height=height, title=dict(text=title, x=0.01),
        legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="center", x=0.5),
        margin=dict(l=10, r=10, t=70, b=90)))
    return fig
