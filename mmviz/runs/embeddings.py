"""A run's held-out embeddings: the file its training exported, or re-computed from its
checkpoint (a stopped run, or an export older than the checkpoint) and saved beside it.

This is how pages and the CLI read what a run learned: :func:`run_embeddings` returns an
:class:`~mmviz.data.embeddings_io.EmbeddingSet` (points + metadata + geometry + curvature).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from mmviz.data.embeddings_io import EmbeddingSet, load_embeddings, save_embeddings
from mmviz.data.registry import load
from mmviz.errors import MmvizError
from mmviz.geometry import DEFAULT_CONE_MIN_RADIUS
from mmviz.runs.evaluate import export_embeddings, prepare_eval_set
from mmviz.runs.files import EMBEDDINGS_FILE, checkpoint_info
from mmviz.runs.loop import load_run_model
from mmviz.runs.store import RunStore


def embeddings_path(store: RunStore, run_id: str) -> Path:
    """Where run ``run_id`` keeps its exported embeddings."""
    return store.run_dir(run_id) / EMBEDDINGS_FILE


def embeddings_version(store: RunStore, run_id: str) -> tuple[Any, ...]:
    """A cheap key that changes when the run's checkpoint or export changes (for caches)."""
    ckpt = checkpoint_info(store.run_dir(run_id))
    path = embeddings_path(store, run_id)
    exported = path.stat().st_mtime if path.exists() else None
    return (run_id, ckpt["step"] if ckpt else None, ckpt["saved"] if ckpt else None, exported)


def run_embeddings(store: RunStore, run_id: str, device: str = "cpu") -> EmbeddingSet:
    """The held-out embeddings of run ``run_id`` (MmvizError if it has no checkpoint yet).

    Uses the exported file when it is at least as new as the checkpoint; otherwise embeds the
    run's eval split with its checkpoint (``eval_size`` pairs) and saves the file for next time.
    The set carries the run's own entailment-cone constant (its model's ``min_radius``).
    """
    run_dir = store.run_dir(run_id)
    ckpt = checkpoint_info(run_dir)
    path = embeddings_path(store, run_id)
    if path.exists() and (ckpt is None or path.stat().st_mtime >= ckpt["saved"]):
        embeddings = load_embeddings(path)
        params = (store.get_run(run_id).get("config") or {}).get("model_params") or {}
        embeddings.cone_min_radius = float(params.get("min_radius", DEFAULT_CONE_MIN_RADIUS))
        return embeddings
    if ckpt is None:
        raise MmvizError(f"run '{run_id}' has no checkpoint yet: nothing to embed")

    model, config = load_run_model(store, run_id, device)
    eval_set = prepare_eval_set(load(config["dataset"], "test", **config["dataset_params"]), config["eval_size"])
    embeddings = export_embeddings(model, eval_set, torch.device(device))
    save_embeddings(path, embeddings)
    return embeddings
