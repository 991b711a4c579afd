"""The Train page: launching from the form and from presets, the runs table and its actions,
and the URL as the experiment's address. Trainers are tests/runs/fake_trainer.py (fast, no
torch); AppTest cannot tick fragments, so the live part is tested in tests/browser."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mmviz.runs import runner
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import train_defaults
from mmviz.ui.train_runs import SELECTED_KEY
from tests.run_cleanup import stop_recorded_runs

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "train.py")
FAKE_TRAINER = Path(__file__).resolve().parents[1] / "runs" / "fake_trainer.py"


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The page's store (MMVIZ_HOME from tests/app/conftest.py); trainers are the fake one and
    none outlives the test."""
    monkeypatch.setenv(runner.TRAIN_COMMAND_ENV, shlex.join([sys.executable, str(FAKE_TRAINER)]))
    monkeypatch.delenv(runner.MAX_RUNS_ENV, raising=False)
    run_store = RunStore()
    yield run_store
    stop_recorded_runs(run_store)


def _page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _table(at: AppTest):
    return at.dataframe[0].value


def _fake_run(store: RunStore, status: str, **fields) -> str:
    run_id = store.create_run({"dataset": "gaussian", "model": "clip", "steps": 50}, dataset="gaussian",
                              model="clip", total_steps=50)
    store.update_run(run_id, status=status, started=time.time() - 5, **fields)
    return run_id


def test_the_form_launches_a_run_that_the_table_shows_and_stop_marks_it_stopped(store):
    at = _page(dataset="gaussian")
    at.number_input(key="train.gaussian.n").set_value(256)
    at.number_input(key="train.steps").set_value(100_000)  # the fake trainer runs until stopped
    _button(at, "Launch run").click().run()
    assert not at.exception and not at.error
    (run,) = store.list_runs()
    assert run["config"]["dataset_params"]["n"] == 256 and run["config"]["steps"] == 100_000
    assert run["config"]["model"] == "clip" and run["config"]["lr"] == train_defaults()["lr"]
    table = _table(at)
    assert list(table["id"]) == [run["id"]] and table["status"][0] in ("queued", "running")
    assert at.query_params["runs"] == run["id"]  # launched = selected, and in the URL
    runner.wait_for_status(run["id"], "running", timeout=20, store=store)
    at.run()
    assert not _button(at, "Stop").disabled and _button(at, "Resume").disabled
    _button(at, "Stop").click().run()
    runner.wait_for_status(run["id"], "stopped", timeout=20, store=store)
    at.run()
    assert _table(at)["status"][0] == "stopped"
    assert _button(at, "Stop").disabled and not _button(at, "Resume").disabled


@pytest.mark.parametrize("settings, message", [
    ({"train.clip.cnn_widths": "16,wide"}, "cnn_widths must be comma-separated whole numbers"),
    ({"train.clip.init_temperature": 0.01, "train.clip.max_logit_scale": 50.0},  # each fine, not together
     "gives a logit scale above max_logit_scale 50"),
])
def test_a_bad_setting_shows_an_error_and_launches_nothing(store, settings, message):
    at = _page()
    for key, value in settings.items():
        (at.text_input(key=key) if isinstance(value, str) else at.number_input(key=key)).set_value(value)
    at.run()
    assert not at.exception
    assert [e.value for e in at.error if message in e.value], [e.value for e in at.error]
    assert _button(at, "Launch run").disabled  # refused before a run can exist
    assert store.list_runs() == []


def _error_under(at, key: str) -> str:
    """The error shown right after widget ``key`` in its column (the field's own message slot)."""
    column = next(c for c in at.columns if any(getattr(w, "key", None) == key for w in c))
    children = list(column)
    at_field = next(i for i, w in enumerate(children) if getattr(w, "key", None) == key)
    following = children[at_field + 1] if at_field + 1 < len(children) else None
    return following.value if following is not None and following.type == "error" else ""


