"""Figures of the Similarity page: batch matrices with per-row loss bars, the toy batch's loss
curve, loss vs batch size, zero-shot confusion, the modality-gap shift, training curves.

Matrices go to the browser as float32 arrays (plotly sends numpy arrays as base64 typed
arrays), and hover names each cell by its row and column labels, so a 1024 × 1024 batch
costs 4 MB rather than a JSON list of a million numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mmviz.plots import style

TICK_LABELS_UP_TO = 32  # more rows than this: no tick labels (hover names the cell instead)
# Larger matrices are drawn as means of f × f blocks. 128 cells are ~4 px each on a ~500 px
# heatmap; 256 doubled what a τ drag at B = 1024 costs the browser (0.67 s instead of 0.48 s
# with bench/similarity_render.py): the spec is parsed, re-themed and drawn on every change.
MAX_CELLS_PER_SIDE = 128
DIVERGING = "RdBu_r"
SEQUENTIAL = "Viridis"
PROBABILITY = "Blues"


def _short(label: str, n: int = 26) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def pool_factor(n: int, max_side: int = MAX_CELLS_PER_SIDE) -> int:
    """Block size f so that ceil(n / f) ≤ max_side (1 when n fits)."""
    return max(1, -(-n // max_side))


def pool_matrix(z: np.ndarray, f: int) -> np.ndarray:
    """Means of f × f blocks of a (B, C) matrix → (ceil(B/f), ceil(C/f)); the last blocks may
    be smaller (their mean is over the cells that exist)."""
    z = np.asarray(z, dtype=np.float64)
    if f == 1:
        return z
    rows, cols = -(-z.shape[0] // f), -(-z.shape[1] // f)
    if z.shape == (rows * f, cols * f):  # the usual case (B a power of two): no padding, no NaNs
        return z.reshape(rows, f, cols, f).mean(axis=(1, 3))
    padded = np.full((rows * f, cols * f), np.nan)
    padded[: z.shape[0], : z.shape[1]] = z
    return np.nanmean(padded.reshape(rows, f, cols, f), axis=(1, 3))


def pool_vector(v: np.ndarray, f: int) -> np.ndarray:
    """Means of consecutive runs of f values: (B,) → (ceil(B/f),)."""
    return pool_matrix(np.asarray(v, dtype=np.float64)[:, None], f)[:, 0] if f > 1 else np.asarray(v)


def pool_labels(labels: Sequence[str], f: int, noun: str) -> list[str]:
    """Names of blocks of f consecutive labels: ``"<noun> 8–11 (4 pairs from <first>)"``."""
    if f == 1:
        return list(labels)
    out = []
    for start in range(0, len(labels), f):
        stop = min(start + f, len(labels)) - 1
        out.append(f"{noun} {start}–{stop} · from {labels[start]}")
    return out


def matrix_figure(z: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str], *,
                  title: str, value_name: str, colorscale: str = SEQUENTIAL,
                  zmin: float | None = None, zmax: float | None = None, zmid: float | None = None,
                  row_bars: np.ndarray | None = None, col_bars: np.ndarray | None = None,
                  bar_name: str = "loss", row_axis: str = "rows", col_axis: str = "columns",
                  outline_diagonal: bool = True, height: int = 560) -> go.Figure:
    """A (B, C) matrix as a heatmap with a colour bar, positives (the diagonal) outlined, and
    optionally per-row bars on the right (``row_bars``: (B,)) and per-column bars below
    (``col_bars``: (C,)). Hover names the row, the column and the value.

    More than :data:`MAX_CELLS_PER_SIDE` rows: drawn as means of f × f blocks (bars: means
    of f rows), said in the title and the hover; the maths behind it is unchanged."""
    n_rows, n_cols = np.shape(z)
    f = pool_factor(max(n_rows, n_cols))
    z, row_bars, col_bars = _shown_values(z, row_bars, col_bars)
    rows = pool_labels(row_labels, f, "rows")
    cols = pool_labels(col_labels, f, "columns")
    if f > 1:
        title = f"{title}<br><sup>means of {f} × {f} blocks of pairs</sup>"
        value_name_hover = f"mean {value_name}"
    else:
        value_name_hover = value_name
    side, below = row_bars is not None, col_bars is not None
    fig = make_subplots(rows=2 if below else 1, cols=2 if side else 1,
                        column_widths=[0.8, 0.2] if side else None,
                        row_heights=[0.8, 0.2] if below else None,
                        shared_yaxes=side, shared_xaxes=below, horizontal_spacing=0.02, vertical_spacing=0.03)
    colorbar = dict(title=dict(text=value_name, side="right"), thickness=14, len=0.8 if below else 1.0,
                    y=1.0, yanchor="top", x=1.0 if not side else 1.01)
    ticks = len(rows) <= TICK_LABELS_UP_TO
    # Without tick labels, cells are a pixel or two: "fast" lets the browser scale one pixel per
    # cell (drawn crisp, not smoothed), about half the redraw time of a τ change at B = 1024.
    fig.add_trace(go.Heatmap(
        z=z, x=cols, y=rows, colorscale=colorscale, zmin=zmin, zmax=zmax, zmid=zmid, colorbar=colorbar,
        hovertemplate=f"<b>%{{y}}</b><br>%{{x}}<br>{value_name_hover} = %{{z:.4g}}<extra></extra>",
        name=value_name, zsmooth=False if ticks else "fast",
    ), row=1, col=1)
    if outline_diagonal:
        k = min(len(rows), len(cols))
        size = max(2.0, min(24.0, 0.6 * (height * (0.8 if below else 1.0) - 80) / max(len(rows), 1)))
        if k <= 64:
            style_kw: dict = dict(mode="markers", marker=dict(symbol="square-open", size=size, color="#111111",
                                                              line=dict(width=1.5)))
        else:  # too many cells to outline one by one: a thin line along the diagonal
            style_kw = dict(mode="lines", line=dict(color="rgba(17, 17, 17, 0.55)", width=1))
        fig.add_trace(go.Scatter(
            x=cols[:k], y=rows[:k], name="positive pairs", **style_kw,
            hovertemplate="<b>positive</b>: %{y}<br>%{x}<extra></extra>", showlegend=True,
        ), row=1, col=1)
    if side:
        fig.add_trace(go.Bar(x=row_bars, y=rows, orientation="h", marker_color=style.EUCLIDEAN,
                             name=f"{bar_name} per row",
                             hovertemplate=f"<b>%{{y}}</b><br>{bar_name} = %{{x:.4g}}<extra></extra>"),
                      row=1, col=2)
        fig.update_xaxes(title_text=bar_name, nticks=3, row=1, col=2)
    if below:
        fig.add_trace(go.Bar(x=cols, y=col_bars, marker_color=style.HYPERBOLIC, name=f"{bar_name} per column",
                             hovertemplate=f"<b>%{{x}}</b><br>{bar_name} = %{{y:.4g}}<extra></extra>"),
                      row=2, col=1)
        fig.update_yaxes(title_text=bar_name, row=2, col=1)
    row_ticks = dict(tickmode="array", tickvals=rows, ticktext=[_short(r) for r in rows]) if ticks else {}
    col_ticks = dict(tickmode="array", tickvals=cols, ticktext=[_short(c) for c in cols]) if ticks else {}
    # Fixed ranges: the outline markers must not pad the axes beyond the matrix.
    fig.update_yaxes(range=[len(rows) - 0.5, -0.5], showgrid=False, showticklabels=ticks,
                     ticks="outside" if ticks else "", row=1, col=1,
                     title_text=f"{row_axis} (B = {n_rows})", **row_ticks)
    fig.update_xaxes(range=[-0.5, len(cols) - 0.5], showgrid=False, showticklabels=ticks and not below,
                     ticks="outside" if ticks else "", row=1, col=1, tickangle=-45,
                     title_text=None if below else f"{col_axis} (B = {n_cols})", **col_ticks)
    if below:
        fig.update_xaxes(showticklabels=False, title_text=f"{col_axis} (B = {n_cols})", row=2, col=1)
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.01), height=height + (80 if ticks else 0), bargap=0.1,
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="right", x=1.0),
        margin=_matrix_margin(ticks, side, below, f > 1),
    ))
    return fig


def _shown_values(z: np.ndarray, row_bars: np.ndarray | None, col_bars: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """What a matrix figure draws of a (B, C) matrix and its bars: block means when pooled,
    as float32."""
    f = pool_factor(max(np.shape(z)))
    return (pool_matrix(z, f).astype(np.float32),
            None if row_bars is None else pool_vector(row_bars, f).astype(np.float32),
            None if col_bars is None else pool_vector(col_bars, f).astype(np.float32))


def with_matrix_values(figure: dict, z: np.ndarray, row_bars: np.ndarray | None = None,
                       col_bars: np.ndarray | None = None) -> dict:
    """A copy of ``figure`` (a :func:`matrix_figure` as a dict) showing other values of the same
    shape: the same rows, columns, labels and layout. Building a figure costs ~50 ms of plotly
    validation at B = 1024; swapping the values costs a pooling, so a τ drag does only that.
    ``figure`` itself is not modified."""
    z, row_bars, col_bars = _shown_values(z, row_bars, col_bars)
    data = []
    for trace in figure["data"]:
        trace = dict(trace)
        if trace["type"] == "heatmap":
            shown = _shape(trace["z"])
            if shown != z.shape:
                raise ValueError(f"a {z.shape} matrix for a figure that shows {shown}")
            trace["z"] = z
        elif trace["type"] == "bar" and trace.get("orientation") == "h" and row_bars is not None:
            trace["x"] = row_bars
        elif trace["type"] == "bar" and trace.get("orientation") != "h" and col_bars is not None:
            trace["y"] = col_bars
        data.append(trace)
    return {**figure, "data": data}


def _shape(values) -> tuple[int, ...]:
    """Shape of an array in a figure dict: a list, an array, or plotly's base64 form
    (``{"dtype", "bdata", "shape": "128, 128"}``)."""
    if isinstance(values, dict) and "shape" in values:
        return tuple(int(n) for n in str(values["shape"]).split(","))
    return np.shape(values)


def _matrix_margin(ticks: bool, side: bool, below: bool, pooled: bool) -> dict:
    """Margins of a matrix figure. With tick labels (small B) they grow to fit the labels.
    Without, they are fixed and room is made for the axis titles and the colour bar: plotly
    then draws the figure once instead of twice (its automatic margins redraw after measuring
    the colour bar), which matters when a τ drag redraws a 1024 × 1024 batch."""
    top = 80 if pooled else 60
    if ticks:
        return dict(l=10, r=10, t=top, b=10)
    return dict(l=60, r=95 if side else 85, t=top, b=55 if below else 45, autoexpand=False)


def toy_loss_figure(taus: np.ndarray, losses: np.ndarray, chance: float, tau_now: float,
                    loss_now: float) -> go.Figure:
    """Row loss of the toy batch against τ (log axis), with the chance level log B and the
    current τ marked."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=taus, y=losses, mode="lines", name="row loss (no noise)",
                             line=dict(color=style.EUCLIDEAN, width=2.5),
                             hovertemplate="τ = %{x:.3g}<br>loss = %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[taus[0], taus[-1]], y=[chance, chance], mode="lines", name="chance: log B",
                             line=dict(color=style.MUTED, dash="dash"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[tau_now], y=[loss_now], mode="markers", name="this batch",
                             marker=dict(size=12, color=style.HYPERBOLIC),
                             hovertemplate="τ = %{x:.3g}<br>loss = %{y:.4f}<extra>this batch</extra>"))
    fig.update_layout(**style.base_layout(
        title=dict(text="Loss against temperature", x=0.01), height=360,
        xaxis=dict(title="temperature τ (log scale)", type="log"), yaxis=dict(title="InfoNCE loss (nats)"),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
    ))
    return fig


