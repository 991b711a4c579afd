"""Cached work behind the Similarity page: pairs of a run or a file, similarity matrices,
retrieval on the whole split, the batch-size sweep, the shift experiment, thumbnails.

Each function takes a ``key`` that names its source (a run id with its embeddings version, or
a hash of an uploaded file) and the Pairs as an unhashed ``_pairs`` argument: hashing a few
thousand points on every rerun would cost more than the cache saves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from mmviz.data.registry import load
from mmviz.losses import batch as lb
from mmviz.metrics import similarity as ms
from mmviz.runs.embeddings import embeddings_version
from mmviz.runs.store import RunStore
from mmviz.ui.run_source import load_run_embeddings
from mmviz.ui.similarity_data import Pairs, axis_labels, batch_indices, pairs_from_embeddings, thumbnail_uri
from mmviz.ui.uploads import load_uploaded

BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512, 1024)
SHIFT_LAMBDAS = (-0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0)


def run_key(store: RunStore, run_id: str) -> str:
    """A cache key that changes when the run's embeddings change."""
    return json.dumps([str(v) for v in embeddings_version(store, run_id)])


@st.cache_data(show_spinner=False, max_entries=8)
def _run_pairs(run_id: str, key: str, home: str) -> Pairs:
    del key  # cache key only
    return pairs_from_embeddings(load_run_embeddings(run_id, RunStore(home)))


def run_pairs(store: RunStore, run_id: str) -> Pairs:
    """Run ``run_id``'s held-out pairs (MmvizError if it has none)."""
    return _run_pairs(run_id, run_key(store, run_id), str(store.home))


def file_key(files: list[Any], geometry: str | None, curvature: float | None) -> str:
    digest = hashlib.sha1()
    for f in files:
        digest.update(f.name.encode())
        digest.update(f.getvalue())
    return f"file:{digest.hexdigest()}:{geometry}:{curvature}"


@st.cache_data(show_spinner="Reading the file…", max_entries=4)
def _file_pairs(key: str, _files: list[Any], geometry: str | None, curvature: float | None) -> Pairs:
    del key
    return pairs_from_embeddings(load_uploaded(_files, geometry, curvature))


def file_pairs(files: list[Any], geometry: str | None, curvature: float | None) -> tuple[str, Pairs]:
    """(key, pairs) of uploaded files (MmvizError if they are not paired embeddings)."""
    key = file_key(files, geometry, curvature)
    return key, _file_pairs(key, files, geometry, curvature)


@st.cache_data(show_spinner=False, max_entries=32)
def batch_similarity(key: str, _pairs: Pairs, idx: tuple[int, ...]) -> np.ndarray:
    """(B, B) raw similarity of the pairs ``idx`` (float64)."""
    i = np.asarray(idx, dtype=np.int64)
    return ms.similarity_matrix(_pairs.a[i], _pairs.b[i], _pairs.geometry, _pairs.curvature)


@st.cache_resource(show_spinner=False, max_entries=48)
def _memo(kind: str, key: str, params: tuple, _build: Callable[[], Any]) -> Any:
    del kind, key, params  # cache key only
    return _build()


def memo(kind: str, key: str, params: tuple, build: Callable[[], Any]) -> Any:
    """``build()`` once per (kind, key, params), shared and not copied: for figures and tables
    that do not depend on τ, so a τ drag does not rebuild them. Never mutate the result."""
    return _memo(kind, key, params, build)


@st.cache_resource(show_spinner=False, max_entries=16)  # shared, not copied (8 MB at B = 1024): never mutate
def ordered_batch(key: str, _pairs: Pairs, batch_size: int, seed: int, order: str
                  ) -> tuple[np.ndarray, np.ndarray, list[str], list[str], np.ndarray]:
    """The batch drawn by ``seed``, ordered by ``order`` (``"batch"``, a metadata column, or
    ``"cluster"``): pair positions (B,), raw similarity (B, B), row and column names, and which
    off-diagonal cells are also right answers (B, B)."""
    idx = batch_indices(len(_pairs), batch_size, seed)
    sim = batch_similarity(key, _pairs, tuple(int(i) for i in idx))
    if order == "cluster":
        perm = ms.cluster_order(sim)
    elif order in _pairs.meta_a:
        perm = ms.order_by(_pairs.meta_a.iloc[idx], [order])
    else:
        perm = np.arange(len(idx))
    idx, sim = idx[perm], sim[np.ix_(perm, perm)]
    rows, cols = axis_labels(_pairs, idx)
    return idx, sim, rows, cols, relevance(key, _pairs)[np.ix_(idx, idx)]


