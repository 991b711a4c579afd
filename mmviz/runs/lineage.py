"""Parent and child runs: a child starts from its parent's last checkpoint (fine-tuning with
negated captions, unlearning a concept) and lives beside it in the store.

A child's config is its parent's with ``parent`` set to the parent's run id and the changed
keys; the model and its parameters stay the parent's, so the parent's weights fit. The
parent is only ever read: its folder, checkpoint and metrics are never written by a child.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from mmviz.errors import MmvizError
from mmviz.runs.checkpoint import load_checkpoint
from mmviz.runs.store import RunStore, check_run_id


def child_config(store: RunStore, parent_id: str, *, name: str, dataset_params: dict[str, Any] | None = None,
                 **train: Any) -> dict[str, Any]:
    """The config of a child of run ``parent_id``: the parent's config, ``parent`` set, the
    name, dataset parameters and training keys (``steps``, ``lr``, ``unlearn``...) replaced.

    MmvizError if the parent is not finished or has no checkpoint."""
    parent = store.get_run(parent_id)
    if parent["status"] != "finished":
        raise MmvizError(f"run '{parent_id}' is {parent['status']}; only a finished run can have children")
    if load_checkpoint(store.home / parent_id, weights_only=True) is None:
        raise MmvizError(f"run '{parent_id}' has no checkpoint to start a child from")
    return derive_config(parent["config"], parent_id, name=name, dataset_params=dataset_params, **train)


def derive_config(parent_config: dict[str, Any], parent_id: str, *, name: str,
                  dataset_params: dict[str, Any] | None = None, **train: Any) -> dict[str, Any]:
    """:func:`child_config` from the parent's config alone (the gallery's child entries)."""
    config = {k: v for k, v in parent_config.items() if k not in ("resume", "unlearn")}
    config["dataset_params"] = {**config.get("dataset_params", {}), **(dataset_params or {})}
    config.update(train, name=name, parent=parent_id, resume=False)
    return config


NEGATION_FRACTION = 0.3
"""Share of training captions negated when a run is fine-tuned with negated captions."""


def negation_name(parent_id: str) -> str:
    """The name of a negation fine-tune of ``parent_id``."""
    return f"{parent_id} + negations"


def negation_changes(steps: int = 400) -> dict[str, Any]:
    """The config keys a negation fine-tune changes: 30% negated captions, 400 steps at 1e-3."""
    return {"dataset_params": {"negation": NEGATION_FRACTION}, "steps": steps, "lr": 1e-3, "warmup_steps": 20,
            "eval_every": 100, "checkpoint_every": steps}


def children(store: RunStore, run_id: str) -> list[dict[str, Any]]:
    """The runs whose parent is ``run_id``, newest first."""
    return [run for run in store.list_runs() if run["config"].get("parent") == run_id]


def load_parent_weights(model: nn.Module, store: RunStore, parent_id: str) -> None:
    """Copy the parent's checkpoint into ``model`` in place (read only; the parent is unchanged).

    Shapes must match, except an embedding table that grew at the end (a vocabulary with new
    words appended): its old rows are copied, the new rows keep their fresh initialisation.
    MmvizError naming the parent and the first tensor that does not fit.
    """
    folder = Path(store.home) / check_run_id(parent_id)
    loaded = load_checkpoint(folder, device=next(model.parameters()).device, weights_only=True)
    if loaded is None:
        raise MmvizError(f"parent run '{parent_id}' has no checkpoint in {folder}")
    state = model.state_dict()
    for key, value in loaded[0].items():
        if key not in state:
            raise MmvizError(f"parent run '{parent_id}' has a tensor {key!r} this model does not")
        mine = state[key]
        grown = (value.ndim == mine.ndim == 2 and value.shape[1] == mine.shape[1]
                 and value.shape[0] < mine.shape[0])
        if value.shape != mine.shape and not grown:
            raise MmvizError(f"parent run '{parent_id}': {key} has shape {tuple(value.shape)}, this model "
                             f"{tuple(mine.shape)}; a child keeps its parent's model")
        with torch.no_grad():
            (mine[: value.shape[0]] if grown else mine).copy_(value)
    missing = sorted(set(state) - set(loaded[0]))
    if missing:
        raise MmvizError(f"parent run '{parent_id}' has no tensor {missing[0]!r}")
