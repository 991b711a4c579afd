"""The Beyond pairs page on shipped reference runs: each study opens with its numbers and
figures, and launching an unlearning run makes a child of the chosen run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mmviz.gallery.package import GALLERY_DIR
from mmviz.runs.store import RunStore
from tests.app.figures import figure
from tests.run_cleanup import stop_recorded_runs

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "beyond.py")
SHIPPED = ("clip", "clip-no-red", "clip-unlearn-red", "clip-negation", "meru-heldout")


@pytest.fixture
def references(tmp_path, monkeypatch):
    root = tmp_path / "refs"
    for name in SHIPPED:
        shutil.copytree(GALLERY_DIR / name, root / name)
    monkeypatch.setenv("MMVIZ_REFERENCE_RUNS", str(root))
    return root


def _open(study: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.query_params["study"] = study
    return at.run()


def test_composition_opens_on_the_heldout_meru_run(references):
    at = _open("composition")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table.group.tolist() == ["seen", "unseen"] and (table.images > 0).all()
    disk = figure(at, "composition_disk")
    labels = [t for trace in disk["data"] for t in (trace.get("text") or [])]
    assert {"a red star", "a star", "something red"} <= set(labels)
    assert any("cone" in str(h) for trace in disk["data"] for h in (trace.get("hovertext") or []))
    at.button[0].click().run()  # train CLIP on 80% of the triples, live
    assert not at.exception, at.exception
    store = RunStore()
    (live,) = [r for r in store.list_runs() if r["name"] == "clip on 80% of the triples (live)"]
    assert live["config"]["dataset_params"]["heldout_combinations"] is True
    stop_recorded_runs(store)


def test_negation_shows_the_failure_and_the_fine_tune(references):
    at = _open("negation")
    assert not at.exception, at.exception
    bars = figure(at, "negation_bars")["data"]
    assert [b["name"] for b in bars] == ["as trained", "fine-tuned with negated captions"]


def test_unlearning_compares_original_child_and_gold_standard_and_launches_a_child(references):
    at = _open("unlearning")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table.model.tolist() == ["original", "unlearned", "gold standard (retrained without it)"]
    forget = dict(zip(table.model, table["forget"]))
    assert forget["original"] > 0.9 and forget["unlearned"] < 0.3
    panels = figure(at, "unlearning_disk")["layout"]["annotations"]
    assert [p["text"] for p in panels][:2] == ["before (the parent run)", "after unlearning"]
    at.button[0].click().run()
    assert not at.exception, at.exception
    store = RunStore()
    kids = [r for r in store.list_runs() if r["config"].get("parent") == "ref-clip" and not r["id"].startswith("ref-")]
    assert len(kids) == 1 and kids[0]["config"]["unlearn"]["method"] == "graddiff"
    stop_recorded_runs(store)
