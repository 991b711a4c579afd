"""Figures for training curves: one small chart per metric group, one or several runs.

One run: a colour per metric. Several runs (a comparison): a colour per run and a dash
style per metric, so "CLIP against MERU" reads at a glance. A smoothed line is drawn over
its raw values, which stay faint behind it.
"""

from __future__ import annotations

import base64
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from mmviz.plots import style
from mmviz.plots.series import MetricGroup, Series, XKind, metric_label

MODEL_COLORS = {"clip": style.EUCLIDEAN, "meru": style.HYPERBOLIC, "meru-poincare": "#059669"}
RUN_PALETTE = ("#4338ca", "#ea580c", "#059669", "#db2777", "#0891b2", "#7c3aed", "#ca8a04", "#475569",
               "#dc2626", "#65a30d")
METRIC_PALETTE = ("#4338ca", "#ea580c", "#059669", "#db2777", "#0891b2", "#7c3aed", "#ca8a04",
                  "#475569", "#dc2626", "#65a30d", "#9333ea", "#0d9488")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
LEGEND_GREY = "#5b6070"
SPARSE_POINTS = 60
"""A line with at most this many points (a few evaluations) gets a marker on each."""
X_TITLES = {"step": "step", "time": "time since the run started (s)"}


@dataclass(frozen=True)
class RunCurve:
    """One metric of one run: the run's id and legend label, and the prepared series."""

    run_id: str
    run_label: str
    series: Series


_ENCODED: weakref.WeakKeyDictionary[Series, dict[str, dict | None]] = weakref.WeakKeyDictionary()


def _typed_array(values: np.ndarray | None) -> dict | None:
    """``values`` (N,) as a plotly base64 typed array of float32: half the bytes of float64 on
    the wire each second, and a screen cannot show the difference (steps stay exact to 2^24)."""
    if values is None:
        return None
    return {"dtype": "f4", "bdata": base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode()}


def _encoded(series: Series) -> dict[str, dict | None]:
    """The series' arrays in plotly's wire format, encoded once per series: a live chart is
    sent again every second, and most of its lines have not changed since the last time."""
    encoded = _ENCODED.get(series)
    if encoded is None:
        encoded = _ENCODED[series] = {name: _typed_array(getattr(series, name))
                                      for name in ("x", "raw", "smooth_x", "smooth")}
    return encoded


def run_colors(runs: Sequence[dict]) -> dict[str, str]:
    """A colour per run (store rows with ``id`` and ``model``): the app's model colours
    (CLIP orange, MERU indigo) when every run has a different model, else a palette in order."""
    models = [run.get("model") for run in runs]
    if len(set(models)) == len(models) and all(m in MODEL_COLORS for m in models):
        return {run["id"]: MODEL_COLORS[run["model"]] for run in runs}
    return {run["id"]: RUN_PALETTE[i % len(RUN_PALETTE)] for i, run in enumerate(runs)}


def _in_order(curves: Sequence[RunCurve]) -> list[RunCurve]:
    """Training metrics first (the main line of a chart); otherwise as given (runs keep order)."""
    return sorted(curves, key=lambda c: not c.series.metric.startswith("train/"))


def _parts(curves: Sequence[RunCurve]) -> list[tuple[RunCurve, str]]:
    """The data traces of a chart, in order: each curve's ``raw`` line, then its ``smooth`` one."""
    return [(c, part) for c in _in_order(curves) for part in (("raw", "smooth") if c.series.smooth is not None
                                                              else ("raw",))]


def _sparse(series: Series) -> bool:
    """A few unsmoothed points (held-out evaluations): drawn with a marker on each."""
    return series.smooth is None and series.n_points <= SPARSE_POINTS


def _is_compare(curves: Sequence[RunCurve], compare: bool | None) -> bool:
    return len({c.run_id for c in curves}) > 1 if compare is None else compare


def curves_shape(curves: Sequence[RunCurve], compare: bool | None = None) -> tuple:
    """What a chart's traces depend on besides their values: two lists of curves with the same
    shape give the same figure up to the data, so :func:`refresh_curves_figure` can reuse it."""
    return (_is_compare(curves, compare),) + tuple(
        (c.run_id, c.run_label, c.series.metric, c.series.smooth is not None, _sparse(c.series))
        for c in _in_order(curves))


def refresh_curves_figure(fig: go.Figure, curves: Sequence[RunCurve], compare: bool | None = None) -> None:
    """Put the values of ``curves`` into ``fig``, made by :func:`curves_figure` from curves of the
    same :func:`curves_shape`: a live update without building the figure again (~20x cheaper)."""
    legend_entries = len(fig.data) - len(_parts(curves))
    for trace, (curve, part) in zip(fig.data[legend_entries:], _parts(curves)):
        arrays = _encoded(curve.series)
        trace.x, trace.y = (arrays["smooth_x"], arrays["smooth"]) if part == "smooth" else (arrays["x"], arrays["raw"])


