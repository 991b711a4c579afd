"""Pick a trained run and read its held-out embeddings (cached), for the pages that inspect runs.

The run id lives in the URL as ``?run=<id>`` so links from the Train page open the same run.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from mmviz.data.embeddings_io import EmbeddingSet
from mmviz.runs.embeddings import embeddings_version, run_embeddings
from mmviz.runs.files import checkpoint_info
from mmviz.runs.store import RunStore
from mmviz.ui import classroom
from mmviz.ui.train_runs import get_store


def inspectable_runs(store: RunStore) -> list[dict[str, Any]]:
    """Runs with a checkpoint (finished, stopped, or running with one saved) this session may see
    (not those trained on another browser's uploaded file), newest first."""
    runs = [r for r in classroom.visible_runs(store.list_runs())
            if checkpoint_info(store.run_dir(r["id"])) is not None]
    return sorted(runs, key=lambda r: r.get("created") or 0, reverse=True)


def run_label(run: dict[str, Any]) -> str:
    """``name · model on dataset · status`` for menus."""
    config = run.get("config") or {}
    name = config.get("name") or run["id"]
    return f"{name} · {config.get('model', '?')} on {config.get('dataset', '?')} · {run.get('status', '?')}"


@st.cache_data(show_spinner="Embedding the run's held-out split…", max_entries=16)
def _cached_embeddings(home: str, run_id: str, version: tuple) -> EmbeddingSet:
    del version  # part of the cache key only: a new checkpoint or export means new embeddings
    return run_embeddings(RunStore(home), run_id)


def load_run_embeddings(run_id: str, store: RunStore | None = None) -> EmbeddingSet:
    """Run ``run_id``'s held-out embeddings, cached per checkpoint (MmvizError if none)."""
    store = store or get_store()
    return _cached_embeddings(str(store.home), run_id, embeddings_version(store, run_id))
