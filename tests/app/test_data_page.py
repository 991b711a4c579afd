"""The Data page shows every registered dataset, and checks uploaded embeddings."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mmviz.data import list_datasets
from tests.app.figures import figure

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "data.py")


@pytest.mark.slow
@pytest.mark.parametrize("name", [d.name for d in list_datasets() if not d.user_file])
def test_each_dataset_has_a_view(name):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["dataset"] = name
    small = {"trifeature-pairs": {"n_train": 200, "n_test": 64}, "trifeature-captions": {"n": 300, "n_test": 100},
             "trifeature-triples": {"n_train": 200, "n_test": 64}}
    for key, value in small.get(name, {}).items():
        at.session_state[f"params.{name}.{key}"] = value
    at.run()
    assert not at.exception, at.exception
    assert not at.error, at.error[0].value
    assert at.get("plotly_chart"), "no chart drawn"


def test_pairs_view_shows_the_synergy_mapping():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["dataset"] = "trifeature-pairs"
    at.session_state["params.trifeature-pairs.n_train"] = 100
    at.run()
    table = at.dataframe[0].value
    assert len(table) == 10 and sorted(table.iloc[:, 1]) == sorted(
        ["red", "green", "blue", "yellow", "pink", "cyan", "purple", "ocean", "orange", "white"])
    # the pairs grid draws 12 pairs = 24 images, each with hover naming its attributes
    hover = figure(at, "grid")["data"][1]["hovertext"]
    assert len(hover) == 24 and hover[0].startswith("image 1:")


def test_bad_parameter_combination_shows_a_message_not_a_traceback():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["dataset"] = "gaussian"
    at.session_state["params.gaussian.k"] = 8
    at.session_state["params.gaussian.du"] = 4
    at.run()
    assert not at.exception
    assert at.error and "k" in at.error[0].value


def test_triples_view_shows_images_and_tones():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["dataset"] = "trifeature-triples"
    at.session_state["params.trifeature-triples.n_train"] = 100
    at.run()
    assert not at.exception, at.exception
    hover = figure(at, "grid")["data"][1]["hovertext"]
    assert len(hover) == 16 and "tone: pitch" in hover[0] and "S2 = 1" in hover[0]  # biased training split
    tones = figure(at, "tones")
    assert len(tones["data"]) == 4 and "rhythm 0" in tones["layout"]["annotations"][0]["text"]
    assert any("S1 holds for 100%" in m.value for m in at.markdown)
