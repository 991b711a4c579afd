"""The run store: one SQLite database (WAL mode) under ``MMVIZ_HOME`` plus a folder per run.

Layout::

    <home>/mmviz.db          runs and metrics tables
    <home>/<run_id>/         config.json, checkpoint.safetensors, log.txt, embeddings.npz

One trainer process writes a run; any number of readers (the app, the CLI) read at the same time.
WAL mode lets readers and the writer proceed together; writers queue on SQLite's busy timeout.
Each thread of each process gets its own connection (kept open: closing the last connection to a
WAL database checkpoints and fsyncs, which would cost every call milliseconds), so a RunStore may be
shared across threads and used after a fork. Every write is one ``BEGIN IMMEDIATE`` transaction,
which takes the write lock up front (a deferred transaction that upgrades from read to write can
fail at once with "database is locked" instead of waiting).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmviz.errors import MmvizError
from mmviz.paths import mmviz_home
from mmviz.runs.files import save_config
from mmviz.runs.process import process_start_ticks

if TYPE_CHECKING:
    import pandas as pd

DB_FILE = "mmviz.db"
STATUSES = ("queued", "running", "finished", "stopped", "failed", "interrupted")
ACTIVE_STATUSES = ("queued", "running")
# How long a call waits for another process's write lock before SQLite gives up. Writes are a
# handful of rows, so anything near this means a stuck process, not load.
BUSY_TIMEOUT_S = 30.0
SCHEMA_VERSION = 3
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY,
        name TEXT,
        dataset TEXT NOT NULL,
        model TEXT NOT NULL,
        config TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        pid INTEGER,
        pid_start INTEGER,
        stop_requested INTEGER NOT NULL DEFAULT 0,
        device TEXT,
        created REAL NOT NULL,
        started REAL,
        finished REAL,
        updated REAL NOT NULL,
        step INTEGER NOT NULL DEFAULT 0,
        total_steps INTEGER,
        reference INTEGER NOT NULL DEFAULT 0,
        owner TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, created)",
    """CREATE TABLE IF NOT EXISTS metrics (
        run_id TEXT NOT NULL,
        step INTEGER NOT NULL,
        name TEXT NOT NULL,
        value REAL,
        time REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS metrics_by_run_step ON metrics (run_id, step)",
    "CREATE INDEX IF NOT EXISTS metrics_by_run_name_step ON metrics (run_id, name, step)",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)

# Columns update_run may set. pid_start is filled in from /proc when pid is set.
UPDATABLE = frozenset(
    {"name", "status", "error", "pid", "pid_start", "stop_requested", "device", "started",
     "finished", "step", "total_steps", "config"}
)
METRIC_COLUMNS = ("step", "name", "value", "time")
# Connections a forked child inherited from its parent: never used or closed in the child (SQLite
# forbids carrying a connection across fork), only kept referenced so garbage collection leaves them.
_inherited_connections: list[sqlite3.Connection] = []


class ReadOnlyRunError(MmvizError):
    """A reference run (shipped with mmviz) cannot be changed or deleted."""

    def __init__(self, run_id: str, action: str):
        super().__init__(f"run '{run_id}' is a reference run shipped with mmviz; it cannot be {action} "
                         "(train a copy of it instead)")
        self.run_id = run_id


class RunNotFoundError(MmvizError):
    """No run with that id in the store."""

    def __init__(self, run_id: str):
        super().__init__(f"no run '{run_id}'")
        self.run_id = run_id


def check_run_id(run_id: str) -> str:
    """``run_id`` if it is a plain folder name (letters, digits, ``_.-``), else MmvizError."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise MmvizError(f"'{run_id}' is not a run id (letters, digits, '_', '.', '-' only)")
    return run_id


def new_run_id(now: float | None = None) -> str:
    """A short readable id: local time of creation plus 4 random hex digits, e.g. ``20261123-121500-ab12``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{stamp}-{secrets.token_hex(2)}"


def _as_statuses(status: str | Iterable[str]) -> tuple[str, ...]:
    statuses = (status,) if isinstance(status, str) else tuple(status)
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise MmvizError(f"unknown run status {unknown[0]!r}; one of {', '.join(STATUSES)}")
    return statuses


def _row_to_run(row: sqlite3.Row) -> dict[str, Any]:
    run = dict(row)
    run["config"] = json.loads(run["config"])
    run["stop_requested"] = bool(run["stop_requested"])
    run["reference"] = bool(run.get("reference", 0))
    return run


