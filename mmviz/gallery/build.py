"""Train the gallery's reference runs with the project's own engine and package them into
``assets/runs/<name>/`` (see :mod:`.package`)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmviz.errors import MmvizError
from mmviz.gallery.entries import GalleryEntry
from mmviz.gallery.install import install_reference
from mmviz.gallery.package import GALLERY_DIR, package_run
from mmviz.models.registry import check_compatible
from mmviz.runs.loop import train_run
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config

Progress = Callable[[int, int, dict[str, float]], None]


def entry_available(entry: GalleryEntry) -> str | None:
    """None if the entry's model and dataset are registered, else why not (one line)."""
    try:
        check_compatible(entry.config["model"], entry.config["dataset"])
    except MmvizError as err:
        return str(err)
    return None


def build_entry(entry: GalleryEntry, root: Path = GALLERY_DIR, device: str = "auto",
                progress: Progress | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train ``entry`` (its config, on ``device``) and write ``root/<name>/``; returns its run.json.

    The run trains in a throw-away store; the shipped folder is replaced only when training
    finished, so a failed or interrupted build never leaves a half-written reference run.
    ``overrides`` replace config keys (tests use it to train a tiny version).
    """

    config = resolve_config({**entry.config, "device": device, **(overrides or {})})
    with tempfile.TemporaryDirectory(prefix="mmviz-gallery-") as tmp:
        store = RunStore(tmp)
        if config.get("parent"):  # a child entry trains from its shipped parent
            install_reference(store, config["parent"])  # from the shipped gallery, whatever root it builds into
        run_id = store.create_run(config, dataset=config["dataset"], model=config["model"],
                                  total_steps=config["steps"], status="running")
        start = time.perf_counter()
        status = train_run(store, run_id, progress=progress)
        wall = time.perf_counter() - start
        if status != "finished":
            error = store.get_run(run_id).get("error")
            raise MmvizError(f"reference run {entry.name} {status}" + (f": {error}" if error else ""))
        meta = {"name": entry.name, "title": entry.title, "caption": entry.caption, "pages": list(entry.pages),
                "wall_s": round(wall, 1)}
        full = package_run(store, run_id, root / entry.name, meta)
        store.close()
    return full


IGNORED_KEYS = ("name", "device", "threads")
"""Config keys that may differ between an entry and a run adopted for it (where it ran, its label)."""


def adopt_run(entry: GalleryEntry, store: RunStore, run_id: str, root: Path = GALLERY_DIR) -> dict[str, Any]:
    """Package finished run ``run_id`` of ``store`` as ``entry``'s reference run, without
    training again (a bench already trained it); returns its run.json.

    The run's resolved config must be the entry's (apart from its name, device and thread
    count), so ``gallery build --only NAME`` trains the same thing again. ``wall_s`` is the
    run's own training time, from its start to its last logged metric.
    """

    run = store.get_run(run_id)
    if run["status"] != "finished":
        raise MmvizError(f"run '{run_id}' is {run['status']}, not finished")
    want = resolve_config({**entry.config, "device": "cpu"})
    have = run["config"]
    differ = sorted(k for k in set(want) | set(have) if k not in IGNORED_KEYS and want.get(k) != have.get(k))
    if differ:
        k = differ[0]
        raise MmvizError(f"run '{run_id}' is not entry {entry.name}: {k} is {have.get(k)!r}, the entry has "
                         f"{want.get(k)!r}" + (f" (and {len(differ) - 1} more)" if len(differ) > 1 else ""))
    history = store.metrics(run_id)
    wall = float(history["time"].max() - (run.get("started") or history["time"].min())) if len(history) else 0.0
    meta = {"name": entry.name, "title": entry.title, "caption": entry.caption, "pages": list(entry.pages),
            "wall_s": round(wall, 1)}
    return package_run(store, run_id, root / entry.name, meta)
