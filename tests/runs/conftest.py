"""Run tests get their own MMVIZ_HOME and the fake trainer; no trainer outlives its test."""

from __future__ import annotations

import os
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmviz.runs import runner
from mmviz.runs.store import RunStore

FAKE_TRAINER = Path(__file__).with_name("fake_trainer.py")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MMVIZ_HOME; runners started from it use tests/runs/fake_trainer.py."""
    path = tmp_path / "mmviz_home"
    monkeypatch.setenv("MMVIZ_HOME", str(path))
    monkeypatch.setenv(runner.TRAIN_COMMAND_ENV, shlex.join([sys.executable, str(FAKE_TRAINER)]))
    monkeypatch.delenv(runner.MAX_RUNS_ENV, raising=False)
    return path


@pytest.fixture
def store(home: Path) -> Iterator[RunStore]:
    """A RunStore in the test's MMVIZ_HOME; afterwards every trainer it recorded is killed."""
    run_store = RunStore(home)
    yield run_store
    for run in run_store.list_runs("queued"):
        run_store.update_run(run["id"], status="stopped", expect_status="queued")
    for run in run_store.list_runs():
        # Some tests record this very process as a run's trainer; never kill that one.
        if run["pid"] != os.getpid() and runner.is_alive(run):
            try:
                os.killpg(run["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
    for child in list(runner._children.values()):
        child.wait(timeout=10)
    runner._reap()
