"""Background jobs that are not training runs (embedding with a pretrained model): one folder
per job under ``MMVIZ_HOME/jobs``, one process per job, progress in a JSON file.

A job runs ``python -m mmviz VERB ARGS... --job DIR`` in a new session, so an app reload or
crash never touches it and a reload finds it again by its id. The job process reports through
:class:`JobReporter` (progress, result, failure); :func:`cancel_job` sends SIGTERM, which the
reporter turns into a clean exit (state ``cancelled``). A job whose process vanished without
saying so reads as ``interrupted``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mmviz
from mmviz.errors import MmvizError
from mmviz.paths import mmviz_home
from mmviz.runs.process import process_alive, process_start_ticks

JOB_FILE = "job.json"
LOG_FILE = "log.txt"
ACTIVE = ("queued", "running")
FINAL = ("done", "failed", "cancelled", "interrupted")
# A job that has not reported its pid within this long after it was written lost its starter.
START_GRACE_S = 30.0
REPORT_EVERY_S = 0.5
_PACKAGE_ROOT = Path(mmviz.__file__).resolve().parent.parent


@dataclass
class Job:
    """One job's state as its folder records it. done/total: units of work (images + texts)."""

    id: str
    kind: str
    label: str
    args: list[str]
    state: str = "queued"
    stage: str = ""
    done: int = 0
    total: int = 0
    message: str = ""
    result: str = ""
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    pid: int | None = None
    pid_start: int | None = None
    owner: str | None = None  # the app session that started it (None: the CLI, or a job from before owners)

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


def jobs_root(home: str | Path | None = None) -> Path:
    root = (Path(home) if home else mmviz_home()) / "jobs"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _write(job_dir: Path, job: Job) -> None:
    job.updated = time.time()
    tmp = job_dir / f".{JOB_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(asdict(job)))
    os.replace(tmp, job_dir / JOB_FILE)


def read_job(job_dir: str | Path) -> Job:
    """The job in ``job_dir``; a job whose process is gone reads as ``interrupted``."""
    job_dir = Path(job_dir)
    try:
        job = Job(**json.loads((job_dir / JOB_FILE).read_text()))
    except (OSError, ValueError, TypeError) as err:
        raise MmvizError(f"no readable job in {job_dir}: {err}") from None
    if job.state in ACTIVE:
        lost = (job.pid is None and time.time() - job.created > START_GRACE_S) or (
            job.pid is not None and not process_alive(job.pid, job.pid_start))
        if lost:
            job.state, job.message = "interrupted", job.message or "the job's process ended without reporting"
    return job


def job_dir(job_id: str, home: str | Path | None = None) -> Path:
    if not job_id or "/" in job_id or job_id.startswith("."):
        raise MmvizError(f"not a job id: {job_id!r}")
    return jobs_root(home) / job_id


def get_job(job_id: str, home: str | Path | None = None) -> Job:
    return read_job(job_dir(job_id, home))


def list_jobs(kind: str | None = None, home: str | Path | None = None) -> list[Job]:
    """Every readable job, newest first (filter by ``Job.owner`` to show a session its own)."""
    jobs = []
    for path in jobs_root(home).iterdir():
        if (path / JOB_FILE).is_file():
            try:
                job = read_job(path)
            except MmvizError:
                continue
            if kind is None or job.kind == kind:
                jobs.append(job)
    return sorted(jobs, key=lambda j: j.created, reverse=True)


def start_job(kind: str, verb: str, args: list[str], label: str = "", home: str | Path | None = None,
              owner: str | None = None) -> Job:
    """Start ``python -m mmviz VERB ARGS --job DIR`` in the background; returns the new job.
    ``owner``: the app session starting it, recorded in ``job.json``."""
    job_id = f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    folder = job_dir(job_id, home)
    folder.mkdir(parents=True)
    job = Job(id=job_id, kind=kind, label=label or kind, args=[verb, *args], owner=owner)
    _write(folder, job)
    argv = [sys.executable, "-m", "mmviz", verb, *args, "--job", str(folder)]
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    if home:
        env["MMVIZ_HOME"] = str(home)
    with open(folder / LOG_FILE, "ab") as log:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                 start_new_session=True, close_fds=True)
    _CHILDREN.append(child)
    _reap()
    return job


_CHILDREN: list[subprocess.Popen] = []


def _reap() -> None:
    _CHILDREN[:] = [c for c in _CHILDREN if c.poll() is None]


def cancel_job(job_id: str, home: str | Path | None = None) -> Job:
    """Ask a job to stop (SIGTERM to its process group); it records ``cancelled`` itself."""
    _reap()
    folder = job_dir(job_id, home)
    job = read_job(folder)
    if job.state not in ACTIVE:
        return job
    if job.pid is not None and process_alive(job.pid, job.pid_start):
        try:
            os.killpg(job.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    else:
        job.state, job.message = "cancelled", "cancelled before it started"
        _write(folder, job)
    return job


class JobCancelled(Exception):
    """Raised inside a job process when it is asked to stop."""


class JobReporter:
    """Used by the job process: records its pid, progress, and how it ended.

    Without a folder (a plain CLI call) every method does nothing, so the job code needs no
    branches. Entering installs a SIGTERM handler that raises :class:`JobCancelled`.
    """

    def __init__(self, folder: str | Path | None) -> None:
        self.folder = Path(folder) if folder else None
        self._last = 0.0
        self.job = read_job(self.folder) if self.folder else None

    def __enter__(self) -> JobReporter:
        if self.job is not None:
            self.job.pid, self.job.pid_start = os.getpid(), process_start_ticks(os.getpid())
            self.job.state = "running"
            _write(self.folder, self.job)
        signal.signal(signal.SIGTERM, _raise_cancelled)
        return self

    def __exit__(self, kind, err, tb) -> bool:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if self.job is None or kind is None:
            return False
        if issubclass(kind, (JobCancelled, KeyboardInterrupt)):
            self.job.state, self.job.message = "cancelled", "cancelled"
        else:
            self.job.state = "failed"
            self.job.message = (str(err).strip().splitlines() or [kind.__name__])[0][:300]
        _write(self.folder, self.job)
        return False

    def progress(self, done: int, total: int, stage: str, force: bool = False) -> None:
        if self.job is None:
            return
        now = time.monotonic()
        if not force and now - self._last < REPORT_EVERY_S and done < total:
            return
        self._last = now
        self.job.done, self.job.total, self.job.stage = int(done), int(total), stage
        _write(self.folder, self.job)

    def finish(self, result: str, message: str = "") -> None:
        if self.job is None:
            return
        self.job.state, self.job.result, self.job.message = "done", result, message
        self.job.done = self.job.total
        _write(self.folder, self.job)


def _raise_cancelled(signum: int, frame: Any) -> None:
    raise JobCancelled()
