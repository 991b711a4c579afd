"""Teardown shared by the fixtures that launch runs: nothing a test started outlives it."""

from __future__ import annotations

import os
import signal

from mmviz.runs import runner
from mmviz.runs.store import RunStore


def stop_recorded_runs(store: RunStore) -> None:
    """Mark queued runs stopped, kill every live trainer the store recorded (never this very
    process, which some tests record as a run's trainer) and reap the runner's children."""
    for run in store.list_runs("queued"):
        store.update_run(run["id"], status="stopped", expect_status="queued")
    for run in store.list_runs():
        if run["pid"] and run["pid"] != os.getpid() and runner.is_alive(run):
            try:
                os.killpg(run["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
    for child in list(runner._children.values()):
        child.wait(timeout=10)
    runner._reap()
