"""The Interactions page's data: which runs belong to the R/U/S study, their probe accuracies
(final and over steps), CoMM's protocol summary, and real example pairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from mmviz.data.trifeature_datasets import load_trifeature_pairs
from mmviz.runs.store import RunStore

METHODS = {"comm": "CoMM", "cross": "Cross", "cross-self": "Cross+Self"}
PROBES = {"R": "eval/probe_R", "U": "eval/probe_U1", "U2": "eval/probe_U2", "S": "eval/probe_S"}


@dataclass(frozen=True)
class StudyRun:
    """A run of the study: its id, name, method label, whether it trained on biased pairs,
    whether it is CoMM's two-view-only ablation, its status and step, and whether it is a
    shipped reference run."""

    id: str
    name: str
    method: str
    biased: bool
    two_view_only: bool
    status: str
    step: int
    reference: bool = False
    updated: float = 0.0  # the store row's last change: with the id, what its cached probes are keyed by

    @property
    def label(self) -> str:
        """``CoMM · biased`` (``CoMM (two-view term only) · biased`` for the ablation)."""
        method = self.method + (" (two-view term only)" if self.two_view_only else "")
        return f"{method} · {'biased' if self.biased else 'unbiased'}"


def study_runs(store: RunStore) -> list[StudyRun]:
    """Runs of comm, cross or cross-self on trifeature-pairs, newest first."""
    out = []
    for run in sorted(store.list_runs(), key=lambda r: r.get("created") or 0, reverse=True):
        config: dict[str, Any] = run.get("config") or {}
        if config.get("dataset") != "trifeature-pairs" or config.get("model") not in METHODS:
            continue
        params = config.get("model_params") or {}
        out.append(StudyRun(
            run["id"], config.get("name") or run["id"], METHODS[config["model"]],
            bool((config.get("dataset_params") or {}).get("biased", True)),
            config["model"] == "comm" and params.get("modality_terms", True) is False,
            run.get("status", "?"), int(run.get("step") or 0), bool(run.get("reference")),
            float(run.get("updated") or 0.0)))
    return out


def default_selection(runs: Sequence[StudyRun]) -> list[str]:
    """The runs the page opens on without a link: the shipped reference study if there is one,
    else the 8 newest runs that did not fail."""
    references = [r.id for r in runs if r.reference]
    return references or [r.id for r in runs[:8] if r.status != "failed"]


def run_option(run: StudyRun) -> str:
    """How the run menu names a run: its name (and protocol), status and step."""
    name = f"{run.name} ({run.label})" if "biased" not in run.name else run.name
    return name + f" · {run.status}, step {run.step}"


def curve_labels(runs: Sequence[StudyRun]) -> list[str]:
    """Legend labels: the method and protocol, plus the run's name where two runs share them."""
    plain = [r.label for r in runs]
    return [f"{lab} · {r.name}" if plain.count(lab) > 1 else lab for lab, r in zip(plain, runs)]


def probe_history(store: RunStore, run_id: str, probes: dict[str, str] | None = None) -> pd.DataFrame:
    """Probe accuracies (%) per evaluation step: columns step and each key of ``probes`` (label →
    metric name; this study's :data:`PROBES` by default), NaN where missing."""
    probes = PROBES if probes is None else probes
    frame = store.metrics(run_id, names=list(probes.values()))
    if frame.empty:
        return pd.DataFrame(columns=["step", *probes])
    wide = frame.pivot_table(index="step", columns="name", values="value", aggfunc="last")
    wide = wide.rename(columns={v: k for k, v in probes.items()}).reindex(columns=list(probes)) * 100.0
    return wide.reset_index()


@st.cache_resource(show_spinner=False, max_entries=64)
def _history(home: str, run_id: str, step: int, status: str, updated: float, probes: tuple[tuple[str, str], ...],
             _store: RunStore) -> pd.DataFrame:
    return probe_history(_store, run_id, dict(probes))