def batch_size_figure(table: pd.DataFrame, current: int | None = None) -> go.Figure:
    """Loss (± sd) and the chance level log B against B; and the gradient signal: the pull on
    the positive (1 − p_ii) and the share of the push taken by the hardest negative."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss grows with the negatives",
                                                        "Where the gradient goes"), horizontal_spacing=0.12)
    hover_b = "B = %{x} (N = %{customdata} negatives)<br>"
    neg = table["negatives"].to_numpy()
    fig.add_trace(go.Scatter(x=table["B"], y=table["loss"], mode="lines+markers", name="batch loss",
                             error_y=dict(type="data", array=table["loss_sd"], visible=True),
                             customdata=neg, line=dict(color=style.EUCLIDEAN),
                             hovertemplate=hover_b + "loss = %{y:.4f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=table["B"], y=table["chance"], mode="lines", name="chance: log B",
                             customdata=neg, line=dict(color=style.MUTED, dash="dash"),
                             hovertemplate=hover_b + "log B = %{y:.4f}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=table["B"], y=table["positive_weight"], mode="lines+markers",
                             name="pull on the positive (1 − p_ii)", customdata=neg,
                             line=dict(color=style.HYPERBOLIC),
                             hovertemplate=hover_b + "1 − p_ii = %{y:.4f}<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Scatter(x=table["B"], y=table["hardest_share"], mode="lines+markers",
                             name="hardest negative's share of the push", customdata=neg,
                             line=dict(color=style.POINT_COLORS[2]),
                             hovertemplate=hover_b + "share = %{y:.4f}<extra></extra>"), row=1, col=2)
    for col in (1, 2):
        fig.update_xaxes(title_text="batch size B (log scale)", type="log", row=1, col=col,
                         tickmode="array", tickvals=table["B"].tolist(), ticktext=[str(b) for b in table["B"]])
        if current is not None:
            fig.add_vline(x=current, line=dict(color=style.MUTED, dash="dot"), row=1, col=col)
    fig.update_yaxes(title_text="loss (nats)", row=1, col=1)
    fig.update_yaxes(title_text="fraction", range=[0, 1.02], row=1, col=2)
    fig.update_layout(**style.base_layout(height=400, legend=dict(orientation="h", y=-0.25, x=0.5,
                                                                   xanchor="center")))
    return fig


def confusion_figure(matrix: np.ndarray, classes: Sequence[str], title: str) -> go.Figure:
    """Zero-shot confusion counts: rows = true class, columns = predicted, normalised per row
    for the colour (hover gives counts and the row fraction)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    frac = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    labels = list(classes)
    fig = go.Figure(go.Heatmap(
        z=frac, x=labels, y=labels, colorscale=PROBABILITY, zmin=0, zmax=1,
        customdata=matrix.astype(int), colorbar=dict(title=dict(text="fraction of row", side="right"), thickness=12),
        text=matrix.astype(int).astype(str), texttemplate="%{text}" if len(labels) <= 12 else None,
        hovertemplate="true %{y} → predicted %{x}<br>%{customdata} images (%{z:.1%})<extra></extra>",
    ))
    fig.update_layout(**style.base_layout(
        title=dict(text=title, x=0.01), height=420,
        xaxis=dict(title="predicted", tickangle=-45), yaxis=dict(title="true", autorange="reversed", scaleanchor="x"),
    ))
    return fig


