"""The Train page's live part: curve settings, and a fragment that redraws the selected
runs' progress and curves about once a second while one of them trains.

The fragment ticks (``st.fragment(run_every=...)``) only while a selected run is queued or
running; otherwise a cheap watcher checks every few seconds whether runs appeared, ended
or changed status (in another tab, from the CLI) and then reruns the page.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from mmviz.plots.curves import RunCurve, curves_figure, curves_shape, empty_figure, refresh_curves_figure, run_colors
from mmviz.plots.series import GROUPS, MetricGroup, XKind, format_duration, group_of, progress
from mmviz.runs import runner
from mmviz.runs.store import ACTIVE_STATUSES
from mmviz.ui import classroom
from mmviz.ui.charts import show_chart
from mmviz.ui.train_feed import MetricsFeed, RunMetrics
from mmviz.ui.train_runs import PREFIX, STATUS_COLORS, get_feed, get_store, run_labels, status_signature
from mmviz.ui.url_state import UrlParam, url_slider

TICK_S = 1.0
"""Refresh interval of the curves while a selected run trains."""
WATCH_S = 5.0
"""Interval of the idle watcher (nothing selected is training)."""
REFRESH_S = 5.0
"""How often a live tick asks the runner to look for trainers that died."""
URL = {"smooth": UrlParam(0.6, 0.0, 0.99, step=0.01), "logy": UrlParam(False), "logx": UrlParam(False),
       "x": UrlParam("step", choices=["step", "time"]), "more": UrlParam(False)}
@dataclass(frozen=True)
class CurveSettings:
    """How curves are drawn: EMA weight, log axes, x = step or wall time, and whether the
    optimiser and speed charts (learning rate, gradient norm, steps/s...) are drawn too."""

    smoothing: float
    log_x: bool
    log_y: bool
    x_kind: XKind
    more: bool = False


def curve_controls(prefix: str) -> CurveSettings:
    """The smoothing slider, log toggles, x-axis choice and the optimiser charts' switch
    (keys ``prefix + URL key``)."""
    smooth_col, x_col, logy_col, logx_col, more_col = st.columns([4, 2, 1, 1, 2], vertical_alignment="bottom")
    smoothing = url_slider("smoothing", "smooth", URL, prefix, where=smooth_col,
                           help="Exponential moving average weight (as in TensorBoard); the raw "
                                "curve stays faint behind. Held-out evaluations are not smoothed.")
    x_kind = x_col.radio("x axis", ["step", "time"], key=prefix + "x", horizontal=True,
                         format_func=lambda x: "step" if x == "step" else "wall time")
    log_y = logy_col.toggle("log y", key=prefix + "logy")
    log_x = logx_col.toggle("log x", key=prefix + "logx")
    more = more_col.toggle("optimiser charts", key=prefix + "more",
                           help="Also draw the loss terms, learning rate, gradient norm and training speed.")
    return CurveSettings(float(smoothing), bool(log_x), bool(log_y), x_kind, bool(more))


def live_panel(selected: Sequence[str], settings: CurveSettings, runs: Sequence[dict[str, Any]]) -> None:
    """Progress and curves of the selected runs; live while one of them is queued or running."""
    by_id = {run["id"]: run for run in runs}
    active = any(by_id[rid]["status"] in ACTIVE_STATUSES for rid in selected if rid in by_id)
    signature = status_signature(runs)
    st.fragment(_live, run_every=TICK_S if active else None)(list(selected), settings, signature)
    if not active:
        st.fragment(_watch, run_every=WATCH_S)(signature)


def _refresh_runner(store) -> None:
    """Mark runs whose trainer died as interrupted (at most every REFRESH_S per session)."""
    now = time.monotonic()
    if now - st.session_state.get(PREFIX + "refreshed", 0.0) >= REFRESH_S:
        st.session_state[PREFIX + "refreshed"] = now
        runner.refresh(store)


def _watch(signature: tuple) -> None:
    store = get_store()
    _refresh_runner(store)
    if status_signature(classroom.visible_runs(store.list_runs())) != signature:
        st.rerun()


FigureCache = dict[tuple, tuple[tuple, tuple, go.Figure]]
"""Figures of the last refresh, by group and runs: (inputs, series drawn, figure)."""


def curve_figures(feed: MetricsFeed, runs: Sequence[dict[str, Any]], settings: CurveSettings,
                  cache: FigureCache) -> tuple[dict[str, RunMetrics], list[tuple[MetricGroup, go.Figure]]]:
    """What one live refresh computes for ``runs`` (store rows): each run's metrics (read
    incrementally) and a figure per metric group that has data, in :data:`GROUPS` order.
    ``cache`` holds the last refresh's figures (one per viewer: figures are updated in place)."""
    labels, colors = run_labels(runs), run_colors(runs)
    entries: dict[str, RunMetrics] = {}
    curves: dict[str, list[RunCurve]] = {}
    for run in runs:
        entry, series = feed.series(run, smoothing=settings.smoothing, x_kind=settings.x_kind,
                                    wanted=lambda name: settings.more or group_of(name).primary)
        entries[run["id"]] = entry
        for s in series:
            curves.setdefault(group_of(s.metric).key, []).append(RunCurve(run["id"], labels[run["id"]], s))
    figures = [(group, _figure(group, curves[group.key], colors, settings, cache))
               for group in GROUPS if group.key in curves]
    return entries, figures


