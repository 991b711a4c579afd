"""Figures of the Beyond-pairs page: a concept's images and captions before and after
unlearning, a composed caption with its parents, and accuracy bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mmviz.plots import style

CONCEPT = "#dc2626"
OTHER = "#94a3b8"
SEEN_UNSEEN = ("#64748b", "#059669")
"""Seen triples grey, unseen green (the model colours stay CLIP orange and MERU indigo)."""
PANEL_TITLES = {"before": "before (the parent run)", "after": "after unlearning"}


def _span(points: pd.DataFrame, hyperbolic: bool) -> float:
    """Half-width of the view: the whole disk, or (hyperbolic points near the centre) 1.3× the
    farthest point."""
    reach = float(np.hypot(points.x, points.y).max()) if len(points) else 1.0
    return min(1.06, 1.3 * reach) if hyperbolic else 1.06


def _boundary(fig: go.Figure, row: int, col: int, span: float = 1.06, hyperbolic: bool = False) -> None:
    """The unit circle (when in view) and dotted rings: at distances d = 0.25, 0.5… from the origin
    (hyperbolic, labelled), or at radius 0.5 and 0.8."""
    t = np.linspace(0, 2 * np.pi, 361)
    if span >= 1.0:
        fig.add_trace(go.Scatter(x=np.cos(t), y=np.sin(t), mode="lines", line=dict(color=style.BOUNDARY, width=2),
                                 hoverinfo="skip", showlegend=False), row=row, col=col)
    rings: list[tuple[float, str]] = [(0.5, ""), (0.8, "")]
    if hyperbolic:
        top = 2 * np.arctanh(min(span, 0.999))
        step = 0.25 if top < 1.5 else 0.5
        rings = [(float(np.tanh(d / 2)), f"d = {d:g}") for d in np.arange(step, top, step)]
    for r, label in rings:
        fig.add_trace(go.Scatter(x=r * np.cos(t), y=r * np.sin(t), mode="lines",
                                 line=dict(color=style.GRID, width=1, dash="dot"), hoverinfo="skip",
                                 showlegend=False), row=row, col=col)
        if label:
            fig.add_annotation(x=r * np.cos(np.pi / 4), y=r * np.sin(np.pi / 4), text=label, showarrow=False,
                               font=dict(size=11, color=style.MUTED), row=row, col=col)


def before_after_figure(points: pd.DataFrame, concept: str, hyperbolic: bool, height: int = 520) -> go.Figure:
    """Two disks side by side: the concept's images (red) and other images (grey), and the
    level-1 captions of the concept's attribute (stars, the concept's own in red), before and
    after. ``points``: :func:`mmviz.beyond.unlearning.before_after_points`."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[PANEL_TITLES["before"], PANEL_TITLES["after"]],
                        horizontal_spacing=0.04)
    span = _span(points, hyperbolic)
    for col, model in enumerate(("before", "after"), start=1):
        _boundary(fig, 1, col, span, hyperbolic)
        part = points[points.model == model]
        for kind, symbol, size in (("image", "circle", 7), ("caption", "star", 16)):
            for group, color in (("other", OTHER), (concept, CONCEPT)):
                sel = part[(part.kind == kind) & (part.group == group)]
                if sel.empty:
                    continue
                label = (f"{concept.split(':')[1]} images" if group == concept else "other images") if kind == "image" \
                    else ("its caption" if group == concept else "other values' captions")
                named = kind == "caption" and group == concept  # other captions: hover only (they crowd)
                fig.add_trace(go.Scatter(
                    x=sel.x, y=sel.y, mode="markers+text" if named else "markers",
                    text=sel.label if named else None, textposition="top center",
                    textfont=dict(size=12, color=color if group == concept else "#475569"),
                    marker=dict(size=size, color=color, symbol=symbol, opacity=0.75 if kind == "image" else 1.0,
                                line=dict(color="white", width=1)),
                    hovertext=[f"{lab}<br>depth {d:.3f}" for lab, d in zip(sel.label, sel.depth)], hoverinfo="text",
                    name=label, legendgroup=label, showlegend=col == 1), row=1, col=col)
    axis = dict(range=[-span, span], visible=False)
    fig.update_xaxes(axis, constrain="domain")
    fig.update_yaxes(axis)
    fig.update_yaxes(scaleanchor="x", scaleratio=1, row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", scaleratio=1, row=1, col=2)
    radius = "distance from the origin" if hyperbolic else "raw feature norm (rank only)"
    fig.update_layout(**style.base_layout(height=height, title=dict(
        text=f"Where {concept} goes: radius = {radius}, angle = shared 2-D PCA of directions", x=0.02)))
    return fig


def composition_figure(points: pd.DataFrame, hyperbolic: bool, height: int = 520) -> go.Figure:
    """A composed caption, its level-1 parents and images of it on one disk, arrows from each
    parent to the composition. ``points``: columns kind ("parent", "composition", "image"),
    label, x, y, depth, note (hover). Hyperbolic points (radius tanh(d/2)) sit near the centre,
    so the view zooms to them and rings mark distances d from the origin."""
    fig = go.Figure()
    t = np.linspace(0, 2 * np.pi, 361)
    reach = float(np.hypot(points.x, points.y).max()) if len(points) else 1.0
    span = min(1.06, 1.3 * reach)
    if span >= 1.0:
        fig.add_trace(go.Scatter(x=np.cos(t), y=np.sin(t), mode="lines", line=dict(color=style.BOUNDARY, width=2),
                                 hoverinfo="skip", showlegend=False))
    if hyperbolic:
        top = 2 * np.arctanh(min(span, 0.999))
        step = 0.25 if top < 1.5 else 0.5
        for d in np.arange(step, top, step):
            r = np.tanh(d / 2)
            fig.add_trace(go.Scatter(x=r * np.cos(t), y=r * np.sin(t), mode="lines",
                                     line=dict(color=style.GRID, width=1, dash="dot"), hoverinfo="skip",
                                     showlegend=False))
            fig.add_annotation(x=r * np.cos(np.pi / 4), y=r * np.sin(np.pi / 4), text=f"d = {d:g}", showarrow=False,
                               font=dict(size=11, color=style.MUTED))
    comp = points[points.kind == "composition"]
    for _, parent in points[points.kind == "parent"].iterrows():
        for _, c in comp.iterrows():
            fig.add_annotation(x=c.x, y=c.y, ax=parent.x, ay=parent.y, xref="x", yref="y", axref="x", ayref="y",
                               showarrow=True, arrowhead=3, arrowsize=1.2, arrowwidth=1.6, arrowcolor=style.MUTED)
    styles = {"image": ("images of it", "circle", 8, "#64748b"),
              "parent": ("parents (level 1)", "star", 18, style.EUCLIDEAN),
              "composition": ("the composition", "star", 22, style.HYPERBOLIC)}
    for kind, (name, symbol, size, color) in styles.items():
        sel = points[points.kind == kind]
        if sel.empty:
            continue
        fig.add_trace(go.Scatter(
            x=sel.x, y=sel.y, mode="markers" if kind == "image" else "markers+text",
            text=None if kind == "image" else sel.label,
            # the two parents' labels go either side: in CLIP all three stars can sit close together
            textposition="bottom center" if kind == "composition" else ["middle left", "middle right"][:len(sel)],
            textfont=dict(size=14),
            marker=dict(size=size, color=color, symbol=symbol, opacity=0.6 if kind == "image" else 1.0,
                        line=dict(color="white", width=1)),
            hovertext=[f"{lab}<br>{note}" for lab, note in zip(sel.label, sel.note)], hoverinfo="text", name=name))
    axis = dict(range=[-span, span], visible=False)
    fig.update_layout(**style.base_layout(height=height, xaxis=dict(axis, constrain="domain"),
                                          yaxis=dict(axis, scaleanchor="x", scaleratio=1)))
    return fig


def grouped_bars(frame: pd.DataFrame, x: str, y: str, color: str, *, title: str, y_title: str,
                 chance: float | None = None, colors: Sequence[str] = (style.EUCLIDEAN, style.HYPERBOLIC, "#059669",
                                                                        "#d97706"), height: int = 360) -> go.Figure:
    """Bars of ``y`` per ``x``, one colour per value of ``color``, value labels on the bars, an
    optional dotted chance line."""
    fig = go.Figure()
    for i, (value, part) in enumerate(frame.groupby(color, sort=False)):
        fig.add_trace(go.Bar(x=part[x], y=part[y], name=str(value), marker_color=colors[i % len(colors)],
                             text=[f"{v:.0%}" for v in part[y]], textposition="outside"))
    if chance is not None:
        fig.add_hline(y=chance, line=dict(color=style.MUTED, dash="dot"), annotation_text="chance",
                      annotation_position="top left")
    fig.update_layout(**style.base_layout(height=height, barmode="group", title=dict(text=title, x=0.02),
                                          xaxis=dict(tickangle=0),
                                          yaxis=dict(title=y_title, range=[0, 1.12], tickformat=".0%"),
                                          legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1.0,
                                                      xanchor="right")))
    return fig