def shift_figure(table: pd.DataFrame, names: tuple[str, str]) -> go.Figure:
    """The shift experiment: loss and R@1 (both ways) against λ, the gap marked on hover."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Retrieval R@1"), horizontal_spacing=0.12)
    custom = table["gap"].to_numpy()
    hover = "λ = %{x:.2f} (gap %{customdata:.3f})<br>"
    fig.add_trace(go.Scatter(x=table["lambda"], y=table["loss"], mode="lines+markers", name="loss at τ",
                             customdata=custom, line=dict(color=style.EUCLIDEAN),
                             hovertemplate=hover + "loss = %{y:.4f}<extra></extra>"), row=1, col=1)
    a, b = names
    for column, name, color in (("r1_a_to_b", f"{a} → {b}", style.HYPERBOLIC),
                                ("r1_b_to_a", f"{b} → {a}", style.POINT_COLORS[2])):
        fig.add_trace(go.Scatter(x=table["lambda"], y=table[column], mode="lines+markers", name=f"R@1 {name}",
                                 customdata=custom, line=dict(color=color),
                                 hovertemplate=hover + "R@1 = %{y:.3f}<extra>" + name + "</extra>"), row=1, col=2)
    for col in (1, 2):
        fig.update_xaxes(title_text="shift λ (0 = as trained, 1 = means meet)", row=1, col=col)
        fig.add_vline(x=0, line=dict(color=style.MUTED, dash="dot"), row=1, col=col)
    fig.update_yaxes(title_text="loss (nats)", row=1, col=1)
    fig.update_yaxes(title_text="R@1", range=[0, 1.02], row=1, col=2)
    fig.update_layout(**style.base_layout(height=380, legend=dict(orientation="h", y=-0.3, x=0.5, xanchor="center")))
    return fig


def geometry_curves_figure(frame: pd.DataFrame) -> go.Figure:
    """Alignment, uniformity per modality and the modality gap against the training step.
    frame: the run store's metric rows (columns step, name, value)."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=("Alignment (lower = closer pairs)",
                                                        "Uniformity (lower = more uniform)", "Modality gap"),
                        horizontal_spacing=0.08)
    panels = {"eval/alignment": 1, "eval/modality_gap": 3}
    colors = iter(style.POINT_COLORS)
    for name, group in frame.groupby("name", sort=True):
        col = panels.get(name, 2 if name.startswith("eval/uniformity_") else None)
        if col is None:
            continue
        label = name.removeprefix("eval/")
        fig.add_trace(go.Scatter(x=group["step"], y=group["value"], mode="lines+markers", name=label,
                                 line=dict(color=next(colors, style.MUTED)),
                                 hovertemplate="step %{x}<br>" + label + " = %{y:.4f}<extra></extra>"),
                      row=1, col=col)
    for col in (1, 2, 3):
        fig.update_xaxes(title_text="training step", row=1, col=col)
    fig.update_yaxes(title_text="E‖x − y‖²", row=1, col=1)
    fig.update_yaxes(title_text="log E exp(−2‖x − x′‖²)", row=1, col=2)
    fig.update_yaxes(title_text="‖mean a − mean b‖", row=1, col=3)
    fig.update_layout(**style.base_layout(height=360, legend=dict(orientation="h", y=-0.3, x=0.5, xanchor="center")))
    return fig
