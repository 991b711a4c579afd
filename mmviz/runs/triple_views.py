"""The cross-view read-out of a trained CoMM n = 3 run: how well each masked view of its fusion
predicts another modality's side of a synergy relation (:data:`~mmviz.metrics.triple_probes.CROSS_PREDICTIONS`).

It shows *why* the S1 probe leaves chance and the S2 probe does not: a single modality's masked
view learns to carry S1's other side, and no view in CoMM's loss is asked to compute S2's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mmviz.data.registry import load
from mmviz.errors import MmvizError
from mmviz.metrics.triple_probes import cross_view_predictions, cross_views
from mmviz.models.comm import batched_features
from mmviz.runs.files import CHECKPOINT_FILE, CROSS_FILE, write_json_atomically
from mmviz.runs.loop import load_run_model
from mmviz.runs.store import RunStore

CROSS_EXAMPLES = 2048
"""Unbiased test triples read (about half hold each relation): ~8 s per run on the 2-core CPU."""


def cross_view_read_out(model: Any, config: dict[str, Any], examples: int = CROSS_EXAMPLES,
                        device: torch.device | str = "cpu") -> dict[str, float]:
    """Each cross-view cell's probe accuracy (fraction) for ``model`` (a CoMM n = 3 with
    ``subset_features``) on the first ``examples`` test triples of its run ``config``."""
    if not hasattr(model, "subset_features"):
        raise MmvizError(f"the cross-view read-out needs a CoMM n = 3 model (comm3), not {config.get('model')!r}")
    test = load(config["dataset"], "test", **config["dataset_params"])
    test = test.subset(np.arange(min(examples, len(test))))
    inputs = [torch.as_tensor(test.modalities[m]) for m in list(test.modalities)[:3]]
    features = {view: batched_features(model, lambda a, b, c, view=view: model.subset_features(a, b, c, sides=view),
                                       inputs, device)
                for view in cross_views()}
    return cross_view_predictions(features, test.metadata)


# A run's read-out is saved beside the checkpoint it was read from (CROSS_FILE); the shipped
# CoMM n = 3 runs carry theirs, so a class opening the page does not wait ~8 s per run for it.

def checkpoint_signature(run_dir: Path) -> str:
    """A short hash of the run's checkpoint bytes: a saved read-out holds for these weights only."""
    return hashlib.sha256((Path(run_dir) / CHECKPOINT_FILE).read_bytes()).hexdigest()[:16]


def saved_read_out(run_dir: Path, examples: int = CROSS_EXAMPLES) -> dict[str, float] | None:
    """The read-out saved in ``run_dir`` for its current checkpoint and ``examples``, else None."""
    path = Path(run_dir) / CROSS_FILE
    try:
        saved = json.loads(path.read_text())
        if saved["checkpoint"] == checkpoint_signature(run_dir) and saved["examples"] == examples:
            return {k: float(v) for k, v in saved["accuracy"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        pass  # none, unreadable or stale: read it out again
    return None


def save_read_out(run_dir: Path, found: dict[str, float], examples: int = CROSS_EXAMPLES,
                  signature: str | None = None) -> None:
    """Save a read-out beside the checkpoint it came from, whose :func:`checkpoint_signature` was
    ``signature`` when it was loaded (default: now); silently skipped where unwritable."""
    try:
        write_json_atomically(Path(run_dir) / CROSS_FILE, {
            "checkpoint": signature or checkpoint_signature(run_dir), "examples": examples, "accuracy": found})
    except OSError:
        pass


def run_read_out(store: RunStore, run_id: str, examples: int = CROSS_EXAMPLES) -> dict[str, float]:
    """The cross-view read-out (fractions) of a run's last checkpoint: saved, or read out and saved.
    MmvizError for a run without a checkpoint or without a fusion."""
    run_dir = store.run_dir(run_id)
    has_checkpoint = (run_dir / CHECKPOINT_FILE).exists()
    found = saved_read_out(run_dir, examples) if has_checkpoint else None
    if found is None:
        # hashed before loading: a training run may write a newer checkpoint meanwhile
        signature = checkpoint_signature(run_dir) if has_checkpoint else None
        model, config = load_run_model(store, run_id)
        found = cross_view_read_out(model, config, examples)
        save_read_out(run_dir, found, examples, signature)
    return found