@pytest.mark.parametrize("setup, key, message", [
    ({"train.dataset": "trifeature-captions", "train.trifeature-captions.n": 100}, "train.batch_size",
     "batch_size 256 is larger than the training set: trifeature-captions has 100 training pairs"),
    ({"train.clip.cnn_widths": "16,wide"}, "train.clip.cnn_widths", "cnn_widths must be comma-separated"),
])
def test_a_refusal_is_shown_beside_its_field(store, setup, key, message):
    at = _page()
    for widget, value in setup.items():
        kind = at.text_input if isinstance(value, str) else at.number_input
        (at.selectbox if widget == "train.dataset" else kind)(key=widget).set_value(value)
        at.run()
    assert not at.exception
    assert message in _error_under(at, key)
    assert _button(at, "Launch run").disabled and store.list_runs() == []


def test_a_preset_launches_its_runs_and_overlays_them(store):
    at = _page()
    _button(at, "Launch").click().run()  # the first preset: CLIP vs MERU
    assert not at.exception and not at.error
    runs = store.list_runs()
    assert sorted(r["model"] for r in runs) == ["clip", "meru"]
    assert {r["config"]["dataset"] for r in runs} == {"trifeature-captions"}
    selected = at.query_params["runs"].split(",")
    assert [store.get_run(rid)["name"] for rid in selected] == ["CLIP", "MERU"]
    keys = [m.value for m in at.markdown if "━━" in m.value]  # each run's colour key, name and status
    assert [k.split("  \n")[0] for k in keys] == [
        '<span style="color:#ea580c; font-weight:900">━━</span> **CLIP** :blue-badge[running]',
        '<span style="color:#4338ca; font-weight:900">━━</span> **MERU** :blue-badge[running]']


def test_a_link_opens_the_same_experiment(store):
    query = {"dataset": "gaussian", "gaussian.n": "300", "model": "meru", "meru.dim": "16", "steps": "77",
             "lr": "0.01", "device": "cpu", "smooth": "0.3", "logy": "True", "x": "time"}
    at = _page(**query)
    assert not at.exception
    assert at.selectbox(key="train.dataset").value == "gaussian" and at.selectbox(key="train.model").value == "meru"
    assert at.number_input(key="train.gaussian.n").value == 300 and at.number_input(key="train.meru.dim").value == 16
    assert at.number_input(key="train.steps").value == 77 and at.number_input(key="train.lr").value == 0.01
    assert at.selectbox(key="train.device").value == "cpu"
    assert at.slider(key="train.smooth").value == 0.3 and at.toggle(key="train.logy").value is True
    assert at.radio(key="train.x").value == "time"
    assert {k: at.query_params[k] for k in query} == query  # and the page keeps it so


def test_a_failed_run_shows_its_error_and_an_interrupted_one_can_be_resumed(store):
    failed = _fake_run(store, "failed", error="loss became NaN/Inf at step 4 (lr=4e+05)", step=3)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = _fake_run(store, "running", pid=dead.pid, step=20)  # its trainer died with the last server
    at = _page(runs=f"{failed},{orphan}")
    assert store.get_run(orphan)["status"] == "interrupted"  # the page asked the runner to look
    table = _table(at).set_index("id")
    assert table.loc[failed, "error"].startswith("loss became NaN") and table.loc[orphan, "status"] == "interrupted"
    assert any("failed:** loss became NaN/Inf at step 4" in e.value for e in at.error)
    assert any("was interrupted" in w.value for w in at.warning)
    _button(at, "Resume").click().run()
    for run_id in (failed, orphan):
        assert store.get_run(run_id)["config"]["resume"] is True
        runner.wait_for_status(run_id, "finished", timeout=30, store=store)


