"""The files of a shipped reference run, ``assets/runs/<name>/``::

    run.json               what it is: entry name, title, caption, model, dataset, steps, the
                           final held-out metrics, wall-clock time and the machine it took
    config.json            the resolved run config (trains it again)
    checkpoint.safetensors the weights only (no optimiser state: a reference run is not resumed)
    embeddings.npz         the exported held-out embeddings (points, metadata, geometry)
    metrics.csv.gz         the full metric history: step, name, value, time (s since the start)

Large sphere-geometry runs (the R/U/S studies' CNNs and transformers) ship their weights and points
in float16 (:func:`store_half_precision`): their final metrics and embeddings are then re-evaluated
from the float16 weights, so ``gallery verify`` checks exactly what ships, and ``run.json`` keeps the
training run's own finals as ``trained_final``.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmviz.data.embeddings_io import load_embeddings, save_embeddings
from mmviz.errors import MmvizError
from mmviz.paths import ASSETS
from mmviz.runs.files import CHECKPOINT_FILE, CROSS_FILE, EMBEDDINGS_FILE, write_atomically, write_json_atomically
from mmviz.runs.store import RunStore

GALLERY_DIR = ASSETS / "runs"
RUN_FILE = "run.json"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv.gz"
SHIPPED_FILES = (RUN_FILE, CONFIG_FILE, CHECKPOINT_FILE, EMBEDDINGS_FILE, METRICS_FILE)
OPTIONAL_FILES = (CROSS_FILE,)
"""Shipped and installed when present: the CoMM n = 3 runs' saved cross-view read-out (valid for
their checkpoint only: it carries the checkpoint's hash)."""
HALF_MIN_BYTES = 500_000
"""Sphere-geometry checkpoints larger than this ship in float16 (half the bytes). Smaller ones and
every other geometry stay float32: hyperbolic points near the rim, and closed-form comparisons of the
Gaussian runs, need more than float16's 11 bits of mantissa."""
HALF_PRECISION = "float16"
"""``run.json``'s ``weights`` value for a run shipped in half precision."""


@dataclass
class ShippedRun:
    """A reference run as read from its folder."""

    folder: Path
    meta: dict[str, Any]
    config: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    @property
    def run_id(self) -> str:
        return f"ref-{self.name}"

    def metrics(self) -> pd.DataFrame:
        """The full history: columns step, name, value, time (seconds since the start)."""
        return pd.read_csv(self.folder / METRICS_FILE)

    def size_bytes(self) -> dict[str, int]:
        """Bytes of each shipped file."""
        return {f: (self.folder / f).stat().st_size for f in (*SHIPPED_FILES, *OPTIONAL_FILES)
                if (self.folder / f).exists()}


