"""The Geometry page runs, draws its disk, and its read-outs follow the controls."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.figures import figure as _figure
from tests.app.figures import xy

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "geometry.py")


def _run(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _distances(at: AppTest) -> np.ndarray:
    return at.dataframe[0].value["hyperbolic"].to_numpy()


def test_page_runs_and_draws_a_round_disk():
    at = _run()
    assert not at.exception
    fig = _figure(at, "distance_disk")
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"  # equal aspect: the disk is round
    boundary = fig["data"][0]
    r = np.hypot(*xy(boundary).T)
    np.testing.assert_allclose(r, 1.0, atol=1e-9)


def test_default_distance_matches_closed_form():
    # A at 0.8 of the radius, 150°; B at 0.85, 30°; c = 1:
    # d = arccosh(1 + 2|x−y|² / ((1−|x|²)(1−|y|²)))
    at = _run()
    a = 0.8 * np.array([np.cos(np.radians(150)), np.sin(np.radians(150))])
    b = 0.85 * np.array([np.cos(np.radians(30)), np.sin(np.radians(30))])
    expected = np.arccosh(1 + 2 * np.sum((a - b) ** 2) / ((1 - a @ a) * (1 - b @ b)))
    assert _distances(at)[0] == pytest.approx(expected, rel=1e-6)


def test_curvature_scales_distances():
    base = _distances(_run())
    at = _run(c=4.0)
    assert not at.exception
    # the same picture in curvature −4 is the unit-curvature one scaled by 1/√4
    np.testing.assert_allclose(_distances(at), base / 2.0, rtol=1e-6)


def test_recentring_keeps_distances_and_moves_the_point_to_the_centre():
    base = _run()
    at = _run(center="B")
    assert not at.exception
    np.testing.assert_allclose(_distances(at), _distances(base), rtol=1e-6)
    points = [t for t in _figure(at, "distance_disk")["data"] if t.get("mode") == "markers+text"][0]
    np.testing.assert_allclose(xy(points)[1], 0.0, atol=1e-9)
    euclid = at.dataframe[0].value["Euclidean (drawn)"].to_numpy()
    assert not np.allclose(euclid, base.dataframe[0].value["Euclidean (drawn)"].to_numpy())


def test_tree_panel_counts_and_room():
    at = _run(b=3, d=4)
    room = at.dataframe  # distances table, concept table
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["nodes at depth 4"] == "81"
    # siblings at the leaves are much further apart in the hyperbolic layout
    assert float(metrics["closest two leaves, hyperbolic"]) > 5 * float(metrics["closest two leaves, Euclidean"])
    assert len(room) == 2


def test_url_state_is_read_and_bad_values_fall_back():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["c"] = "2"
    at.query_params["b"] = "99"  # out of range → default
    at.run()
    assert not at.exception
    assert at.slider(key="c").value == 2.0
    assert at.slider(key="b").value == 3
