"""What the Hierarchy lab shows, computed without streamlit: constructions with their scores,
the precision/quality sweep, and the trained runs of a hierarchy read from the run store."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from mmviz.data.base import Hierarchy
from mmviz.data.registry import resolve_params
from mmviz.metrics.graph import graph_distances, hierarchy_scores
from mmviz.trees.construct import Construction, construct, construct_euclidean

METRIC_LABELS = {
    "map_closure": "MAP (closure)", "rank_closure": "mean rank (closure)",
    "map_edges": "MAP (direct edges)", "rank_edges": "mean rank (direct edges)",
    "distortion": "average distortion", "spearman_depth": "Spearman(depth, radius)",
}
TREE_MODELS = {"poincare-embed": "Poincaré", "euclid-embed": "Euclidean", "lorentz-embed": "Lorentz"}


BENCH_MAMMALS_MAP = pd.DataFrame({
    "geometry": ["Poincaré"] * 3 + ["Euclidean"] * 3, "dim": [2, 5, 10] * 2,
    "map_closure": [0.463, 0.778, 0.787, 0.171, 0.229, 0.388],
})
"""Closure MAP of WordNet mammals measured by ``bench/hierarchy_targets.py`` (3,000 steps of
256 pairs, Riemannian Adam lr 0.1, one thread): the reference lines of the MAP-vs-dimension chart."""


def tree_parent(h: Hierarchy) -> np.ndarray:
    """(N,) the spanning tree the construction embeds (each node's parent on a shortest path)."""
    return np.asarray(h.extras["tree_parent"], dtype=np.int64)


def construction_scores(h: Hierarchy, tau: float, precision: str) -> tuple[Construction, dict[str, float]]:
    """The hyperbolic construction of ``h`` at scale τ and its metrics (distortion at scale τ)."""
    start = time.perf_counter()
    c = construct(tree_parent(h), tau, precision)
    scores = hierarchy_scores(c.pairwise_dist(), c.radius(), h.edges, h.closure, h.depth,
                              graph_distances(len(h), h.edges), scale=tau)
    scores["seconds"] = time.perf_counter() - start
    scores["bits"] = c.bits
    # nodes whose float64 coordinates are on the rim; the high-precision path measures from
    # exact polar coordinates, so it loses none of them
    scores["collapsed"] = 0 if c.polar is not None else int(np.sum(~np.isfinite(c.radius())))
    return c, scores


def euclidean_construction_scores(h: Hierarchy, step: float = 1.0) -> tuple[np.ndarray, dict[str, float]]:
    """The same construction in the plane and its metrics."""
    pts = construct_euclidean(tree_parent(h), step)
    dist = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=-1)
    scores = hierarchy_scores(dist, np.linalg.norm(pts, axis=1), h.edges, h.closure, h.depth,
                              graph_distances(len(h), h.edges), scale=step)
    return pts, scores


def precision_sweep(h: Hierarchy, taus: list[float]) -> pd.DataFrame:
    """MAP on the direct edges and on the closure against τ, in float64 and in high precision.

    One row per (τ, precision): ``tau, precision, bits, map_edges, map_closure, rank_edges,
    distortion, collapsed`` (nodes float64 rounded onto the boundary).
    """
    rows = []
    for tau in taus:
        for precision in ("float64", "mpmath"):
            _, s = construction_scores(h, float(tau), precision)
            rows.append({"tau": float(tau), "precision": "float64" if precision == "float64" else "high (mpmath)",
                         **{k: s[k] for k in ("bits", "map_edges", "map_closure", "rank_edges", "distortion",
                                              "collapsed")}})
    return pd.DataFrame(rows)


def metrics_table(columns: dict[str, dict[str, float]]) -> pd.DataFrame:
    """A table with one row per metric and one column per embedding (name → its scores)."""
    return pd.DataFrame({name: {label: scores.get(key, np.nan) for key, label in METRIC_LABELS.items()}
                         for name, scores in columns.items()})


def tree_runs(store, dataset: str, dataset_params: dict[str, Any] | None = None) -> pd.DataFrame:
    """The tree-embedding runs of ``dataset`` in the store with their latest metrics.

    Columns: ``run_id, name, model, geometry, dim, status, step, total_steps`` and the
    ``eval/*`` metrics (``map_closure`` ...), newest first.
    """

    if dataset_params is not None:
        dataset_params = resolve_params(dataset, dataset_params)
    rows = []
    for run in store.list_runs():
        config = run.get("config") or {}
        if config.get("model") not in TREE_MODELS or config.get("dataset") != dataset:
            continue
        if dataset_params is not None:
            try:
                stored = resolve_params(dataset, dict(config.get("dataset_params") or {}))
            except Exception:  # noqa: BLE001 - a run from an older schema is simply not listed
                continue
            if stored != dataset_params:
                continue
        latest = {k.split("/", 1)[1]: v["value"] for k, v in store.latest_metrics(run["id"]).items()
                  if k.startswith("eval/")}
        rows.append({"run_id": run["id"], "name": run.get("name") or run["id"], "model": config["model"],
                     "geometry": TREE_MODELS[config["model"]], "dim": int(config["model_params"]["dim"]),
                     "status": run["status"], "step": run.get("step") or 0,
                     "total_steps": run.get("total_steps") or config.get("steps"), "created": run.get("created"),
                     **latest})
    frame = pd.DataFrame(rows)
    if len(frame) and "created" in frame:
        frame = frame.sort_values("created", ascending=False, na_position="last").reset_index(drop=True)
    return frame


def map_by_dimension(runs: pd.DataFrame) -> pd.DataFrame:
    """Best closure MAP of the finished runs per (geometry, dim): ``geometry, dim, map_closure, runs``."""
    if runs.empty or "map_closure" not in runs:
        return pd.DataFrame(columns=["geometry", "dim", "map_closure", "runs"])
    done = runs[(runs["status"] == "finished") & runs["map_closure"].notna()]
    return (done.groupby(["geometry", "dim"]).agg(map_closure=("map_closure", "max"), runs=("run_id", "count"))
            .reset_index().sort_values(["geometry", "dim"]))
