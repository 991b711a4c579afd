"""A class on one server: two students (AppTest sessions posing as clients at other addresses,
``classroom.CLIENT_KEY``) and the teacher (the machine itself: an AppTest session without a pose).

A student acts only on the runs it launched (buttons disabled with a reason, and refused on the
server when pressed anyway); the teacher acts on all, reference and CLI runs included. Each student
has a launch quota; runs beyond the runner's cap wait visibly in the queue. Uploads and embedding
jobs stay with the session that made them."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mmviz.data.embeddings_io import EmbeddingSet, save_embeddings
from mmviz.errors import MmvizError
from mmviz.paths import mmviz_home
from mmviz.runs import runner
from mmviz.runs.jobs import JOB_FILE, Job, job_dir
from mmviz.runs.store import RunStore
from mmviz.ui import classroom
from mmviz.ui.classroom import CLIENT_KEY, Viewer
from tests.run_cleanup import stop_recorded_runs

ROOT = Path(__file__).resolve().parents[2]
TRAIN = str(ROOT / "pages" / "train.py")
EXPLORER = str(ROOT / "pages" / "explorer.py")
HIERARCHY = str(ROOT / "pages" / "hierarchy.py")
FAKE_TRAINER = ROOT / "tests" / "runs" / "fake_trainer.py"
ALICE = {"ip": "10.0.0.11", "owner": "b-alice"}
BOB = {"ip": "10.0.0.12", "owner": "b-bob"}


@pytest.fixture
def store(monkeypatch):
    """The pages' store; trainers are the fake one and none outlives the test."""
    monkeypatch.setenv(runner.TRAIN_COMMAND_ENV, shlex.join([sys.executable, str(FAKE_TRAINER)]))
    monkeypatch.delenv(runner.MAX_RUNS_ENV, raising=False)
    monkeypatch.delenv(classroom.QUOTA_ENV, raising=False)
    run_store = RunStore()
    yield run_store
    stop_recorded_runs(run_store)


def _session(page: str, client: dict | None, **query) -> AppTest:
    """A session of ``page``: a student at ``client`` (None: the machine serving the app)."""
    at = AppTest.from_file(page, default_timeout=120)
    if client is not None:
        at.session_state[CLIENT_KEY] = client
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _forge_click(button):
    """What a browser that sends a click on a disabled button does (AppTest refuses to click it)."""
    button.proto.disabled = False
    return button.click()


