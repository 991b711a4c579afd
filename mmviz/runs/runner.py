"""The runner: starts trainers as their own processes and keeps run statuses true.

Every run trains in ``python -m mmviz train --run-id ID --home DIR``, started in a new session
(its own process group), so a Streamlit rerun or a crash of the app never touches a trainer and a
trainer crash never touches the app. At most ``max_concurrent_runs()`` runs are ``running``; the
rest wait ``queued`` and start when a slot frees (refresh() and each trainer's exit call
start_queued()).

Liveness: a ``running`` run whose process is gone (pid absent, a zombie, or a different process
that reused the pid: start times differ) is marked ``interrupted`` by refresh(). Children started
by this process are reaped on every call, so none lingers as a zombie.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import mmviz
from mmviz.errors import MmvizError
from mmviz.runs.process import process_alive
from mmviz.runs.store import RunStore

# The trainer, given "--run-id ID --home DIR". MMVIZ_TRAIN_COMMAND (a shell-quoted command line)
# overrides it; trainers inherit it, so the runs they start on exit use the same command.
TRAIN_COMMAND: list[str] = [sys.executable, "-m", "mmviz", "train"]
TRAIN_COMMAND_ENV = "MMVIZ_TRAIN_COMMAND"
MAX_RUNS_ENV = "MMVIZ_MAX_RUNS"
DEFAULT_MAX_RUNS = 2
LOG_FILE = "log.txt"
RESUMABLE = ("stopped", "interrupted", "failed")
# A run is claimed (status running) a moment before its pid is recorded; a run that stays
# running without a pid and without any update for this long lost its starter.
START_GRACE_S = 30.0
# How long stop() waits for a just-claimed run's pid before it gives up signalling.
PID_WAIT_S = 5.0
_PACKAGE_ROOT = Path(mmviz.__file__).resolve().parent.parent

_children: dict[str, subprocess.Popen] = {}  # run id -> trainer started by this process
_exit_codes: dict[str, int] = {}  # run id -> exit code of a reaped child, for error messages
_children_lock = threading.Lock()


def train_command(command: list[str] | None = None) -> list[str]:
    """The trainer command: ``command`` if given, else ``$MMVIZ_TRAIN_COMMAND``, else TRAIN_COMMAND."""
    if command is not None:
        return list(command)
    if os.environ.get(TRAIN_COMMAND_ENV):
        return shlex.split(os.environ[TRAIN_COMMAND_ENV])
    return list(TRAIN_COMMAND)


def env_run_count(name: str, default: int, minimum: int) -> int:
    """A number of runs set by environment variable ``name`` (``default`` when unset);
    MmvizError unless it is a whole number ≥ ``minimum``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise MmvizError(f"{name} must be a whole number of runs, {minimum} or more (got '{raw}')")
    return value


def max_concurrent_runs() -> int:
    """How many runs may be running at once: ``$MMVIZ_MAX_RUNS`` or 2."""
    return env_run_count(MAX_RUNS_ENV, DEFAULT_MAX_RUNS, 1)


def is_alive(run: dict[str, Any]) -> bool:
    """Whether the process recorded for ``run`` (a store row) is still that live process."""
    return process_alive(run.get("pid"), run.get("pid_start"))


def _reap() -> None:
    """Collect exit codes of finished children, so none stays a zombie."""
    with _children_lock:
        for run_id, child in list(_children.items()):
            code = child.poll()
            if code is not None:
                del _children[run_id]
                _exit_codes[run_id] = code
        while len(_exit_codes) > 256:  # keep the table small in a long-lived app process
            del _exit_codes[next(iter(_exit_codes))]


def _spawn(store: RunStore, run_id: str, command: list[str]) -> subprocess.Popen:
    """Start the trainer for ``run_id`` in a new session, output appended to the run's log.txt."""
    argv = [*command, "--run-id", run_id, "--home", str(store.home)]
    env = dict(os.environ)
    env["MMVIZ_HOME"] = str(store.home)  # the trainer's own RunStore() and start_queued() use it
    env[TRAIN_COMMAND_ENV] = shlex.join(command)
    env["PYTHONUNBUFFERED"] = "1"  # log.txt fills as the trainer prints, not when it exits
    # The trainer imports the same mmviz as this process, installed or not.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    with open(store.run_dir(run_id) / LOG_FILE, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} runner: {shlex.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, close_fds=True,
        )


def start_queued(store: RunStore | None = None, *, command: list[str] | None = None) -> list[str]:
    """Start the oldest queued runs while fewer than max_concurrent_runs() are running.

    Returns the ids started. Safe to call from several processes at once: each run is claimed in
    one transaction, so it starts exactly once.
    """
    store = store or RunStore()
    _reap()
    argv = train_command(command)
    limit = max_concurrent_runs()
    started: list[str] = []
    while (run := store.claim_queued(limit)) is not None:
        run_id = run["id"]
        try:
            child = _spawn(store, run_id, argv)
        except OSError as err:
            store.update_run(run_id, status="failed", error=f"could not start the trainer: {err}",
                             finished=time.time(), expect_status="running")
            continue
        with _children_lock:
            _children[run_id] = child
        store.update_run(run_id, pid=child.pid, started=time.time(), expect_status="running")
        started.append(run_id)
    return started


def _ended_message(run: dict[str, Any]) -> str:
    with _children_lock:
        code = _exit_codes.pop(run["id"], None)
    how = ""
    if code is not None and code < 0:
        how = f", killed by {signal.Signals(-code).name}"
    elif code is not None:
        how = f", exit code {code}"
    return f"the trainer (pid {run['pid']}{how}) ended without saying why; see {LOG_FILE}"


