"""The Hierarchy lab page: construction, metrics table, validation of uploads, trained runs."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.figures import decode, figure

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "hierarchy.py")


def _run(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_construction_on_the_default_tree_scores_one_on_edges():
    at = _run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table.loc["MAP (direct edges)", "hyperbolic construction"] == pytest.approx(1.0)
    assert table.loc["MAP (direct edges)", "Euclidean construction"] < 1.0
    disk = figure(at, "construct_disk")
    assert disk["layout"]["yaxis"]["scaleanchor"] == "x"
    nodes = [t for t in disk["data"] if t.get("name") == "nodes"][0]
    x, y = decode(nodes["x"]), decode(nodes["y"])
    assert len(x) == 121 and "root" in nodes["hovertext"][0]
    assert np.all(np.hypot(x, y) < 1.0)
    assert figure(at, "construct_plane")["layout"]["yaxis"]["scaleanchor"] == "x"


def test_precision_sweep_draws_both_arithmetics():
    at = _run(**{"hl.b": 2, "hl.d": 3})
    at.button(key="sweep").click().run()
    assert not at.exception
    fig = figure(at, "precision")
    assert {t["name"] for t in fig["data"]} == {"float64", "high (mpmath)"}


def test_upload_errors_are_shown_not_raised():
    at = _run(**{"hl.h": "upload"})
    assert not at.exception
    assert any("Upload a CSV" in i.value for i in at.info)


def test_train_mode_shows_runs_from_the_store(tmp_path, monkeypatch):
    import os

    from mmviz.runs.loop import train_run
    from mmviz.runs.store import RunStore
    from mmviz.runs.train_config import resolve_config

    store = RunStore(os.environ["MMVIZ_HOME"])
    for model in ("poincare-embed", "euclid-embed"):
        config = resolve_config({"dataset": "tree", "dataset_params": {"branching": 3, "depth": 4}, "model": model,
                                 "model_params": {"dim": 2, "negatives": 10, "burn_in": 10}, "steps": 40,
                                 "batch_size": 64, "lr": 0.05, "eval_every": 20, "log_every": 10,
                                 "device": "cpu", "threads": 1, "name": model})
        run_id = store.create_run(config, name=model, dataset="tree", model=model, total_steps=40)
        assert train_run(store, run_id) == "finished"
    at = _run(**{"hl.method": "train"})
    assert not at.exception
    disks = [k for k in ("live_loss", "live_map")]
    for key in disks:
        assert figure(at, key)["data"]
    table = at.dataframe[0].value
    assert set(table.columns) == {"poincare-embed", "euclid-embed"}
    assert 0 < table.loc["MAP (closure)", "poincare-embed"] <= 1
    dim_fig = figure(at, "by_dim")
    assert {t["name"] for t in dim_fig["data"]} == {"Poincaré (your runs)", "Euclidean (your runs)"}


def test_all_nouns_shows_a_breadth_first_part_with_a_caption():
    at = _run(**{"hl.h": "wordnet-noun", "hl.root": "Animal", "hl.n": 300})
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "82,115 synsets" in captions and "**300 synsets nearest animal.n.01**" in captions
    assert "**300 nodes**" in captions
    nodes = [t for t in figure(at, "construct_disk")["data"] if t.get("name") == "nodes"][0]
    assert len(decode(nodes["x"])) == 300 and "animal" in nodes["hovertext"][0]


def test_all_nouns_with_an_unknown_root_says_so():
    at = _run(**{"hl.h": "wordnet-noun", "hl.root": "no such noun at all"})
    assert not at.exception
    assert at.error and "no noun 'no such noun at all'" in at.error[0].value


def test_all_nouns_small_subtree_is_shown_whole_and_trainable():
    at = _run(**{"hl.h": "wordnet-noun", "hl.root": "n02084071", "hl.n": 2000, "hl.method": "train"})
    assert not at.exception and not at.error
    captions = " ".join(c.value for c in at.caption)
    assert "all 190 synsets under **dog.n.01**" in captions
    assert any("Press the button to train" in i.value for i in at.info)
