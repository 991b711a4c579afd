"""Every chart: Plotly's download button set once (1920 × 1080 PNG, or SVG), a CSV of the data
behind the figure, and presenter mode (?present=1: larger fonts and markers, no sidebar, no CSV
buttons)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from mmviz.ui.charts import figure_csv, figure_frame
from tests.app.figures import figure

GEOMETRY = str(Path(__file__).resolve().parents[2] / "pages" / "geometry.py")


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MMVIZ_REFERENCE_RUNS", "none")


def test_the_csv_holds_each_traces_values_and_skips_drawing_aids():
    fig = go.Figure([
        go.Scatter(x=[0.0, 1.0], y=[0.0, 0.0], name="rim", hoverinfo="skip", showlegend=False),
        go.Scatter(x=[0.1, 0.2, 0.3], y=[1.0, 2.0, 3.0], name="image (3)", hovertext=["a", "<b>b</b>", "c"]),
        go.Heatmap(z=[[1, 2], [3, 4]], x=["t1", "t2"], y=["i1", "i2"], name="similarity"),
    ])
    frame = figure_frame(fig)
    points = frame[frame["trace"] == "image (3)"]
    assert points[["x", "y"]].values.tolist() == [[0.1, 1.0], [0.2, 2.0], [0.3, 3.0]]
    assert points["hover"].tolist() == ["a", " b ", "c"]
    heat = frame[frame["trace"] == "similarity"]
    assert heat[["y", "x", "z"]].values.tolist() == [["i1", "t1", 1], ["i1", "t2", 2], ["i2", "t1", 3], ["i2", "t2", 4]]
    assert "rim" not in set(frame["trace"])
    assert list(pd.read_csv(io.BytesIO(figure_csv(fig))).columns) == ["trace", "x", "y", "hover", "z"]


def _chart_protos(at):
    return [el.proto for el in at.get("plotly_chart")]


def test_every_chart_downloads_a_slide_png_and_its_data():
    at = AppTest.from_file(GEOMETRY, default_timeout=60).run()
    assert not at.exception, at.exception
    protos = _chart_protos(at)
    assert protos
    for proto in protos:
        options = json.loads(proto.config)["toImageButtonOptions"]
        assert (options["format"], options["width"], options["height"]) == ("png", 1920, 1080)
    csv_buttons = [b for b in at.get("download_button") if b.proto.label == "data (CSV)"]
    assert len(csv_buttons) == len(protos)
    at.sidebar.radio[0].set_value("svg").run()
    assert all(json.loads(p.config)["toImageButtonOptions"]["format"] == "svg" for p in _chart_protos(at))


def test_presenter_mode_enlarges_and_hides():
    normal = AppTest.from_file(GEOMETRY, default_timeout=60).run()
    at = AppTest.from_file(GEOMETRY, default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception, at.exception
    assert any("stSidebar" in m.value and "display: none" in m.value for m in at.markdown)
    assert not [b for b in at.get("download_button") if b.proto.label == "data (CSV)"]
    big, small = figure(at, "distance_disk"), figure(normal, "distance_disk")
    assert big["layout"]["font"]["size"] == 22 and big["layout"]["height"] >= 780
    assert small["layout"].get("font", {}).get("size", 14) < 22
