"""Every chart in the app goes through :func:`show_chart`: Plotly's own download button
configured once (PNG at slide resolution, or SVG: the sidebar picks), a CSV of the data behind
the figure, and presenter mode's larger fonts and markers.

The CSV is built only when someone clicks (a deferred download), so it costs nothing per rerun.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

SLIDE_WIDTH, SLIDE_HEIGHT = 1920, 1080
FORMAT_KEY = "_chart_format"
FORMATS = ("png", "svg")
PRESENTER_FONT = 22
PRESENTER_MARKER = 1.6  # markers grow by this factor in presenter mode
PRESENTER_HEIGHT = 780  # one figure per screen


def download_format() -> str:
    return st.session_state.get(FORMAT_KEY, "png")


def plotly_config(name: str = "mmviz") -> dict[str, Any]:
    """Plotly's config for every chart: the camera button downloads a 1920 × 1080 PNG (a 16:9
    slide) or an SVG, named after the chart."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": download_format(), "filename": name, "width": SLIDE_WIDTH,
                                 "height": SLIDE_HEIGHT, "scale": 1},
    }


def figure_frame(fig: go.Figure) -> pd.DataFrame:
    """The data behind a figure, one row per drawn value: trace name, kind, x, y (z for
    heatmaps, as rows), and the hover text. Traces without data (rims, grids) are skipped."""
    frames = []
    for i, trace in enumerate(fig.data):
        kind = trace.type
        name = getattr(trace, "name", None) or f"trace {i}"
        if getattr(trace, "hoverinfo", None) == "skip" and getattr(trace, "showlegend", True) is False:
            continue  # drawing aids: the disk's rim, grids, rings
        if kind == "heatmap" and trace.z is not None:
            z = pd.DataFrame(list(trace.z))
            z.index = list(trace.y) if trace.y is not None else z.index
            z.columns = list(trace.x) if trace.x is not None else z.columns
            long = z.stack(future_stack=True).reset_index()
            long.columns = ["y", "x", "z"]
            long.insert(0, "trace", name)
            frames.append(long)
            continue
        values: dict[str, Any] = {}
        for field in ("x", "y", "z", "r", "theta", "labels", "values", "parents"):
            data = getattr(trace, field, None) if field in trace else None
            if data is not None and not isinstance(data, str):
                values[field] = list(data)
        if not values:
            continue
        n = max(len(v) for v in values.values())
        frame = pd.DataFrame({k: v + [None] * (n - len(v)) for k, v in values.items()})
        text = getattr(trace, "hovertext", None) if "hovertext" in trace else None
        if text is not None and not isinstance(text, str) and len(text) == n:
            frame["hover"] = [re.sub(r"<[^>]+>", " ", str(t)) for t in text]
        frame.insert(0, "trace", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"trace": []})


def figure_csv(fig: go.Figure) -> bytes:
    buf = io.StringIO()
    figure_frame(fig).to_csv(buf, index=False)
    return buf.getvalue().encode()


def presenting() -> bool:
    return bool(st.session_state.get("_presenter"))  # set by ui.shell.presenter_mode


def for_presenter(fig: go.Figure) -> go.Figure:
    """Larger fonts and markers, and a figure that fills one screen."""
    fig = go.Figure(fig)
    fig.update_layout(font=dict(size=PRESENTER_FONT), height=max(PRESENTER_HEIGHT, fig.layout.height or 0))
    for trace in fig.data:
        marker = getattr(trace, "marker", None)
        size = getattr(marker, "size", None) if marker is not None else None
        if isinstance(size, (int, float)):
            trace.marker.size = size * PRESENTER_MARKER
    return fig


def show_chart(fig: go.Figure, *, where: Any = None, key: str | None = None, config: dict | None = None,
               csv: bool = True, **kwargs: Any):
    """``where.plotly_chart(fig, ...)`` with the app's config, a CSV of its data, presenter mode.

    Returns what ``plotly_chart`` returns (the selection state with ``on_select``).
    """
    where = where if where is not None else st
    name = re.sub(r"[^\w.-]+", "-", str(key or (fig.layout.title.text if fig.layout.title else "") or "chart"))
    own = plotly_config(name)
    merged = {**own, **(config or {}), "toImageButtonOptions": own["toImageButtonOptions"]}
    shown = for_presenter(fig) if presenting() else fig
    out = where.plotly_chart(shown, key=key, config=merged, **kwargs)
    if csv and not presenting():
        where.download_button("data (CSV)", data=lambda: figure_csv(fig), file_name=f"{name}.csv", mime="text/csv",
                              key=f"csv.{key}" if key else None, type="tertiary", icon=":material/download:",
                              on_click="ignore")
    return out