@st.cache_data(show_spinner="Scoring every pair against every other…", max_entries=8)
def full_similarity(key: str, _pairs: Pairs) -> np.ndarray:
    """(P, P) raw similarity of every a to every b (float32 to halve the cache)."""
    return ms.similarity_matrix(_pairs.a, _pairs.b, _pairs.geometry, _pairs.curvature).astype(np.float32)


@st.cache_data(show_spinner=False, max_entries=8)
def relevance(key: str, _pairs: Pairs) -> np.ndarray:
    """(P, P) bool: which b are right answers for each a (:func:`ms.pair_relevance`)."""
    return ms.pair_relevance(_pairs.meta_a, _pairs.meta_b, _pairs.text_side)


@st.cache_data(show_spinner="Sweeping the batch size…", max_entries=16)
def batch_size_sweep(key: str, _pairs: Pairs, tau: float, seed: int) -> pd.DataFrame:
    """:func:`lb.loss_vs_batch_size` over :data:`BATCH_SIZES` (those ≤ P) on the whole split."""
    sim = full_similarity(key, _pairs).astype(np.float64)
    return lb.loss_vs_batch_size(sim, tau, list(BATCH_SIZES), draws=8, seed=seed)


@st.cache_data(show_spinner="Shifting the modalities…", max_entries=16)
def shift_table(key: str, _pairs: Pairs, tau: float, batch_size: int) -> pd.DataFrame:
    """:func:`ms.shift_experiment` over :data:`SHIFT_LAMBDAS` on the whole split."""
    return ms.shift_experiment(_pairs.a, _pairs.b, SHIFT_LAMBDAS, tau, relevance(key, _pairs),
                               _pairs.geometry, _pairs.curvature, batch_size)


@st.cache_data(show_spinner=False, max_entries=16)
def zero_shot_scores(key: str, _pairs: Pairs, attribute: str) -> tuple[float, np.ndarray, list[str]] | None:
    """Zero-shot on ``attribute`` with the run's single-attribute captions as prompts:
    (accuracy, confusion (K, K), class names), or None without such captions."""
    side = None if _pairs.text_side is None else 1 - _pairs.text_side
    if _pairs.captions is None or side is None or attribute not in _pairs.captions:
        return None
    prompts = ms.zero_shot_prompts(_pairs.captions, attribute)
    image_meta = (_pairs.meta_a, _pairs.meta_b)[side]
    if len(prompts) < 2 or attribute not in image_meta:
        return None
    images = (_pairs.a, _pairs.b)[side]
    scores = ms.similarity_matrix(images, _pairs.caption_points[prompts["position"].to_numpy()],
                                  _pairs.geometry, _pairs.curvature)
    classes = prompts["value"].tolist()
    accuracy, matrix = ms.zero_shot(scores, image_meta[attribute].astype(str).tolist(), classes)
    return accuracy, matrix, classes


@st.cache_resource(show_spinner="Loading the run's images…", max_entries=4)
def _dataset_images(config_json: str, modality: str) -> np.ndarray | None:
    config = json.loads(config_json)

    try:
        data = load(config["dataset"], "test", **config.get("dataset_params", {}))
    except Exception:  # noqa: BLE001 - a missing or changed dataset only costs the thumbnails
        return None
    images = getattr(data, "modalities", {}).get(modality)
    return images if images is not None and images.ndim == 4 else None


def thumbnails(config: dict[str, Any], modality: str, pair_index: np.ndarray) -> list[str] | None:
    """PNG data URIs of the run dataset's test images of ``modality`` at ``pair_index``, or None."""
    images = _dataset_images(json.dumps(config, sort_keys=True), modality)
    if images is None or len(pair_index) == 0 or int(np.max(pair_index)) >= len(images):
        return None
    return [thumbnail_uri(images[int(i)]) for i in pair_index]