def _figure(group: MetricGroup, curves: list[RunCurve], colors: dict[str, str], settings: CurveSettings,
            cache: FigureCache) -> go.Figure:
    """The group's figure: the last one as it is while none of its series changed (the feed
    hands back the very same series objects for metrics that logged nothing new), the last one
    with new values while its shape is the same, else a new one."""
    slot = (group.key, tuple(c.run_id for c in curves))
    compare = len(colors) > 1
    inputs = (curves_shape(curves, compare), tuple(sorted(colors.items())), settings)
    series = tuple(c.series for c in curves)
    cached = cache.get(slot)
    if cached is not None and cached[0] == inputs:
        fig = cached[2]
        if not all(a is b for a, b in zip(cached[1], series)):
            refresh_curves_figure(fig, curves, compare)
    else:
        fig = curves_figure(group, curves, colors=colors, x_kind=settings.x_kind, log_x=settings.log_x,
                            log_y=settings.log_y, compare=compare)
    if len(cache) > 64:  # selections come and go; keep the figures of the last few
        cache.clear()
    cache[slot] = (inputs, series, fig)
    return fig


def _live(selected: list[str], settings: CurveSettings, signature: tuple) -> None:
    store, feed = get_store(), get_feed()
    _refresh_runner(store)
    runs = classroom.visible_runs(store.list_runs())  # as the page lists them
    if status_signature(runs) != signature:
        st.rerun()  # a run started, ended or changed: the table and buttons must follow
    by_id = {run["id"]: run for run in runs}
    chosen = [by_id[rid] for rid in selected if rid in by_id]
    if not chosen:
        message = ("Select runs in the table to see their curves." if runs
                   else "No runs yet: launch a preset above to see two models learn side by side.")
        show_chart(empty_figure("Loss", message), key="curve.empty")
        return
    entries, figures = curve_figures(feed, chosen, settings, st.session_state.setdefault(PREFIX + "figures", {}))
    labels, colors = run_labels(chosen), run_colors(chosen) if len(chosen) > 1 else {}
    for run in chosen:
        _run_status(run, labels[run["id"]], entries[run["id"]].latest("steps_per_s"), colors.get(run["id"]))
    if not any(group.primary for group, _ in figures):
        waiting = "Waiting for the first logged step…" if any(
            r["status"] in ACTIVE_STATUSES for r in chosen) else "These runs logged no metrics."
        show_chart(empty_figure("Loss", waiting), key="curve.empty")
    _chart_grid([f for f in figures if f[0].primary])
    secondary = [f for f in figures if not f[0].primary]
    if secondary:
        st.markdown("**Optimiser and speed**")
        _chart_grid(secondary)


def _chart_grid(figures: Sequence[tuple[MetricGroup, go.Figure]], per_row: int = 2) -> None:
    for start in range(0, len(figures), per_row):
        for (group, fig), col in zip(figures[start:start + per_row], st.columns(per_row)):
            show_chart(fig, key=f"curve.{group.key}", where=col)


def _run_status(run: dict[str, Any], label: str, steps_per_s: float | None, color: str | None) -> None:
    """One line per run: name (in its curves' colour when runs are compared), status badge,
    device, and a progress bar with speed and ETA; its error if it failed; links to the other
    pages once it has embeddings. Few elements: this is redrawn every second."""
    status = run["status"]
    p = progress(run["step"], run.get("total_steps"), steps_per_s if status == "running" else None)
    key = f'<span style="color:{color}; font-weight:900">━━</span> ' if color else ""
    name_col, bar_col = st.columns([2, 3], vertical_alignment="center")
    name_col.markdown(
        f"{key}**{html.escape(label)}** :{STATUS_COLORS.get(status, 'gray')}-badge[{status}]  \n"
        f"<small>{run['model']} on {run['dataset']} · device {run.get('device') or '–'}</small>",
        unsafe_allow_html=True)
    text = f"step {p.step:,} / {p.total:,}" if p.total else f"step {p.step:,}"
    if status == "running" and p.steps_per_s:
        text += f" · {p.steps_per_s:.1f} steps/s · ETA {format_duration(p.eta_s)}"
    elif status == "queued":
        text += " · waiting for a free slot (at most a few runs train at once)"
    bar_col.progress(p.fraction, text=text)
    if status == "failed":
        st.error(f"**{label} failed:** {run.get('error') or 'no message; see log.txt in its folder'}",
                 icon=":material/error:")
    elif status == "interrupted":
        st.warning(f"**{label}** was interrupted: its trainer is gone (the server or machine restarted). "
                   "Select it and press Resume to continue from its last checkpoint.",
                   icon=":material/pause_circle:")
    elif status == "finished":
        st.markdown(f"Look at {label}'s embeddings: [Explorer](explorer?run={run['id']}) · "
                    f"[Similarity](similarity?run={run['id']})")