def machine_description(device: str) -> dict[str, Any]:
    """Where a run was trained: CPU/GPU, core count, torch version."""
    import os

    import torch

    info: dict[str, Any] = {"device": device, "cpu": platform.processor() or platform.machine(),
                            "cores": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version()}
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def package_run(store: RunStore, run_id: str, dest: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Copy run ``run_id`` of ``store`` into ``dest`` (replaced whole) as a shipped run.

    ``meta`` (entry name, title, caption, wall time...) is completed with the run's model,
    dataset, steps, device and final ``eval/`` metrics, written to ``run.json`` and returned.
    """
    run = store.get_run(run_id)
    src = store.run_dir(run_id)
    for needed in (CHECKPOINT_FILE, EMBEDDINGS_FILE):
        if not (src / needed).exists():
            raise MmvizError(f"run '{run_id}' has no {needed}; did it finish?")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    shutil.copy2(src / CHECKPOINT_FILE, tmp / CHECKPOINT_FILE)
    shutil.copy2(src / EMBEDDINGS_FILE, tmp / EMBEDDINGS_FILE)
    write_json_atomically(tmp / CONFIG_FILE, run["config"])
    history = store.metrics(run_id)
    start = run.get("started") or (history["time"].min() if len(history) else time.time())
    history["time"] = (history["time"] - start).round(3)
    history.to_csv(tmp / METRICS_FILE, index=False, float_format="%.7g")
    final = {name[len("eval/"):]: row["value"] for name, row in store.latest_metrics(run_id).items()
             if name.startswith("eval/")}
    full = {**meta, "model": run["model"], "dataset": run["dataset"], "steps": run["step"],
            "status": run["status"], "final": final,
            "machine": machine_description(run.get("device") or "cpu"),
            "built": time.strftime("%Y-%m-%d", time.gmtime())}
    if ships_half(tmp):
        full.update(trained_final=final, final=store_half_precision(tmp, run["config"], final),
                    weights=HALF_PRECISION)
    write_json_atomically(tmp / RUN_FILE, full)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return full


def ships_half(folder: Path) -> bool:
    """Whether the run packaged in ``folder`` goes out in float16 (see :data:`HALF_MIN_BYTES`)."""
    return ((folder / CHECKPOINT_FILE).stat().st_size > HALF_MIN_BYTES
            and load_embeddings(folder / EMBEDDINGS_FILE).geometry == "sphere")


def store_half_precision(folder: Path, config: dict[str, Any], final_keys: Any) -> dict[str, float]:
    """Rewrite ``folder``'s checkpoint with every float tensor in float16, re-evaluate the model from
    it (computing in float32, as any load does), and rewrite the embeddings from that evaluation with
    float16 points. Returns the re-evaluated final metrics named in ``final_keys``."""
    # torch and the training engine load here, not at import: the app's start-up installs the
    # gallery through this module and never repackages
    from safetensors import safe_open
    from safetensors.torch import save_file

    from mmviz.runs.loop import trainer_for

    path = folder / CHECKPOINT_FILE
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
        state = {name: f.get_tensor(name) for name in f.keys()}
    half = {name: t.half() if t.is_floating_point() else t for name, t in state.items()}
    write_atomically(path, lambda tmp: save_file(half, str(tmp), metadata=metadata))
    fresh, embeddings = trainer_for(config).evaluate_checkpoint(config, folder, "cpu")
    save_embeddings(folder / EMBEDDINGS_FILE, embeddings, points_dtype=np.float16)
    missing = [k for k in final_keys if k not in fresh]
    if missing:
        raise MmvizError(f"re-evaluating {folder.name} in float16 did not compute {', '.join(missing)}")
    return {k: float(fresh[k]) for k in final_keys}


def halve_shipped(folder: Path) -> bool:
    """Ship the run in ``folder`` in float16 in place if it qualifies and is not already; ``run.json``
    gets the re-evaluated finals (the old ones kept as ``trained_final``). Returns whether it changed."""
    shipped = read_shipped(folder)
    if shipped.meta.get("weights") == HALF_PRECISION or not ships_half(folder):
        return False
    meta = dict(shipped.meta)
    meta["trained_final"] = meta["final"]
    meta["final"] = store_half_precision(folder, shipped.config, meta["final"])
    meta["weights"] = HALF_PRECISION
    write_json_atomically(folder / RUN_FILE, meta)
    return True


def read_shipped(folder: Path) -> ShippedRun:
    """The shipped run in ``folder`` (MmvizError if files are missing)."""
    missing = [f for f in SHIPPED_FILES if not (folder / f).exists()]
    if missing:
        raise MmvizError(f"reference run {folder.name}: missing {', '.join(missing)}")
    meta = json.loads((folder / RUN_FILE).read_text())
    config = json.loads((folder / CONFIG_FILE).read_text())
    return ShippedRun(folder, meta, config)


def shipped_runs(root: Path = GALLERY_DIR) -> list[ShippedRun]:
    """Every complete shipped run under ``root``, in name order (incomplete folders are skipped)."""
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.endswith(".tmp")):
        if all((folder / f).exists() for f in SHIPPED_FILES):
            out.append(read_shipped(folder))
    return out