def run_history(store: RunStore, run: Any, probes: dict[str, str] | None = None) -> pd.DataFrame:
    """:func:`probe_history` of ``run`` (a study run: id, step, status, updated), read once per
    state of the run for every session of the server. Read-only."""
    probes = PROBES if probes is None else probes
    return _history(str(store.home), run.id, run.step, run.status, run.updated, tuple(probes.items()), store)


def run_version(runs: Sequence[StudyRun]) -> tuple:
    """What figures of ``runs`` depend on (in order): a cache key."""
    return tuple((r.id, r.name, r.step, r.status, r.updated) for r in runs)


def final_probes(store: RunStore, run_id: str, history: pd.DataFrame | None = None) -> dict[str, float | None]:
    """The last evaluation's probe accuracies (%), None where a probe never ran (from ``history``
    when given, else read)."""
    history = probe_history(store, run_id) if history is None else history
    if history.empty:
        return {k: None for k in PROBES}
    last = history.iloc[-1]
    return {k: None if pd.isna(last[k]) else float(last[k]) for k in PROBES}


def protocol_summary(finals: dict[str, dict[str, float | None]],
                     runs: Sequence[StudyRun]) -> dict[str, dict[str, float | None]]:
    """CoMM's protocol per method: R and U from its (newest selected) unbiased run, S from its
    biased run. ``finals``: run id → final probes. Methods with neither run are left out."""
    out: dict[str, dict[str, float | None]] = {}
    for run in runs:  # newest first: keep the first of each kind
        if run.two_view_only:
            continue
        entry = out.setdefault(run.method, {"R": None, "U": None, "S": None})
        values = finals.get(run.id, {})
        if not run.biased:
            for k in ("R", "U"):
                if entry[k] is None:
                    entry[k] = values.get(k)
        elif entry["S"] is None:
            entry["S"] = values.get("S")
    order = list(METHODS.values())
    return {m: out[m] for m in order if m in out}


PROBE_COLUMNS = {"R (%)": "R", "U image 1 (%)": "U", "U image 2 (%)": "U2", "S (%)": "S"}


def probe_rows(runs: Sequence[StudyRun], finals: dict[str, dict[str, float | None]]) -> list[dict[str, Any]]:
    """One table row per run: name, method, training pairs, step and its final probes (%)."""
    return [{"run": r.name, "method": r.method + (" (two-view only)" if r.two_view_only else ""),
             "trained on": "biased" if r.biased else "unbiased", "step": r.step,
             **{column: finals[r.id][probe] for column, probe in PROBE_COLUMNS.items()}} for r in runs]


@st.cache_data(show_spinner="Rendering example pairs…", max_entries=2)
def example_pairs(size: int = 64, seed: int = 0) -> tuple[np.ndarray, list[str], list[str], list[str]]:
    """Two real test pairs, one where the texture→colour mapping holds and one where it does
    not, as 4 images (pair 1 image 1, image 2, pair 2 image 1, image 2), with hover texts,
    labels and the mapping as "texture → colour" lines."""

    data = load_trifeature_pairs("test", n_train=16, n_test=64, size=size, seed=seed, biased=True,
                                 synergy_fraction=0.5, mapping_seed=0)
    meta = data.metadata
    holds = int(np.flatnonzero(meta.synergy.to_numpy() == 1)[0])
    fails = int(np.flatnonzero(meta.synergy.to_numpy() == 0)[0])
    images, hover, labels = [], [], []
    for i, kind in ((holds, "mapping holds (S = 1)"), (fails, "mapping fails (S = 0)")):
        row = meta.iloc[i]
        for k in ("1", "2"):
            images.append(data.modalities[f"image{k}"][i])
            text = f"{row[f'color{k}']} {row[f'texture{k}']} {row[f'shape{k}']}"
            hover.append(f"pair {'A' if i == holds else 'B'}, image {k}: {text} — {kind}")
            labels.append(f"{row[f'color{k}']} {row[f'texture{k}']}<br>{row[f'shape{k}']}")
    mapping = [f"{t} → {c}" for t, c in zip(data.extras["textures"], data.extras["mapping_names"])]
    return np.stack(images), hover, labels, mapping
