"""The Train page's view of run metrics: read from the store incrementally, keep in memory.

One :class:`MetricsFeed` serves every browser tab of the app (the page keeps it with
``st.cache_resource``): each live refresh asks the store only for the rows logged since the
last one, and a finished run is never read again. No streamlit here, so it can be tested
and benchmarked on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mmviz.plots.series import MAX_POINTS, Series, XKind, prepare_series
from mmviz.runs.store import ACTIVE_STATUSES, RunStore


@dataclass
class RunMetrics:
    """Every metric row of one run read so far, per metric name: steps (N,) int64,
    values (N,) float64, times (N,) float64, in step order; ``rows`` counts them all."""

    run_id: str
    started: float | None
    synced: float | None = None
    """The run row's ``updated`` when this was last read from the store."""
    columns: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    rows: int = 0

    @property
    def last_step(self) -> int:
        return max((int(steps[-1]) for steps, _, _ in self.columns.values() if len(steps)), default=-1)

    @property
    def t0(self) -> float:
        """When the run started: its first logged row (or its start, if earlier)."""
        first = min((float(times[0]) for _, _, times in self.columns.values() if len(times)), default=np.inf)
        start = self.started if self.started is not None else np.inf
        value = min(first, start)
        return float(value) if np.isfinite(value) else 0.0

    def latest(self, name: str) -> float | None:
        """The last logged value of metric ``name`` (None if never logged)."""
        column = self.columns.get(name)
        return float(column[1][-1]) if column is not None and len(column[1]) else None

    def append(self, frame: Any) -> int:
        """Add rows (a DataFrame step, name, value, time, in step order); rows a metric already
        has for that step are skipped. Returns the number added."""
        if not len(frame):
            return 0
        codes, names = pd.factorize(frame["name"].to_numpy())
        order = np.argsort(codes, kind="stable")  # grouped by name, still in step order
        bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
        columns = [frame[c].to_numpy()[order] for c in ("step", "value", "time")]
        added = 0
        for k, name in enumerate(names):
            steps, values, times = (c[bounds[k]:bounds[k + 1]] for c in columns)
            old = self.columns.get(name)
            if old is not None and len(old[0]):
                fresh = steps > old[0][-1]
                if not fresh.any():
                    continue
                steps, values, times = (np.concatenate((a, b[fresh])) for a, b in zip(old, (steps, values, times)))
            added += len(steps) - (len(old[0]) if old is not None else 0)
            self.columns[name] = (steps.astype(np.int64), values.astype(np.float64), times.astype(np.float64))
        self.rows += added
        return added


class MetricsFeed:
    """Metrics of the runs a page shows, kept up to date with as little reading as possible.

    Thread-safe: every Streamlit session (tab) calls it from its own thread.
    """

    def __init__(self, store: RunStore, max_points: int = MAX_POINTS) -> None:
        self.store = store
        self.max_points = max_points
        self._runs: dict[str, RunMetrics] = {}
        self._series: dict[str, dict[str, tuple[tuple, Series]]] = {}  # run id → metric → (key, series)
        self._lock = threading.Lock()

    def update(self, run: dict[str, Any]) -> RunMetrics:
        """The metrics of ``run`` (a store row), after reading whatever was logged since the
        last call. A run that has ended is read once more and then served from memory; a run
        that started again (resumed: its metrics past the checkpoint were dropped) is reread."""
        run_id = run["id"]
        with self._lock:
            entry = self._runs.get(run_id)
            if entry is None or entry.started != run.get("started") or (run.get("step") or 0) < entry.last_step:
                entry = self._reset(run)
            active = run["status"] in ACTIVE_STATUSES
            if not active and entry.synced == run["updated"]:
                return entry
            # Eval rows of a step are written after its training rows, in their own
            # transaction: ask from the last step again and keep what is new per metric.
            entry.append(self.store.metrics(run_id, since_step=entry.last_step - 1))
            if not active and self.store.count_metrics(run_id) != entry.rows:
                # Rows went missing or away (a resume truncated them): read the run afresh.
                entry = self._reset(run)
                entry.append(self.store.metrics(run_id))
            entry.synced = run["updated"]
            return entry

    def _reset(self, run: dict[str, Any]) -> RunMetrics:
        """A new, empty entry for ``run`` (call with the lock held)."""
        self._series.pop(run["id"], None)
        entry = self._runs[run["id"]] = RunMetrics(run["id"], run.get("started"))
        return entry

    def series(self, run: dict[str, Any], *, smoothing: float, x_kind: XKind,
               wanted: Callable[[str], bool] | None = None) -> tuple[RunMetrics, list[Series]]:
        """The run's metrics (updated) and one prepared :class:`Series` per metric (only those
        ``wanted`` says yes to), by name. A metric's series is prepared again only when it has
        new rows or the settings change, so an unchanged metric returns the very same object."""
        entry = self.update(run)
        with self._lock:
            columns = dict(entry.columns)
            cache = self._series.setdefault(run["id"], {})
        t0 = entry.t0 if x_kind == "time" else 0.0
        out = []
        for name in sorted(columns):
            if wanted is not None and not wanted(name):
                continue
            steps, values, times = columns[name]
            # The entry itself is part of the key: a reread run gets a new one.
            key = (id(entry), len(steps), smoothing, x_kind, t0, self.max_points)
            cached = cache.get(name)
            if cached is None or cached[0] != key:
                cached = cache[name] = (key, prepare_series(name, steps, values, times, smoothing=smoothing,
                                                            x_kind=x_kind, t0=t0, max_points=self.max_points))
            out.append(cached[1])
        return entry, out

    def forget(self, run_id: str) -> None:
        """Drop a run's metrics from memory (it was deleted)."""
        with self._lock:
            self._runs.pop(run_id, None)
            self._series.pop(run_id, None)
