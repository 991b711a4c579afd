"""Put the shipped reference runs into a run store as read-only runs (``ref-<name>``).

Called once per server start (and by ``mmviz gallery install``): a run whose shipped files
changed since it was installed (a new ``run.json``) is replaced; user runs are never touched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from mmviz.errors import MmvizError
from mmviz.gallery.package import GALLERY_DIR, OPTIONAL_FILES, RUN_FILE, SHIPPED_FILES, ShippedRun, shipped_runs
from mmviz.runs.store import RunStore

VERSION_FILE = "reference.version"
ROOT_ENV = "MMVIZ_REFERENCE_RUNS"
"""Folder of the shipped runs to install (default ``assets/runs``); ``none`` installs nothing."""


def reference_root() -> Path | None:
    """Where the app takes its reference runs from, or None if switched off."""
    value = os.environ.get(ROOT_ENV, "").strip()
    if value.lower() == "none":
        return None
    return Path(value) if value else GALLERY_DIR


def _version(shipped: ShippedRun) -> str:
    return hashlib.sha256((shipped.folder / RUN_FILE).read_bytes()).hexdigest()[:16]


def install_references(store: RunStore, root: Path = GALLERY_DIR) -> list[str]:
    """Install (or refresh) every shipped run in ``store``; returns the ids it (re)installed."""
    installed = []
    for shipped in shipped_runs(root):
        run_id, version = shipped.run_id, _version(shipped)
        run_dir = store.home / run_id
        if store.has_run(run_id):
            current = run_dir / VERSION_FILE
            if current.exists() and current.read_text() == version:
                continue
            store.delete_run(run_id, allow_reference=True)
        _install(store, shipped, version)
        installed.append(run_id)
    return installed


def install_reference(store: RunStore, run_id: str, root: Path = GALLERY_DIR) -> None:
    """Install the one shipped run ``run_id`` (``ref-<name>``) in ``store`` (MmvizError if none)."""
    for shipped in shipped_runs(root):
        if shipped.run_id == run_id:
            if not store.has_run(run_id):
                _install(store, shipped, _version(shipped))
            return
    raise MmvizError(f"no shipped reference run {run_id!r} under {root}")


def _install(store: RunStore, shipped: ShippedRun, version: str) -> None:
    meta = shipped.meta
    history = shipped.metrics()
    run_id = store.create_run(shipped.config, name=shipped.config.get("name") or meta.get("title"),
                              dataset=meta["dataset"], model=meta["model"], total_steps=meta["steps"],
                              status="finished", run_id=shipped.run_id)
    store.import_metrics(run_id, history)  # times are seconds since the run started
    run_dir = store.run_dir(run_id)
    for name in SHIPPED_FILES:
        shutil.copy2(shipped.folder / name, run_dir / name)
    for name in OPTIONAL_FILES:
        if (shipped.folder / name).exists():
            shutil.copy2(shipped.folder / name, run_dir / name)
    store.update_run(run_id, status="finished", step=int(meta["steps"]), started=0.0,
                     finished=float(meta.get("wall_s") or 0.0), device=meta.get("machine", {}).get("device"))
    store.mark_reference(run_id)  # last: a reference run refuses every later update
    (run_dir / VERSION_FILE).write_text(version)
