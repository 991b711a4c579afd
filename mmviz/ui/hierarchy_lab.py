"""Cached computations and the live training panel of the Hierarchy lab page."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from mmviz.data import wordnet
from mmviz.data.base import Hierarchy
from mmviz.data.edgelist import parse_edge_list
from mmviz.data.embeddings_io import load_embeddings
from mmviz.data.registry import load
from mmviz.errors import MmvizError
from mmviz.plots import hierarchy as plots
from mmviz.runs import runner
from mmviz.runs.embeddings import embeddings_path
from mmviz.runs.train_config import resolve_config
from mmviz.trees import lab
from mmviz.trees.construct import sala_scale
from mmviz.trees.models import TREE_TRAIN_DEFAULTS
from mmviz.ui import classroom
from mmviz.ui.charts import show_chart
from mmviz.ui.train_runs import get_store

LIVE_TICK_S = 2.0
PAGE_TRAIN = {**TREE_TRAIN_DEFAULTS, "checkpoint_every": 250, "eval_every": 250, "threads": 1}
"""Runs started here export their points every 250 steps, so the disk redraws as they learn."""


def hierarchy_key(h: Hierarchy) -> tuple:
    """What identifies a hierarchy in the caches: its name, parameters and content (edges and
    names), so two uploads of the same file name and size never share an entry."""
    digest = hashlib.blake2b(np.ascontiguousarray(h.edges).tobytes(), digest_size=12)
    digest.update("\0".join(h.names).encode())
    return (h.name, str(h.params), len(h), digest.hexdigest())


_BY_CONTENT = {Hierarchy: hierarchy_key}


@st.cache_resource(show_spinner=False, max_entries=32)
def _figure(kind: str, key: tuple, _build: Callable[[], Any]) -> Any:
    return _build()


def shared_figure(kind: str, h: Hierarchy, settings: tuple, build: Callable[[], Any]) -> Any:
    """``build()``, a figure of ``h`` with ``settings``, built once for every session (read-only)."""
    return _figure(kind, (hierarchy_key(h), *settings), build)


@st.cache_data(show_spinner=False, max_entries=8)
def hierarchy(name: str, params: tuple) -> Hierarchy:
    """A registered hierarchy dataset (params as sorted (key, value) pairs)."""
    return load(name, "train", **dict(params))


@st.cache_resource(show_spinner=False)
def noun_index() -> wordnet.NounIndex:
    """The WordNet noun lookup (read once per process; read-only)."""
    return wordnet.noun_index()


@st.cache_data(show_spinner=False, max_entries=4)
def uploaded(data: bytes, filename: str) -> Hierarchy:
    """An uploaded edge list (MmvizError if invalid)."""
    return parse_edge_list(data, name=filename)


def save_upload(data: bytes, filename: str) -> str:
    """Keep an uploaded edge list in this session's own uploads folder (``MMVIZ_HOME/uploads/<owner>/
    edgelists``, named by its content, so the same file is saved once) for runs to train on (dataset
    ``edgelist``); returns its path. Runs on it are this session's only (``classroom.visible``)."""
    suffix = Path(filename).suffix.lower() if Path(filename).suffix.lower() in (".csv", ".tsv", ".txt") else ".csv"
    path = classroom.uploads_dir("edgelists") / f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
    if not path.exists():
        path.write_bytes(data)
    return str(path)


def default_tau(h: Hierarchy) -> float:
    """A starting scale: enough to separate the siblings of the busiest node (ε = 1)."""
    return float(np.clip(round(sala_scale(lab.tree_parent(h), 1.0), 1), 1.0, 12.0))


def drawing_tau(h: Hierarchy, tau: float, max_radius: float = 7.0) -> float:
    """τ at which the disk can show the construction: the deepest node at most ``max_radius``
    from the origin (0.998 of the disk's radius)."""
    return min(tau, max_radius / max(int(h.depth.max()), 1))


@st.cache_data(show_spinner=False, max_entries=16, hash_funcs=_BY_CONTENT)
def construction(h: Hierarchy, tau: float, precision: str) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """(points (N, 2) for drawing, radius (N,), scores) of the hyperbolic construction."""
    c, scores = lab.construction_scores(h, tau, precision)
    return c.points, c.radius(), scores


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=_BY_CONTENT)
def euclidean_construction(h: Hierarchy) -> tuple[np.ndarray, dict[str, float]]:
    return lab.euclidean_construction_scores(h, 1.0)


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs=_BY_CONTENT)
def precision_sweep(h: Hierarchy, taus: tuple[float, ...]) -> pd.DataFrame:
    return lab.precision_sweep(h, list(taus))


def _pair_configs(dataset: str, params: dict[str, Any], dim: int, steps: int) -> list[dict[str, Any]]:
    return [resolve_config({**PAGE_TRAIN, "dataset": dataset, "dataset_params": params, "model": model,
                            "model_params": {"dim": dim}, "steps": steps, "name": f"{label} {dim}-D · {dataset}"})
            for model, label in (("poincare-embed", "Poincaré"), ("euclid-embed", "Euclidean"))]