def _launch_from_form(at: AppTest) -> None:
    at.selectbox(key="train.dataset").set_value("gaussian").run()
    at.number_input(key="train.gaussian.n").set_value(256)
    at.number_input(key="train.steps").set_value(100_000)  # the fake trainer runs until stopped
    _button(at, "Launch run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]


def test_a_student_acts_only_on_its_own_runs_and_the_teacher_on_all(store):
    alice = _session(TRAIN, ALICE)
    _launch_from_form(alice)
    (run,) = store.list_runs()
    assert run["owner"] == "b-alice"  # the launching session's owner id, on the run
    runner.wait_for_status(run["id"], "running", timeout=20, store=store)

    bob = _session(TRAIN, BOB, runs=run["id"])
    assert not bob.exception
    stop = _button(bob, "Stop")
    assert stop.disabled and "Another session launched this run" in stop.help
    assert bob.dataframe[0].value["launched by"][0] == "another browser"
    _forge_click(stop).run()  # a browser that sends the click anyway: Streamlit drops it, nothing happens
    assert store.get_run(run["id"])["status"] == "running" and not store.get_run(run["id"])["stop_requested"]

    alice.run()
    assert alice.dataframe[0].value["launched by"][0] == "you"
    assert not _button(alice, "Stop").disabled
    teacher = _session(TRAIN, None, runs=run["id"])
    assert not _button(teacher, "Stop").disabled  # the machine itself acts on every run
    _button(teacher, "Stop").click().run()
    runner.wait_for_status(run["id"], "stopped", timeout=20, store=store)
    bob.run()
    assert _button(bob, "Resume").disabled and _button(bob, "Delete…").disabled


def test_runs_from_the_cli_belong_to_nobody_only_the_teacher_acts_on_them(store):
    run_id = store.create_run({"dataset": "gaussian", "model": "clip", "steps": 5}, dataset="gaussian", model="clip",
                              total_steps=5, status="finished")
    alice = _session(TRAIN, ALICE, runs=run_id)
    delete = _button(alice, "Delete…")
    assert delete.disabled and "command line" in delete.help
    assert alice.dataframe[0].value["launched by"][0] == "command line"
    alice.session_state["train.confirm_delete"] = run_id  # a forged confirmation: refused on the server
    alice.run()
    _button(alice, "Yes, delete").click().run()
    assert store.has_run(run_id) and any("you cannot delete it" in e.value for e in alice.error)
    teacher = _session(TRAIN, None, runs=run_id)
    assert not _button(teacher, "Delete…").disabled


def test_each_student_has_a_launch_quota_the_teacher_none(store, monkeypatch):
    monkeypatch.setenv(classroom.QUOTA_ENV, "1")
    other_tab = _session(TRAIN, ALICE)  # Alice's second tab, drawn while she had no run yet
    other_tab.selectbox(key="train.dataset").set_value("gaussian").run()
    alice = _session(TRAIN, ALICE)
    _launch_from_form(alice)
    assert len(store.list_runs()) == 1
    alice.run()
    launch = _button(alice, "Launch run")
    assert launch.disabled
    assert any("each browser may have 1 run queued or training at once" in w.value for w in alice.warning)
    _button(other_tab, "Launch run").click().run()  # still enabled there: the quota is checked again on launch
    assert len(store.list_runs()) == 1
    assert any("each browser may have 1 run" in w.value for w in other_tab.warning)
    with pytest.raises(MmvizError, match="each browser may have 1 run"):  # what launching checks, at creation
        classroom.check_quota(store, who=Viewer("b-alice", False))
    classroom.check_quota(store, who=Viewer("b-bob", False))  # Bob's quota is his own
    alice.button(key="preset.clip-vs-meru").click().run()  # a preset of two runs: all or none
    assert len(store.list_runs()) == 1 and any("This preset can't start" in e.value for e in alice.error)

    bob = _session(TRAIN, BOB)  # another student's quota is its own
    assert not _button(bob, "Launch run").disabled
    teacher = _session(TRAIN, None)
    _launch_from_form(teacher)
    _launch_from_form(teacher)
    assert len(store.list_runs()) == 3  # the machine serving the app has no quota


def test_runs_beyond_the_runners_cap_wait_in_the_queue_with_their_place(store, monkeypatch):
    monkeypatch.setenv(runner.MAX_RUNS_ENV, "1")
    busy = store.create_run({"dataset": "gaussian", "model": "clip"}, dataset="gaussian", model="clip", total_steps=9)
    store.update_run(busy, status="running", started=time.time())  # holds the one slot (just claimed: no pid yet)
    waiting = [store.create_run({"dataset": "gaussian", "model": "clip", "i": i}, dataset="gaussian", model="clip",
                                total_steps=9, owner="b-alice") for i in range(2)]
    alice = _session(TRAIN, ALICE)
    table = alice.dataframe[0].value.set_index("id")
    assert table.loc[waiting[0], "status"] == "queued" and table.loc[waiting[0], "queue"] == "1 of 2"
    assert table.loc[waiting[1], "queue"] == "2 of 2" and table.loc[busy, "queue"] == ""
    assert any("2 runs wait in the queue" in c.value and "trains 1 run at a time" in c.value for c in alice.caption)


def test_a_run_on_an_uploaded_edge_list_is_its_uploaders_only(store):
    edges = b"child,parent\nmammal,animal\ndog,mammal\ncat,mammal\n"
    alice = _session(HIERARCHY, ALICE)
    alice.session_state["hl.h"] = "upload"
    alice.run()
    alice.file_uploader[0].upload("zoo.csv", edges).run()
    assert not alice.exception and not alice.error
    folder = mmviz_home() / "uploads" / "b-alice" / "edgelists"
    (saved,) = folder.iterdir()  # kept in the uploader's own folder
    config = {"dataset": "edgelist", "dataset_params": {"path": str(saved)}, "model": "poincare-embed"}
    run_id = store.create_run(config, dataset="edgelist", model="poincare-embed", total_steps=5, owner="b-alice",
                              status="finished")
    shared = store.create_run({"dataset": "tree", "model": "poincare-embed"}, dataset="tree", model="poincare-embed",
                              total_steps=5, owner="b-alice", status="finished")
    assert set(_session(TRAIN, ALICE).dataframe[0].value["id"]) == {run_id, shared}
    assert set(_session(TRAIN, BOB).dataframe[0].value["id"]) == {shared}  # its data, and names, are Alice's
    assert set(_session(TRAIN, None).dataframe[0].value["id"]) == {run_id, shared}
    bob = Viewer("b-bob", False, "10.0.0.12")
    assert not classroom.visible(store.get_run(run_id), bob) and classroom.visible(store.get_run(shared), bob)

    bob_lab = _session(HIERARCHY, BOB)
    bob_lab.session_state["hl.h"] = "upload"
    bob_lab.run()
    assert not bob_lab.exception and any("Upload a CSV" in i.value for i in bob_lab.info)  # nothing of Alice's
    bob_lab.file_uploader[0].upload("zoo.csv", edges).run()  # the same file: Bob's own copy, his own runs
    assert (mmviz_home() / "uploads" / "b-bob" / "edgelists" / saved.name).is_file()


def _npz(tmp_path: Path) -> bytes:
    rng = np.random.default_rng(0)
    meta = pd.DataFrame({"modality": ["image"] * 20 + ["text"] * 20, "label": [f"secret {i}" for i in range(40)]})
    es = EmbeddingSet(rng.normal(size=(40, 4)).astype(np.float32) * 0.1, meta, "poincare", 1.0)
    return save_embeddings(tmp_path / "mine.npz", es).read_bytes()


def test_an_uploaded_embeddings_file_is_seen_by_its_session_only(tmp_path):
    alice = _session(EXPLORER, ALICE, source="file")
    alice.file_uploader[0].upload("mine.npz", _npz(tmp_path)).run()
    assert not alice.exception and not alice.error
    assert any("40 points" in c.value for c in alice.caption)
    bob = _session(EXPLORER, BOB, source="file")  # the same page, the same source: no file of Alice's
    assert not bob.exception and any("Upload an embeddings file" in i.value for i in bob.info)
    assert not any("secret" in str(c.value) for c in bob.caption)


def _jobs_menu(at: AppTest) -> list:
    return [s for s in at.selectbox if s.key == "job"]


def _job(owner: str | None, label: str) -> Job:
    job = Job(id=f"embed-20260101-000000-{label}", kind="embed", label=label, args=["embed-model"], state="failed",
              message="no weights", owner=owner)
    folder = job_dir(job.id)
    folder.mkdir(parents=True)
    (folder / JOB_FILE).write_text(json.dumps(job.__dict__))
    return job


def test_embedding_jobs_are_listed_for_the_session_that_started_them():
    mine, cli = _job("b-alice", "alices"), _job(None, "fromcli")
    alice = _session(EXPLORER, ALICE, source="pretrained")
    assert alice.selectbox(key="job").options == [f"{mine.label} · failed"]
    bob = _session(EXPLORER, BOB, source="pretrained")
    assert not bob.exception and not _jobs_menu(bob) and any("Pick a model" in i.value for i in bob.info)
    linked = _session(EXPLORER, BOB, source="pretrained", job=mine.id)  # a link to Alice's job
    assert any("No embedding job" in w.value for w in linked.warning) and not _jobs_menu(linked)
    teacher = _session(EXPLORER, None, source="pretrained")
    assert set(teacher.selectbox(key="job").options) == {f"{mine.label} · failed", f"{cli.label} · failed"}


def test_the_owner_id_is_the_browsers_xsrf_token_whatever_its_mask():
    token = bytes(range(16))
    masks = (b"\x01\x02\x03\x04", b"\xff\x00\xaa\x55")
    cookies = [f"2|{m.hex()}|{bytes(b ^ m[i % 4] for i, b in enumerate(token)).hex()}|1700000000" for m in masks]
    assert classroom._xsrf_token(cookies[0]) == classroom._xsrf_token(cookies[1]) == token.hex()
    assert classroom._xsrf_token(None) is None and classroom._xsrf_token("2|zz|zz|1") is None


def test_the_quota_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(classroom.QUOTA_ENV, raising=False)
    assert classroom.session_quota() == classroom.DEFAULT_QUOTA
    monkeypatch.setenv(classroom.QUOTA_ENV, "5")
    assert classroom.session_quota() == 5
    monkeypatch.setenv(classroom.QUOTA_ENV, "lots")
    with pytest.raises(MmvizError, match="MMVIZ_SESSION_QUOTA must be a whole number"):
        classroom.session_quota()