def refresh(store: RunStore | None = None, *, command: list[str] | None = None) -> list[str]:
    """Mark every ``running`` run whose process is gone as ``interrupted`` (``stopped`` if a stop
    was asked for), then start queued runs. Returns the ids whose status changed."""
    store = store or RunStore()
    _reap()
    changed = []
    now = time.time()
    for run in store.list_runs("running"):
        if run["pid"] is None:
            if now - run["updated"] < START_GRACE_S:
                continue  # just claimed; its starter records the pid in a moment
        elif is_alive(run):
            continue
        if run["stop_requested"]:
            status, error = "stopped", None
        else:
            status, error = "interrupted", _ended_message(run)
        if store.update_run(run["id"], status=status, error=error, finished=now, expect_status="running"):
            changed.append(run["id"])
    start_queued(store, command=command)
    return changed


def _signal_run(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the run's process group (the trainer and anything it started); a trainer
    started in the foreground leads no group of its own, so it alone gets the signal."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass  # ended in the meantime


def stop(run_id: str, *, store: RunStore | None = None, force: bool = False) -> str:
    """Stop a run. Queued: ``stopped`` at once. Running: SIGTERM to its process group, after which
    the trainer finishes its step, checkpoints and sets ``stopped`` itself; returns ``"stopping"``.
    ``force``: SIGKILL instead (for a trainer that does not respond), status ``stopped`` at once,
    progress since the last checkpoint lost. Returns the status now, or "stopping".
    """
    store = store or RunStore()
    run = store.get_run(run_id)
    if run["status"] == "queued":
        if store.update_run(run_id, status="stopped", finished=time.time(), expect_status="queued"):
            return "stopped"
        run = store.get_run(run_id)  # claimed by a runner in the meantime
    if run["status"] != "running":
        raise MmvizError(f"run '{run_id}' is {run['status']}; only queued or running runs can be stopped")
    store.update_run(run_id, stop_requested=True, expect_status="running")
    run = store.get_run(run_id)
    deadline = time.monotonic() + PID_WAIT_S
    while run["pid"] is None and run["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.02)  # claimed a moment ago; its starter is about to record the pid
        run = store.get_run(run_id)
    if run["status"] != "running":
        return run["status"]
    if run["pid"] is not None and is_alive(run):
        _signal_run(run["pid"], signal.SIGKILL if force else signal.SIGTERM)
        if not force:
            return "stopping"
    store.update_run(run_id, status="stopped", finished=time.time(), expect_status="running")
    _reap()
    return store.get_run(run_id)["status"]


def resume(run_id: str, *, store: RunStore | None = None, command: list[str] | None = None) -> str:
    """Queue a stopped, interrupted or failed run again with ``config["resume"] = True`` (the trainer
    continues from the last checkpoint) and start it if a slot is free. Returns its status."""
    store = store or RunStore()
    run = store.get_run(run_id)
    if run["status"] not in RESUMABLE:
        raise MmvizError(
            f"run '{run_id}' is {run['status']}; only {', '.join(RESUMABLE)} runs can be resumed"
        )
    config = {**run["config"], "resume": True}
    if not store.update_run(run_id, status="queued", config=config, error=None, pid=None, finished=None,
                            stop_requested=False, expect_status=RESUMABLE):
        raise MmvizError(f"run '{run_id}' changed status meanwhile; look again with `mmviz runs show {run_id}`")
    refresh(store, command=command)
    return store.get_run(run_id)["status"]


def launch(config: dict, *, store: RunStore | None = None, command: list[str] | None = None,
           owner: str | None = None) -> str:
    """Create a run from ``config`` (needs ``dataset`` and ``model``; ``steps``, ``name`` optional),
    queue it and start it if a slot is free. ``owner``: who launched it (an app session; None from
    the CLI). Returns the run id."""
    store = store or RunStore()
    missing = [key for key in ("dataset", "model") if not config.get(key)]
    if missing:
        raise MmvizError(f"a run needs {' and '.join(missing)} in its config")
    run_id = store.create_run(config, name=config.get("name"), dataset=config["dataset"],
                              model=config["model"], total_steps=config.get("steps"), owner=owner)
    refresh(store, command=command)
    return run_id


def delete(run_id: str, *, store: RunStore | None = None) -> None:
    """Delete a run (row, metrics, folder); a live running run must be stopped first."""
    store = store or RunStore()
    run = store.get_run(run_id)
    if run["status"] == "running" and (run["pid"] is None or is_alive(run)):
        raise MmvizError(f"run '{run_id}' is running; stop it first (`mmviz runs stop {run_id}`)")
    store.delete_run(run_id)


def wait_for_status(
    run_id: str, statuses: str | Iterable[str], *, timeout: float, store: RunStore | None = None,
    interval: float = 0.05,
) -> dict[str, Any]:
    """Poll until the run's status is one of ``statuses``; returns the run. TimeoutError after
    ``timeout`` seconds (refresh() is not called: a dead trainer is not seen as interrupted here)."""
    store = store or RunStore()
    wanted = (statuses,) if isinstance(statuses, str) else tuple(statuses)
    deadline = time.monotonic() + timeout
    while True:
        _reap()
        run = store.get_run(run_id)
        if run["status"] in wanted:
            return run
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"run '{run_id}' is still {run['status']} after {timeout:g} s (wanted {', '.join(wanted)})"
            )
        time.sleep(interval)