def launch_pair(dataset: str, params: dict[str, Any], dim: int, steps: int) -> list[str]:
    """Start a Poincaré and a Euclidean run of the same settings (this session's, within its
    quota); returns their ids."""
    return classroom.launch_all(_pair_configs(dataset, params, dim, steps), get_store())


def launch_sweep(dataset: str, params: dict[str, Any], dims: list[int], steps: int) -> list[str]:
    """Queue a Poincaré and a Euclidean run at every dimension (the runner starts them in turn)."""
    return classroom.launch_all([c for dim in dims for c in _pair_configs(dataset, params, dim, steps)], get_store())


def _run_points(run_id: str) -> tuple[np.ndarray, str] | None:
    path = embeddings_path(get_store(), run_id)
    if not path.exists():
        return None
    try:
        es = load_embeddings(path)
    except MmvizError:
        return None  # being rewritten right now: the next tick reads it
    points = es.points.astype(np.float64)
    if es.geometry == "lorentz":
        points = points[:, 1:] / (points[:, :1] + 1.0 / np.sqrt(es.curvature))
    return points, es.geometry


def run_figure(h: Hierarchy, run: dict[str, Any]) -> Any:
    """The latest exported points of a run drawn in their geometry (first two coordinates)."""
    found = _run_points(run["run_id"])
    title = f"{run['name']} · step {run['step']}/{run['total_steps']}"
    if found is None:
        return None
    points, geometry = found
    dim = points.shape[1]
    if dim > 2:
        title += f" · first 2 of {dim} coordinates"
    points = points[:, :2]
    if geometry == "euclidean":
        return plots.hierarchy_plane_figure(points, h.edges, h.names, h.depth, title=title, height=460)
    return plots.hierarchy_disk_figure(points, h.edges, h.names, h.depth, title=title, height=460)


def _curves(run_ids: list[str], labels: dict[str, tuple[str, str]]) -> pd.DataFrame:
    store = get_store()
    frames = []
    for rid in run_ids:
        m = store.metrics(rid, names=["train/loss", "eval/map_closure", "eval/map_edges"])
        if len(m):
            m = m.assign(label=labels[rid][0], geometry=labels[rid][1])
            frames.append(m[["label", "geometry", "step", "name", "value"]])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["label", "geometry", "step", "name", "value"])


def live_panel(h: Hierarchy, dataset: str, params: dict[str, Any], run_ids: list[str]) -> None:
    """Disks, curves and the metrics table of ``run_ids``; redraws every 2 s while one is running."""
    runs = lab.tree_runs(get_store(), dataset, params)
    runs = runs[runs["run_id"].isin(run_ids)] if len(runs) else runs
    active = bool(len(runs)) and runs["status"].isin(["queued", "running"]).any()
    st.fragment(_live, run_every=LIVE_TICK_S if active else None)(h, dataset, params, list(run_ids), active)


def _live(h: Hierarchy, dataset: str, params: dict[str, Any], run_ids: list[str], ticking: bool) -> None:
    runner.refresh(get_store())
    runs = lab.tree_runs(get_store(), dataset, params)
    runs = runs[runs["run_id"].isin(run_ids)].reset_index(drop=True) if len(runs) else runs
    if runs.empty:
        st.info("No runs yet: start one above.")
        return
    if ticking and not runs["status"].isin(["queued", "running"]).any():
        st.rerun()  # every run has ended: redraw the page once, without the timer
    runs = runs.sort_values("geometry", key=lambda s: s.map({"Poincaré": 0, "Lorentz": 1, "Euclidean": 2}))
    cols = st.columns(len(runs))
    for col, (_, run) in zip(cols, runs.iterrows()):
        with col:
            st.caption(f"**{run['name']}** — {run['status']}, step {run['step']}/{run['total_steps']}")
            fig = run_figure(h, run.to_dict())
            if fig is None:
                st.info("Waiting for the first points (exported every 250 steps)…")
            else:
                show_chart(fig, width="stretch", key=f"live_disk_{run['run_id']}")
    labels = {r["run_id"]: (r["name"], r["geometry"]) for _, r in runs.iterrows()}
    curves = _curves(list(runs["run_id"]), labels)
    left, right = st.columns(2)
    show_chart(plots.curves_figure(curves, "train/loss", "Training loss", "loss"), width="stretch",
               key="live_loss", where=left)
    show_chart(plots.curves_figure(curves, "eval/map_closure", "Closure MAP while training",
               "MAP (closure)"), width="stretch", key="live_map", where=right)
    table = lab.metrics_table({r["name"]: r.to_dict() for _, r in runs.iterrows()})
    st.dataframe(table.style.format("{:.3f}", na_rep="–"), width="stretch")
