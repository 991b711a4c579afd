"""The runner with tests/runs/fake_trainer.py as the trainer: launch, stop, kill -9, cap, resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable

import pytest

from mmviz.errors import MmvizError
from mmviz.runs import runner
from mmviz.runs.store import RunStore

TIMEOUT_S = 15.0  # generous for a loaded machine; a healthy run takes well under a second


def wait_until(predicate: Callable[[], object], what: str, timeout: float = TIMEOUT_S) -> object:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def fake_config(**overrides) -> dict:
    return {"dataset": "toy", "model": "clip", "steps": 5, "sleep": 0.01, **overrides}


def wait_for_step(store: RunStore, run_id: str, step: int) -> dict:
    return wait_until(lambda: (r := store.get_run(run_id))["step"] >= step and r, f"{run_id} to reach step {step}")


def wait_dead(run: dict) -> None:
    wait_until(lambda: not runner.is_alive(run) and (runner._reap() or True), f"pid {run['pid']} to end")


def test_launch_runs_fake_trainer_to_finished(store: RunStore):
    run_id = runner.launch(fake_config(steps=5), store=store)
    assert store.get_run(run_id)["status"] == "running"  # a free slot: started at once
    run = runner.wait_for_status(run_id, "finished", timeout=TIMEOUT_S, store=store)
    assert (run["step"], run["total_steps"], run["device"], run["error"]) == (5, 5, "cpu", None)
    assert store.metrics(run_id)["step"].tolist() == [1, 2, 3, 4, 5]
    assert run["started"] <= run["finished"]
    log = (store.run_dir(run_id) / runner.LOG_FILE).read_text()
    assert "runner:" in log and f"fake trainer: {run_id} finished" in log
    wait_dead(run)


def test_stop_finishes_step_checkpoints_and_sets_stopped(store: RunStore):
    run_id = runner.launch(fake_config(steps=100_000, sleep=0.02, checkpoint_every=1000), store=store)
    wait_for_step(store, run_id, 3)
    assert runner.stop(run_id, store=store) == "stopping"
    run = runner.wait_for_status(run_id, "stopped", timeout=TIMEOUT_S, store=store)
    checkpoint = json.loads((store.run_dir(run_id) / "fake_checkpoint.json").read_text())
    assert checkpoint["step"] == run["step"] >= 3  # checkpointed at the step it stopped on
    wait_dead(run)
    assert runner.refresh(store) == [] and store.get_run(run_id)["status"] == "stopped"


def test_stop_right_after_launch_ends_stopped(store: RunStore):
    """SIGTERM may land before the trainer has its handler; the run still ends ``stopped``."""
    run_id = runner.launch(fake_config(steps=100_000, sleep=0.02), store=store)
    assert runner.stop(run_id, store=store) in ("stopping", "stopped")
    wait_until(lambda: runner.refresh(store) is not None and store.get_run(run_id)["status"] == "stopped",
               "the run to be stopped")


def test_force_stop_kills_at_once(store: RunStore):
    run_id = runner.launch(fake_config(steps=100_000, sleep=0.02), store=store)
    run = wait_for_step(store, run_id, 1)
    assert runner.stop(run_id, store=store, force=True) == "stopped"
    wait_dead(run)


def test_kill_9_leaves_store_consistent_and_refresh_marks_interrupted(store: RunStore):
    run_id = runner.launch(fake_config(steps=100_000, sleep=0.005), store=store)
    run = wait_for_step(store, run_id, 5)
    os.killpg(run["pid"], signal.SIGKILL)
    wait_until(lambda: not runner.is_alive(run), "the killed trainer to be gone")
    assert store.get_run(run_id)["status"] == "running"  # nobody told the store
    assert runner.refresh(store) == [run_id]
    run = store.get_run(run_id)
    assert run["status"] == "interrupted" and "SIGKILL" in run["error"]
    metrics = store.metrics(run_id)
    assert metrics["step"].tolist() == list(range(1, run["step"] + 1))  # every committed step, once
    with sqlite3.connect(store.db_path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_cap_of_one_queues_second_run_until_first_ends(store: RunStore, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(runner.MAX_RUNS_ENV, "1")
    first = runner.launch(fake_config(steps=10, sleep=0.03), store=store)
    second = runner.launch(fake_config(steps=3), store=store)
    assert [store.get_run(r)["status"] for r in (first, second)] == ["running", "queued"]
    assert runner.refresh(store) == [] and store.get_run(second)["status"] == "queued"
    done_first = runner.wait_for_status(first, "finished", timeout=TIMEOUT_S, store=store)
    # Started by the first trainer's start_queued() on its way out.
    done_second = runner.wait_for_status(second, "finished", timeout=TIMEOUT_S, store=store)
    assert done_second["started"] >= done_first["finished"]
    assert done_second["step"] == 3


def test_stop_queued_run_never_starts(store: RunStore, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(runner.MAX_RUNS_ENV, "1")
    first = runner.launch(fake_config(steps=100_000, sleep=0.02), store=store)
    second = runner.launch(fake_config(), store=store)
    assert runner.stop(second, store=store) == "stopped"
    runner.stop(first, store=store, force=True)
    assert runner.refresh(store) == []
    run = store.get_run(second)
    assert (run["status"], run["pid"], run["started"]) == ("stopped", None, None)


def test_resume_interrupted_run_continues_from_its_checkpoint(store: RunStore):
    run_id = runner.launch(fake_config(steps=60, sleep=0.01, checkpoint_every=4), store=store)
    run = wait_for_step(store, run_id, 6)
    os.killpg(run["pid"], signal.SIGKILL)
    wait_dead(run)
    runner.refresh(store)
    assert store.get_run(run_id)["status"] == "interrupted"
    assert runner.resume(run_id, store=store) in ("queued", "running")
    run = runner.wait_for_status(run_id, "finished", timeout=TIMEOUT_S, store=store)
    assert run["config"]["resume"] is True and run["error"] is None
    # Steps after the last checkpoint were dropped and trained again: each step logged once.
    assert store.metrics(run_id)["step"].tolist() == list(range(1, 61))


def test_trainer_exception_sets_failed_and_failed_run_resumes(store: RunStore):
    run_id = runner.launch(fake_config(crash="exception", crash_at=3), store=store)
    run = runner.wait_for_status(run_id, "failed", timeout=TIMEOUT_S, store=store)
    assert (run["error"], run["step"]) == ("fake crash at step 3", 2)
    config_without_crash = {k: v for k, v in run["config"].items() if k != "crash"}
    store.update_run(run_id, config=config_without_crash)
    runner.resume(run_id, store=store)
    assert runner.wait_for_status(run_id, "finished", timeout=TIMEOUT_S, store=store)["step"] == 5


def test_hard_crash_is_interrupted_with_exit_code(store: RunStore):
    run_id = runner.launch(fake_config(crash="hard", crash_at=2), store=store)
    run = wait_until(lambda: (r := store.get_run(run_id))["pid"] and r, "a pid")
    wait_until(lambda: not runner.is_alive(run), "the crashed trainer to be gone")
    assert runner.refresh(store) == [run_id]
    run = store.get_run(run_id)
    assert run["status"] == "interrupted" and "exit code 3" in run["error"]


def test_refresh_keeps_live_runs_and_catches_pid_reuse(store: RunStore, monkeypatch: pytest.MonkeyPatch):
    """Our own pid is alive; the same pid with another start time is a different process."""
    run_id = store.create_run({}, dataset="toy", model="clip", total_steps=1, status="running")
    store.update_run(run_id, pid=os.getpid())
    assert runner.refresh(store) == [] and store.get_run(run_id)["status"] == "running"
    store.update_run(run_id, pid=os.getpid(), pid_start=store.get_run(run_id)["pid_start"] - 1)
    assert runner.refresh(store) == [run_id]
    assert store.get_run(run_id)["status"] == "interrupted"


def test_running_run_without_pid_gets_a_grace_period(store: RunStore, monkeypatch: pytest.MonkeyPatch):
    run_id = store.create_run({}, dataset="toy", model="clip", total_steps=1, status="running")
    assert runner.refresh(store) == []  # just claimed: its starter will record the pid
    monkeypatch.setattr(runner, "START_GRACE_S", 0.0)
    assert runner.refresh(store) == [run_id]


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("finished", runner.stop, "is finished; only queued or running runs can be stopped"),
        ("failed", runner.stop, "is failed; only queued or running runs can be stopped"),
        ("finished", runner.resume, "is finished; only stopped, interrupted, failed runs can be resumed"),
        ("queued", runner.resume, "is queued; only stopped, interrupted, failed runs can be resumed"),
    ],
)
def test_actions_refused_in_the_wrong_status(store: RunStore, status, action, message):
    run_id = store.create_run({}, dataset="toy", model="clip", total_steps=1, status=status)
    with pytest.raises(MmvizError, match=message):
        action(run_id, store=store)


def test_delete_refuses_a_live_run_and_removes_a_stopped_one(store: RunStore):
    run_id = store.create_run({}, dataset="toy", model="clip", total_steps=1, status="running")
    store.update_run(run_id, pid=os.getpid())
    with pytest.raises(MmvizError, match="is running; stop it first"):
        runner.delete(run_id, store=store)
    store.update_run(run_id, status="stopped", pid=None)
    runner.delete(run_id, store=store)
    assert not store.has_run(run_id) and not (store.home / run_id).exists()


@pytest.mark.parametrize(("raw", "expected"), [(None, 2), ("", 2), ("1", 1), (" 3 ", 3)])
def test_max_concurrent_runs_from_env(monkeypatch: pytest.MonkeyPatch, raw, expected):
    if raw is None:
        monkeypatch.delenv(runner.MAX_RUNS_ENV, raising=False)
    else:
        monkeypatch.setenv(runner.MAX_RUNS_ENV, raw)
    assert runner.max_concurrent_runs() == expected


@pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5"])
def test_bad_max_runs_is_a_readable_error(monkeypatch: pytest.MonkeyPatch, raw):
    monkeypatch.setenv(runner.MAX_RUNS_ENV, raw)
    with pytest.raises(MmvizError, match=f"MMVIZ_MAX_RUNS must be a whole number of runs, 1 or more \\(got '{raw}'\\)"):
        runner.max_concurrent_runs()


def test_train_command_precedence(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(runner.TRAIN_COMMAND_ENV, raising=False)
    assert runner.train_command() == [sys.executable, "-m", "mmviz", "train"]
    monkeypatch.setenv(runner.TRAIN_COMMAND_ENV, "python '/a b/t.py'")
    assert runner.train_command() == ["python", "/a b/t.py"]
    assert runner.train_command(["x"]) == ["x"]


@pytest.mark.parametrize("missing", ["dataset", "model"])
def test_launch_needs_dataset_and_model(store: RunStore, missing):
    config = fake_config()
    del config[missing]
    with pytest.raises(MmvizError, match=f"a run needs {missing} in its config"):
        runner.launch(config, store=store)
    assert store.list_runs() == []