def test_delete_asks_first(store):
    run_id = _fake_run(store, "finished", finished=time.time())
    at = _page(runs=run_id)
    _button(at, "Delete…").click().run()
    assert store.has_run(run_id) and "Delete 1 run" in at.warning[0].value
    _button(at, "Cancel").click().run()
    assert store.has_run(run_id) and not at.warning
    _button(at, "Delete…").click().run()
    _button(at, "Yes, delete").click().run()
    assert not store.has_run(run_id) and _table(at).empty


def test_a_reference_run_cannot_be_stopped_resumed_or_deleted_but_can_be_trained_again(store):
    ref = store.create_run({"dataset": "gaussian", "model": "clip", "steps": 50, "name": "reference clip"},
                           dataset="gaussian", model="clip", total_steps=50, status="finished",
                           run_id="ref-clip", reference=True)
    at = _page(runs=ref)
    table = _table(at).set_index("id")
    assert bool(table.loc[ref, "reference"])
    for label in ("Stop", "Resume", "Delete…"):
        assert _button(at, label).disabled, label
    _button(at, "Train this again").click().run()
    copies = [r for r in store.list_runs() if r["id"] != ref]
    assert len(copies) == 1 and copies[0]["name"] == "reference clip (copy)" and not copies[0]["reference"]
    assert copies[0]["config"]["steps"] == 50
    assert store.get_run(ref)["status"] == "finished" and store.has_run(ref)


def test_a_run_from_before_a_parameter_existed_trains_again_as_it_was(store):
    # CoMM runs stored before cnn_norm and views existed had GroupNorm CNNs and augmented the stored
    # images (today's defaults: batch, fresh renders)
    old = store.create_run({"dataset": "trifeature-pairs", "model": "comm", "steps": 5, "name": "old comm",
                            "model_params": {"dim": 16}},
                           dataset="trifeature-pairs", model="comm", total_steps=5, status="finished")
    at = _page(runs=old)
    _button(at, "Train this again").click().run()
    copies = [r for r in store.list_runs() if r["id"] != old]
    assert len(copies) == 1
    assert copies[0]["config"]["model_params"] == {"dim": 16, "cnn_norm": "group", "views": "augment",
                                                   "loss_reduction": "sum"}


def test_a_model_with_its_own_training_defaults_fills_the_form_with_them(store):
    at = _page()
    at.selectbox(key="train.dataset").set_value("wordnet-mammal").run()
    assert at.selectbox(key="train.model").value == "poincare-embed"  # the first model that trains on trees
    assert at.number_input(key="train.lr").value == 0.1 and at.number_input(key="train.steps").value == 3000
    at.selectbox(key="train.dataset").set_value("trifeature-captions").run()
    assert at.selectbox(key="train.model").value == "clip"
    assert at.number_input(key="train.lr").value == train_defaults()["lr"]
    assert at.number_input(key="train.steps").value == train_defaults()["steps"]
    assert not at.exception and not at.warning


def test_a_link_keeps_its_training_values_for_a_model_with_its_own_defaults(store):
    at = _page(dataset="wordnet-mammal", model="euclid-embed", lr="0.05")
    assert at.number_input(key="train.lr").value == 0.05 and at.number_input(key="train.steps").value == 3000


def test_a_first_visit_with_nothing_training_shows_the_reference_clip_and_meru_curves(store):
    for run_id in ("ref-clip", "ref-meru", "ref-gauss"):
        store.create_run({"dataset": "gaussian", "model": "clip", "steps": 50, "name": run_id}, dataset="gaussian",
                         model="clip", total_steps=50, status="finished", run_id=run_id, reference=True)
    at = _page()
    assert not at.exception, at.exception
    assert at.session_state[SELECTED_KEY] == "ref-clip,ref-meru"
    assert at.query_params["runs"] in ("ref-clip,ref-meru", ["ref-clip,ref-meru"])
    # A link with its own selection keeps it.
    assert _page(runs="ref-gauss").session_state[SELECTED_KEY] == "ref-gauss"