def curves_figure(group: MetricGroup, curves: Sequence[RunCurve], *, colors: dict[str, str],
                  x_kind: XKind = "step", log_x: bool = False, log_y: bool = False,
                  compare: bool | None = None, height: int = 340) -> go.Figure:
    """The chart of one metric group: a line per (run, metric), raw values faint behind the
    smoothed ones. ``colors``: run id → colour (see :func:`run_colors`).

    The legend lists metrics (training ones first); clicking one hides it (raw and smoothed,
    every run). When runs are compared (``compare``; default: the curves come from several runs)
    the colour is the run's (the page shows which is which) and the dash the metric's, so the
    legend shows each metric once, in grey, with its dash. Metrics are matched by their label:
    CLIP's ``rawnorm_level1`` and MERU's ``dist0_level1`` are both "level-1 captions".
    """
    several_runs = _is_compare(curves, compare)
    curves = _in_order(curves)
    metrics = list(dict.fromkeys(metric_label(c.series.metric) for c in curves))
    traces: list[dict] = []
    for k, label in enumerate(metrics):
        if several_runs:  # a legend entry per metric, drawn in neither run's colour
            sparse = all(_sparse(c.series) for c in curves if metric_label(c.series.metric) == label)
            traces.append(dict(type="scatter", x=[None], y=[None], name=label, legendgroup=label,
                               mode="lines+markers" if sparse else "lines", hoverinfo="skip", marker=dict(size=5),
                               line=dict(color=LEGEND_GREY, width=2, dash=DASHES[k % len(DASHES)])))
    for curve, part in _parts(curves):
        s = curve.series
        k = metrics.index(metric_label(s.metric))
        color = colors.get(curve.run_id, RUN_PALETTE[0]) if several_runs else METRIC_PALETTE[k % len(METRIC_PALETTE)]
        dash = DASHES[k % len(DASHES)] if several_runs else "solid"
        name = f"{curve.run_label} · {metric_label(s.metric)}" if several_runs else metric_label(s.metric)
        common = dict(type="scatter", name=name, legendgroup=metrics[k])
        arrays = _encoded(s)
        hover = f"{name}: %{{y:.4g}}<extra></extra>"
        if part == "smooth":
            traces.append(dict(common, x=arrays["smooth_x"], y=arrays["smooth"], mode="lines", hovertemplate=hover,
                               showlegend=not several_runs, line=dict(color=color, width=2.2, dash=dash)))
        elif s.smooth is not None:  # the raw values under a smoothed line
            traces.append(dict(common, x=arrays["x"], y=arrays["raw"], mode="lines", showlegend=False, hoverinfo="skip",
                               opacity=0.25, line=dict(color=color, width=1, dash=dash)))
        else:
            traces.append(dict(common, x=arrays["x"], y=arrays["raw"], mode="lines+markers" if _sparse(s) else "lines",
                               hovertemplate=hover, showlegend=not several_runs, marker=dict(size=5),
                               line=dict(color=color, width=1.8, dash=dash)))
    axis = dict(gridcolor="#eee", zeroline=False)
    layout = style.base_layout(
        title=dict(text=group.title, x=0.01, font=dict(size=15)),
        height=height, margin=dict(l=10, r=10, t=40, b=10), hovermode="x unified", showlegend=True,
        legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0, font=dict(size=12)),
        # Keeps a user's zoom across the live updates, and resets it when the axes change.
        uirevision=f"{group.key}/{x_kind}/{log_x}/{log_y}",
        # No server-side template: Streamlit themes the chart in the browser, and plotly's default
        # template would be copied and sent with every live update (most of each update's cost).
        template={},
        xaxis=dict(axis, title=dict(text=X_TITLES[x_kind], standoff=4), type="log" if log_x else "linear"),
        yaxis=dict(axis, title=dict(text=group.y_title), type="log" if log_y else "linear",
                   exponentformat="power" if log_y else "B"),
    )
    # Built from plain dicts with plotly's validation off: it would cost more than everything
    # else in a live refresh (tests/test_curves.py checks these figures against the schema).
    return go.Figure(data=traces, layout=layout, _validate=False)


def empty_figure(title: str, message: str, height: int = 320) -> go.Figure:
    """A placeholder chart saying why there is nothing to draw yet."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=14, color=style.MUTED))
    fig.update_layout(**style.base_layout(title=dict(text=title, x=0.01, font=dict(size=15)), height=height,
                                          margin=dict(l=10, r=10, t=40, b=10)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
