"""The Explorer's sources and caches: a run's embeddings or an uploaded file, cached
projections, quality read-outs and image thumbnails.

What every session computes alike from the same embeddings (point names, hover texts, figures) is
cached with ``st.cache_resource``: one object per key for the whole server, shared by every
session and never mutated (figures are copied by ``show_chart``/``plotly_chart`` when sent).
Keys are :attr:`Source.key` (a run's checkpoint, or an upload's content hash: only a session
holding the same bytes can reach an upload's entries) and :func:`projection_key`."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from mmviz.data.embeddings_io import EmbeddingSet, load_embeddings
from mmviz.data.registry import load
from mmviz.explorer import queries
from mmviz.explorer.projections import SLOW, Projection, project_set
from mmviz.explorer.queries import example_set
from mmviz.metrics.projection import quality
from mmviz.paths import ASSETS
from mmviz.plots.explorer import MAX_DRAWN
from mmviz.runs.embeddings import embeddings_version
from mmviz.ui.run_source import load_run_embeddings
from mmviz.ui.train_runs import get_store
from mmviz.ui.uploads import check_upload_size, load_uploaded


@dataclass
class Source:
    """Embeddings with a label and a cache key (run id + checkpoint, or the file's hash)."""

    es: EmbeddingSet
    label: str
    key: str
    run_id: str | None = None
    images: np.ndarray | None = None  # (N, C, H, W) uint8 by pair_index (a pretrained model's thumbnails)


def run_source(run_id: str, label: str) -> Source:
    """Run ``run_id``'s held-out embeddings (cached per checkpoint by run_source)."""
    es = load_run_embeddings(run_id)
    version = embeddings_version(get_store(), run_id)
    return Source(es, label, f"run:{json.dumps(version, default=str)}", run_id)


class _Upload:
    """An in-memory stand-in for Streamlit's UploadedFile (name + getvalue)."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


@st.cache_data(show_spinner="Reading the file…", max_entries=4)
def _uploaded(files: tuple[tuple[str, bytes], ...], geometry: str | None, curvature: float | None) -> EmbeddingSet:
    return load_uploaded([_Upload(n, b) for n, b in files], geometry, curvature)


def upload_source(files, geometry: str | None, curvature: float | None) -> Source:
    """Uploaded files → a Source (MmvizError if the loader refuses them); parsed once per content."""
    check_upload_size(files)  # before the bytes are copied into the cache key
    blobs = tuple((f.name, f.getvalue()) for f in files)
    es = _uploaded(blobs, geometry, curvature)
    digest = hashlib.sha1(b"".join(n.encode() + b for n, b in blobs)).hexdigest()[:16]
    return Source(es, ", ".join(n for n, _ in blobs), f"upload:{digest}:{geometry}:{curvature}")


@st.cache_data(show_spinner=False, max_entries=16)
def _projection(key: str, method: str, specificity: str | None, root: int | None, _es: EmbeddingSet) -> Projection:
    return project_set(_es, method, specificity=specificity, root=root)


_FITTED: OrderedDict[tuple, Projection] = OrderedDict()
_FITTED_LOCK = threading.Lock()
FITTED_ENTRIES = 8


def _fitted(key: tuple) -> Projection | None:
    """The slow fits' own cache (shared by every session, 8 entries, least recently used out):
    st.cache_data would replay a progress line drawn inside it, or refuse one drawn outside."""
    with _FITTED_LOCK:
        if key in _FITTED:
            _FITTED.move_to_end(key)
        return _FITTED.get(key)


def _keep_fitted(key: tuple, proj: Projection) -> None:
    with _FITTED_LOCK:
        _FITTED[key] = proj
        while len(_FITTED) > FITTED_ENTRIES:
            _FITTED.popitem(last=False)


def projection(src: Source, method: str, specificity: str | None = None, root: int | None = None) -> Projection:
    """The cached projection of ``src``; the fitted ones (HoroPCA, CO-SNE, UMAP) show their
    progress in a status box the first time."""
    if method not in SLOW and method != "horopca":
        return _projection(src.key, method, specificity, root, src.es)
    key = (src.key, method, specificity, root)
    proj = _fitted(key)
    if proj is not None:
        return proj
    with st.status(f"{method} on {len(src.es):,} points (cached once computed)…", expanded=True) as status:
        line = st.empty()
        proj = project_set(src.es, method, specificity=specificity, root=root, progress=line.caption)
        line.empty()
        status.update(label=f"{method} done in {proj.seconds:.1f} s (cached)", state="complete", expanded=False)
    _keep_fitted(key, proj)
    return proj


def projection_key(src: Source, proj: Projection) -> str:
    """A cache key for what is drawn from ``proj`` of ``src``: the source's key and a digest of
    the disk coordinates and depths (cheap: 16 bytes per point)."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(np.ascontiguousarray(proj.disk).tobytes())
    digest.update(np.ascontiguousarray(proj.depth).tobytes())
    return f"{src.key}|{proj.method}|{proj.depth_name}|{proj.unit}|{digest.hexdigest()}"


@st.cache_resource(show_spinner=False, max_entries=16)
def _names(key: str, _meta) -> list[str]:
    return queries.point_names(_meta)


def point_names(src: Source) -> list[str]:
    """Every point's short name (:func:`mmviz.explorer.queries.point_names`), once per source for
    the whole server. Read-only."""
    return _names(src.key, src.es.metadata)


@st.cache_resource(show_spinner=False, max_entries=16)
def _hover(key: str, _es: EmbeddingSet, _proj: Projection) -> list[str]:
    return queries.hover_texts(_es.metadata, _proj.depth, _proj.depth_name)


def hover_texts(src: Source, proj: Projection):
    """Hover texts of ``src`` under ``proj``, once per projection for the whole server (read-only);
    beyond the disk's drawn size, a function of row indices naming only the rows asked for (a
    million names would cost seconds, and only the hover sample shows them)."""
    if len(src.es) > MAX_DRAWN:
        meta, depth = src.es.metadata, proj.depth

        def rows_hover(rows: np.ndarray) -> list[str]:
            return queries.hover_texts(meta.iloc[rows].reset_index(drop=True), depth[rows], proj.depth_name)
        return rows_hover
    return _hover(projection_key(src, proj), src.es, proj)


@st.cache_data(show_spinner="Measuring the projection's quality…", max_entries=16)
def _quality(key: str, method: str, specificity: str | None, root: int | None, _es: EmbeddingSet,
             _proj: Projection) -> dict[str, Any]:
    return quality(_es.points, _proj, sample=1000)


def projection_quality(src: Source, proj: Projection, specificity: str | None, root: int | None) -> dict[str, Any]:
    """Cached quality read-outs (trustworthiness and distortion on a 1,000-point sample)."""
    return _quality(src.key, proj.method, specificity, root, src.es, proj)


@st.cache_resource(show_spinner="Loading the run's images…", max_entries=4)
def _test_images(dataset: str, params_json: str) -> np.ndarray | None:
    data = load(dataset, "test", **json.loads(params_json))
    return data.modalities.get("image")


def run_images(run_id: str | None) -> np.ndarray | None:
    """The images (N, C, H, W) uint8 of a run's test split, indexed by ``pair_index``; None if
    the source is not a run or its dataset has no images."""
    if run_id is None:
        return None
    run = get_store().get_run(run_id)
    config = (run or {}).get("config") or {}
    if "dataset" not in config:
        return None
    try:
        return _test_images(config["dataset"], json.dumps(config.get("dataset_params") or {}, sort_keys=True))
    except Exception:  # noqa: BLE001 - thumbnails are optional: the page shows text instead
        return None


def source_images(src: Source) -> np.ndarray | None:
    """The images of ``src`` indexed by ``pair_index``: its own thumbnails, else its run's."""
    return src.images if src.images is not None else run_images(src.run_id)


@st.cache_data(show_spinner=False, max_entries=1)
def _example() -> EmbeddingSet:
    return example_set()


def example_source() -> Source:
    """The synthetic hierarchy shown when there is no run (cached)."""
    return Source(_example(), "synthetic hierarchy", "example:0")


MAMMALS_10D = ASSETS / "projections" / "mammal-poincare-10d.npz"


@st.cache_data(show_spinner=False, max_entries=1)
def _mammals() -> EmbeddingSet:
    return load_embeddings(MAMMALS_10D)


def mammal_source() -> Source:
    """WordNet's mammal closure trained in 10-D Poincaré (``bench/projection_targets.py``): the
    set on which HoroPCA, CO-SNE and tangent PCA are compared (cached)."""
    return Source(_mammals(), "WordNet mammals, 10-D Poincaré", "mammals10:0")
