"""Run tests get their own MMVIZ_HOME and the fake trainer; no trainer outlives its test."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmviz.runs import runner
from mmviz.runs.store import RunStore
from tests.run_cleanup import stop_recorded_runs

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
    stop_recorded_runs(run_store)