class RunStore:
    """Runs and their metrics in ``<home>/mmviz.db``; run folders under ``<home>``.

    Safe to share between threads and processes: each thread (per process) uses its own connection.
    """

    def __init__(self, home: Path | str | None = None):
        self.home = Path(home).expanduser().resolve() if home is not None else mmviz_home().resolve()
        self.home.mkdir(parents=True, exist_ok=True)
        self.db_path = self.home / DB_FILE
        self._local = threading.local()
        self._init_schema()

    def __repr__(self) -> str:
        return f"RunStore({str(self.home)!r})"

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit BEGIN; _write() issues BEGIN IMMEDIATE itself.
        con = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        con.row_factory = sqlite3.Row
        # In WAL mode NORMAL keeps the database consistent on a crash; only the last commits
        # before a power cut may be lost, which is fine for progress rows.
        con.execute("PRAGMA synchronous = NORMAL")
        return con

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (and again in a forked child)."""
        local = self._local
        con = getattr(local, "con", None)
        if con is not None and local.pid != os.getpid():
            _inherited_connections.append(con)
            con = None
        if con is None:
            con = local.con = self._connect()
            local.pid = os.getpid()
        return con

    def close(self) -> None:
        """Close this thread's connection (the next call opens a new one)."""
        con = getattr(self._local, "con", None)
        if con is not None and self._local.pid == os.getpid():
            con.close()
        self._local.con = None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        yield self._connection()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that holds the write lock from its first statement."""
        con = self._connection()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
            con.execute("COMMIT")
        finally:
            if con.in_transaction:  # an error above, or a failed COMMIT: leave the connection clean
                con.execute("ROLLBACK")

    def _init_schema(self) -> None:
        con = self._connection()
        if con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        # WAL is a property of the file: set once, every later connection uses it.
        con.execute("PRAGMA journal_mode = WAL")
        with self._write() as con:
            for statement in _SCHEMA:
                con.execute(statement)
            columns = {row["name"] for row in con.execute("PRAGMA table_info(runs)")}
            if "reference" not in columns:  # a version-1 database: runs made before reference runs
                con.execute("ALTER TABLE runs ADD COLUMN reference INTEGER NOT NULL DEFAULT 0")
            if "owner" not in columns:  # version 2: runs made before owners (owned by nobody)
                con.execute("ALTER TABLE runs ADD COLUMN owner TEXT")

    def journal_mode(self) -> str:
        """SQLite's journal mode for the database file (``"wal"``)."""
        with self._read() as con:
            return con.execute("PRAGMA journal_mode").fetchone()[0]

    # -- runs --------------------------------------------------------------------------------

    def run_dir(self, run_id: str) -> Path:
        """The run's folder ``<home>/<run_id>``, created if missing."""
        path = self.home / check_run_id(run_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def create_run(
        self,
        config: dict,
        *,
        name: str | None = None,
        dataset: str,
        model: str,
        total_steps: int | None,
        status: str = "queued",
        run_id: str | None = None,
        reference: bool = False,
        owner: str | None = None,
    ) -> str:
        """Add a run (status ``queued`` unless told) and write its ``config.json``; returns the run id.

        A trainer that runs in the foreground creates its run as ``running`` so that no runner
        starts a second trainer for it in between. ``run_id`` picks the id (MmvizError if taken);
        ``reference`` marks a read-only reference run (see :mod:`mmviz.gallery`). ``owner``: who
        launched it (an app session's owner id; None for the CLI and reference runs: nobody), set
        once and never changed.
        """
        (status,) = _as_statuses(status)
        config_text = json.dumps(config, sort_keys=True)
        for _ in range(20):  # 4 random hex digits per second: a clash is rare, retrying fixes it
            now = time.time()
            new_id = check_run_id(run_id) if run_id is not None else new_run_id(now)
            try:
                with self._write() as con:
                    con.execute(
                        "INSERT INTO runs (id, name, dataset, model, config, status, created, updated,"
                        " total_steps, reference, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (new_id, name if name is not None else config.get("name"), dataset, model,
                         config_text, status, now, now, total_steps, int(reference), owner),
                    )
            except sqlite3.IntegrityError:
                if run_id is not None:
                    raise MmvizError(f"a run with id '{run_id}' exists already") from None
                continue
            run_id = new_id
            save_config(self.run_dir(run_id), config)
            return run_id
        raise MmvizError("could not find a free run id; try again")

    def get_run(self, run_id: str) -> dict[str, Any]:
        """The run's row as a dict (``config`` parsed); RunNotFoundError if there is none."""
        with self._read() as con:
            row = con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(run_id)
        return _row_to_run(row)

    def has_run(self, run_id: str) -> bool:
        """Whether a run with this id exists."""
        with self._read() as con:
            return con.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def list_runs(self, status: str | Iterable[str] | None = None) -> list[dict[str, Any]]:
        """All runs, newest first; only those with the given status(es) if ``status`` is set."""
        query, params = "SELECT * FROM runs", ()
        if status is not None:
            params = _as_statuses(status)
            query += f" WHERE status IN ({', '.join('?' * len(params))})"
        with self._read() as con:
            rows = con.execute(query + " ORDER BY created DESC, rowid DESC", params).fetchall()
        return [_row_to_run(row) for row in rows]

    def count_runs(self, status: str | Iterable[str] | None = None, *, owner: str | None = None) -> int:
        """How many runs (with the given status(es), launched by ``owner`` when given) there are."""
        query, params = "SELECT COUNT(*) FROM runs WHERE 1", ()
        if status is not None:
            statuses = _as_statuses(status)
            query += f" AND status IN ({', '.join('?' * len(statuses))})"
            params += statuses
        if owner is not None:
            query += " AND owner = ?"
            params += (owner,)
        with self._read() as con:
            return con.execute(query, params).fetchone()[0]

    def queue_positions(self) -> dict[str, int]:
        """Each queued run's place in the line (1 = starts next), in the order the runner claims them."""
        with self._read() as con:
            rows = con.execute("SELECT id FROM runs WHERE status = 'queued' ORDER BY created, rowid").fetchall()
        return {row["id"]: i for i, row in enumerate(rows, start=1)}

    def update_run(
        self, run_id: str, *, expect_status: str | Iterable[str] | None = None, **fields: Any
    ) -> bool:
        """Set columns of a run (``status``, ``error``, ``pid``, ``device``, ``started``, ``finished``,
        ``step``, ``total_steps``, ``name``, ``config``, ``stop_requested``); ``updated`` is set to now.

        Setting ``pid`` records that process's start time too (``pid_start``), so a later liveness
        check can tell it from a new process that reuses the pid. Setting ``config`` rewrites
        ``config.json``. With ``expect_status`` the update happens only if the run's status is one
        of those (compare-and-set); returns whether the row changed. RunNotFoundError if no run.
        """
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise MmvizError(f"update_run: unknown field(s) {', '.join(sorted(unknown))}")
        if self.get_run(run_id)["reference"]:
            raise ReadOnlyRunError(run_id, "changed")
        if "status" in fields:
            _as_statuses(fields["status"])
        if "pid" in fields and "pid_start" not in fields:
            fields["pid_start"] = process_start_ticks(fields["pid"]) if fields["pid"] else None
        values = dict(fields)
        if "config" in values:
            values["config"] = json.dumps(values["config"], sort_keys=True)
        if "stop_requested" in values:
            values["stop_requested"] = int(bool(values["stop_requested"]))
        values["updated"] = time.time()
        query = f"UPDATE runs SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?"
        params: tuple = (*values.values(), run_id)
        if expect_status is not None:
            expected = _as_statuses(expect_status)
            query += f" AND status IN ({', '.join('?' * len(expected))})"
            params += expected
        with self._write() as con:
            changed = con.execute(query, params).rowcount > 0
            if not changed and con.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise RunNotFoundError(run_id)
        if changed and "config" in fields:
            save_config(self.run_dir(run_id), fields["config"])
        return changed

    def mark_reference(self, run_id: str) -> None:
        """Make run ``run_id`` a read-only reference run (the gallery installer's last step)."""
        with self._write() as con:
            if con.execute("UPDATE runs SET reference = 1 WHERE id = ?", (run_id,)).rowcount == 0:
                raise RunNotFoundError(run_id)

    def claim_queued(self, max_running: int) -> dict[str, Any] | None:
        """If fewer than ``max_running`` runs are running, mark the oldest queued run ``running``
        (no pid yet) and return it; else None. Atomic, so two callers never claim the same run."""
        with self._write() as con:
            running = con.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0]
            if running >= max_running:
                return None
            row = con.execute(
                "SELECT id FROM runs WHERE status = 'queued' ORDER BY created, rowid LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            con.execute(
                "UPDATE runs SET status = 'running', pid = NULL, pid_start = NULL, error = NULL,"
                " finished = NULL, stop_requested = 0, updated = ? WHERE id = ?",
                (time.time(), row["id"]),
            )
            claimed = con.execute("SELECT * FROM runs WHERE id = ?", (row["id"],)).fetchone()
        return _row_to_run(claimed)

    def delete_run(self, run_id: str, *, allow_reference: bool = False) -> None:
        """Remove the run's row, its metrics and its folder. RunNotFoundError if no such run;
        ReadOnlyRunError for a reference run unless ``allow_reference`` (the gallery installer)."""
        if not allow_reference and self.get_run(run_id)["reference"]:
            raise ReadOnlyRunError(run_id, "deleted")
        with self._write() as con:
            con.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            if con.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount == 0:
                raise RunNotFoundError(run_id)
        shutil.rmtree(self.home / check_run_id(run_id), ignore_errors=True)

    # -- metrics -----------------------------------------------------------------------------

    def log_metrics(
        self, run_id: str, step: int, values: dict[str, float], time: float | None = None
    ) -> None:
        """Add one row per ``name: value`` at ``step`` (one transaction) and advance the run's step.

        NaN values are stored as NULL (SQLite has no NaN) and read back as NaN.
        """
        now = _now() if time is None else float(time)
        rows = [(run_id, int(step), str(name), float(value), now) for name, value in values.items()]
        with self._write() as con:
            updated = con.execute(
                "UPDATE runs SET step = MAX(step, ?), updated = ? WHERE id = ?", (int(step), now, run_id)
            )
            if updated.rowcount == 0:
                raise RunNotFoundError(run_id)
            con.executemany("INSERT INTO metrics (run_id, step, name, value, time) VALUES (?, ?, ?, ?, ?)", rows)

    def import_metrics(self, run_id: str, frame: pd.DataFrame) -> None:
        """Add many metric rows at once (columns step, name, value, time), one transaction: how a
        shipped run's history enters a store."""
        rows = [(run_id, int(r.step), str(r.name), None if r.value != r.value else float(r.value), float(r.time))
                for r in frame.itertuples(index=False)]
        with self._write() as con:
            if con.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise RunNotFoundError(run_id)
            con.executemany("INSERT INTO metrics (run_id, step, name, value, time) VALUES (?, ?, ?, ?, ?)", rows)

    def metrics(
        self, run_id: str, since_step: int = -1, names: list[str] | None = None
    ) -> pd.DataFrame:
        """Metric rows of a run with ``step > since_step`` (optionally only ``names``), ordered by
        step then name: DataFrame with columns step (int), name (str), value (float), time (float)."""
        import numpy as np
        import pandas as pd  # only metric readers need pandas; the trainer's status writes do not

        query = "SELECT step, name, value, time FROM metrics WHERE run_id = ? AND step > ?"
        params: tuple = (run_id, int(since_step))
        if names is not None:
            query += f" AND name IN ({', '.join('?' * len(names))})"
            params += tuple(names)
        with self._read() as con:
            rows = con.execute(query + " ORDER BY step, name, rowid", params).fetchall()
        steps, names, values, times = zip(*rows) if rows else ((), (), (), ())
        return pd.DataFrame({
            "step": np.array(steps, dtype=np.int64),
            "name": np.array(names, dtype=object),
            "value": np.array(values, dtype=np.float64),  # NULL (stored NaN) -> NaN
            "time": np.array(times, dtype=np.float64),
        })

    def latest_metrics(self, run_id: str) -> dict[str, dict[str, float]]:
        """For each metric name of the run, its last logged ``{"step", "value", "time"}``."""
        with self._read() as con:
            # SQLite takes value and time from the row that holds MAX(step) ("bare columns").
            rows = con.execute(
                "SELECT name, MAX(step) AS step, value, time FROM metrics WHERE run_id = ?"
                " GROUP BY name ORDER BY name",
                (run_id,),
            ).fetchall()
        return {
            row["name"]: {"step": row["step"], "value": float("nan") if row["value"] is None else row["value"],
                          "time": row["time"]}
            for row in rows
        }

    def count_metrics(self, run_id: str) -> int:
        """Number of metric rows of the run."""
        with self._read() as con:
            return con.execute("SELECT COUNT(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()[0]

    def truncate_metrics(self, run_id: str, after_step: int) -> int:
        """Drop the run's metric rows with ``step > after_step`` and set its step to ``after_step``
        (a resumed trainer calls this with its checkpoint's step, so no step is logged twice).
        Returns the number of rows removed."""
        with self._write() as con:
            if con.execute(
                "UPDATE runs SET step = ?, updated = ? WHERE id = ?", (int(after_step), _now(), run_id)
            ).rowcount == 0:
                raise RunNotFoundError(run_id)
            return con.execute(
                "DELETE FROM metrics WHERE run_id = ? AND step > ?", (run_id, int(after_step))
            ).rowcount


def _now() -> float:
    return time.time()
