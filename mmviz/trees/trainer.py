"""The engine's trainer for tree embeddings: :class:`mmviz.runs.loop.Trainer` with the data,
model, step, evaluation and export of :mod:`mmviz.trees.embed`.

Everything else is the engine's: the run store, live curves, stop/resume, checkpoints and
the CLI (``python -m mmviz train --dataset wordnet-mammal --model poincare-embed --set dim=2``).
Training settings keep their meaning: ``steps`` optimiser steps of ``batch_size`` positive
pairs, ``lr`` the peak learning rate (warm-up, cosine decay, and the burn-in factor on the
first ``burn_in`` steps), ``eval_every`` steps between reconstruction metrics (logged as
``eval/map_closure``, ``eval/rank_closure``, ``eval/map_edges``, ``eval/rank_edges``,
``eval/distortion``, ``eval/spearman_depth``). ``weight_decay`` and ``grad_clip`` do not
apply (the points are free parameters; Riemannian Adam normalises the steps).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from mmviz.data.base import Hierarchy
from mmviz.data.embeddings_io import EmbeddingSet, save_embeddings
from mmviz.data.registry import load
from mmviz.metrics.graph import graph_distances, hierarchy_scores
from mmviz.models.registry import get_model_info
from mmviz.runs.checkpoint import load_checkpoint
from mmviz.runs.files import EMBEDDINGS_FILE
from mmviz.runs.loop import Trainer, TrainingFailed, lr_at
from mmviz.runs.train_config import resolve_config
from mmviz.trees.embed import ClosureSampler, TreeEmbedding, make_optimizer

MAX_NODES = 5000
"""Largest hierarchy trained here: the sampler's relation matrix and the evaluation are N × N."""


def model_geometry(model_name: str) -> str:
    """The geometry a registered tree model trains in (``poincare-embed`` → ``poincare``)."""
    return get_model_info(model_name).geometry


def step_lr(step: int, params, burn_in: int, factor: float) -> float:
    """The engine's warm-up + cosine schedule, times ``factor`` during the burn-in."""
    lr = lr_at(step, params)
    return lr * factor if step < burn_in else lr


def export_set(model: TreeEmbedding, hierarchy: Hierarchy) -> EmbeddingSet:
    """The trained points with one metadata row per node (name, id, depth, tree parent)."""
    parent = np.asarray(hierarchy.extras.get("tree_parent", np.full(len(hierarchy), -1)))
    meta = pd.DataFrame({
        "name": hierarchy.names, "label": hierarchy.names, "id": hierarchy.ids,
        "depth": np.asarray(hierarchy.depth, dtype=np.int64), "parent": parent.astype(np.int64),
        "parent_name": [hierarchy.names[p] if p >= 0 else "" for p in parent],
    })
    w = model.weight.detach().numpy()
    return EmbeddingSet(w, meta, geometry=model.geometry, curvature=model.curvature,
                        source=f"{hierarchy.name} ({model.geometry} embedding)")


def evaluate_model(model: TreeEmbedding, hierarchy: Hierarchy,
                   graph_dist: np.ndarray | None = None) -> dict[str, float]:
    """Every reconstruction metric of the current points (see :mod:`mmviz.metrics.graph`)."""
    return hierarchy_scores(model.pairwise_dist(), model.radius(), hierarchy.edges, hierarchy.closure,
                            hierarchy.depth, graph_dist)


class TreeTrainer(Trainer):
    """Trains ``poincare-embed`` / ``euclid-embed`` / ``lorentz-embed`` runs (one process, CPU)."""

    def _load_data(self) -> None:
        data = load(self.config["dataset"], "train", **self.config["dataset_params"])
        if not isinstance(data, Hierarchy):
            raise TrainingFailed(f"{self.config['model']} trains on a hierarchy, not {self.config['dataset']!r}")
        if len(data) > MAX_NODES:
            hint = (f" (set data.max_nodes to at most {MAX_NODES:,}, or pick a smaller data.root)"
                    if "max_nodes" in self.config["dataset_params"] else "")
            raise TrainingFailed(f"the hierarchy has {len(data):,} nodes; tree embeddings train on at most "
                                 f"{MAX_NODES:,} here{hint}")
        if len(data.closure) == 0:
            raise TrainingFailed("the hierarchy has no edges to learn")
        self.hierarchy = data
        self.graph_dist = graph_distances(len(data), data.edges)
        self.device = torch.device("cpu")  # N free points: a GPU gains nothing at these sizes

    def _build(self) -> None:
        info = get_model_info(self.config["model"])
        self.model_config = info.config_cls(**self.config["model_params"])
        self.model = TreeEmbedding(len(self.hierarchy), self.model_config, info.geometry, seed=self.params.seed)
        self.optimizer = make_optimizer(self.model, self.params.lr)
        self.sampler = ClosureSampler(self.hierarchy, self.model_config.negatives)
        self.start_step = 0
        if self.config.get("resume"):
            loaded = load_checkpoint(self.run_dir)
            if loaded is not None:
                state, meta = loaded
                self.model.load_state_dict(state)
                self.optimizer.load_state_dict(meta["optimizer"])
                for state in self.optimizer.state.values():
                    # torch reloads Adam's step count as a float32 tensor; geoopt's bias
                    # correction then rounds differently than in an uninterrupted run.
                    if torch.is_tensor(state.get("step")):
                        state["step"] = int(state["step"])
                self.start_step = self.last_checkpoint = int(meta["step"])
            self.store.truncate_metrics(self.run_id, self.start_step)

    def _step(self, step: int) -> dict[str, float]:
        cfg = self.model_config
        burn_in = min(cfg.burn_in, self.params.steps // 5)  # a short run still gets 4/5 at full speed
        lr = step_lr(step, self.params, burn_in, cfg.burn_in_factor)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        u, v, negatives, mask = self.sampler.batch(self.params.batch_size, self.params.seed, step)
        loss = self.model.loss(u, v, negatives, mask)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise TrainingFailed(self._nan_message("loss", step, lr))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"train/loss": value, "train/lr": lr, "train/burn_in": float(step < burn_in)}

    def _evaluate(self, step: int) -> None:
        values = evaluate_model(self.model, self.hierarchy, self.graph_dist)
        self._log(step, {f"eval/{k}": v for k, v in values.items()})

    def _checkpoint(self, step: int) -> None:
        super()._checkpoint(step)
        self._export()  # after every checkpoint, so a stopped run's points are there to look at

    def _export(self) -> None:
        save_embeddings(self.run_dir / EMBEDDINGS_FILE, export_set(self.model, self.hierarchy))

    @classmethod
    def evaluate_checkpoint(cls, config: dict, run_dir, device="cpu") -> tuple[dict[str, float], EmbeddingSet]:
        """The metrics and exported points of the checkpoint in ``run_dir`` (the gallery's verify)."""
        config = resolve_config(config)
        hierarchy = load(config["dataset"], "train", **config["dataset_params"])
        info = get_model_info(config["model"])
        model = TreeEmbedding(len(hierarchy), info.config_cls(**config["model_params"]), info.geometry,
                              seed=config["seed"])
        loaded = load_checkpoint(run_dir, weights_only=True)
        if loaded is None:
            raise TrainingFailed(f"no checkpoint in {run_dir}")
        model.load_state_dict(loaded[0])
        with torch.no_grad():
            metrics = evaluate_model(model, hierarchy, graph_distances(len(hierarchy), hierarchy.edges))
        return metrics, export_set(model, hierarchy)
