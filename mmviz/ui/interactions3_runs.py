"""The Interactions page's three-modality data: which runs belong to the n = 3 study (CoMM n = 3,
pairwise and anchor alignment on ``trifeature-triples``), their six probes (final and over
steps), the protocol summary, and a real example triple."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from mmviz.data.trifeature_triples import load_trifeature_triples
from mmviz.metrics.triple_probes import PROBES
from mmviz.runs.comm3_presets import METHODS
from mmviz.runs.store import RunStore
from mmviz.runs.triple_views import run_read_out
from mmviz.ui import interactions_runs
from mmviz.ui.interactions_runs import curve_labels, default_selection, run_option, run_version  # noqa: F401 (generic)

FULL_TERMS = "1,2,3"
PAIR_VIEWS = "CoMM n = 3 + pair views"
MODALITY_NAMES = {"1": "image 1", "2": "image 2", "3": "tone"}


@dataclass(frozen=True)
class TripleRun:
    """A run of the n = 3 study: id, name, method label, biased training or not, which masked-view
    terms CoMM's loss had (``1,2,3`` for the baselines), status, step, shipped or not, last update."""

    id: str
    name: str
    method: str
    biased: bool
    masked_terms: str
    status: str
    step: int
    reference: bool = False
    updated: float = 0.0

    @property
    def ablation(self) -> str:
        """"" for the full loss, else what the ablation left: "two-view term only", "no tone term"…"""
        if self.masked_terms == FULL_TERMS:
            return ""
        kept = [t for t in self.masked_terms.split(",") if t]
        if not kept:
            return "two-view term only"
        dropped = [MODALITY_NAMES[t] for t in FULL_TERMS.split(",") if t not in kept]
        return "no " + " or ".join(dropped) + " term"

    @property
    def label(self) -> str:
        """``CoMM n = 3 · biased`` (``CoMM n = 3 (two-view term only) · biased`` for an ablation)."""
        method = self.method + (f" ({self.ablation})" if self.ablation else "")
        return f"{method} · {'biased' if self.biased else 'unbiased'}"


def triple_runs(store: RunStore) -> list[TripleRun]:
    """Runs of comm3, pairwise3 or anchor3 on trifeature-triples, newest first."""
    out = []
    for run in sorted(store.list_runs(), key=lambda r: r.get("created") or 0, reverse=True):
        config: dict[str, Any] = run.get("config") or {}
        if config.get("dataset") != "trifeature-triples" or config.get("model") not in METHODS:
            continue
        params = config.get("model_params") or {}
        terms = ",".join(sorted(t.strip() for t in str(params.get("masked_terms", FULL_TERMS)).split(",") if t.strip()))
        method = METHODS[config["model"]] + (" + pair views" if params.get("pair_views") else "")
        if config["model"] == "anchor3" and params.get("anchor", "image1") != "image1":
            method = f"Anchor ({params['anchor'].replace('image', 'image ')})"
        out.append(TripleRun(
            run["id"], config.get("name") or run["id"], method,
            bool((config.get("dataset_params") or {}).get("biased", True)), terms,
            run.get("status", "?"), int(run.get("step") or 0), bool(run.get("reference")),
            float(run.get("updated") or 0.0)))
    return out


PROBE_METRICS = {k: f"eval/probe_{k}" for k in PROBES}


def run_history(store: RunStore, run: TripleRun) -> pd.DataFrame:
    """The run's six probes (%) per evaluation step, read once per state of the run. Read-only."""
    return interactions_runs.run_history(store, run, PROBE_METRICS)


def final_probes(history: pd.DataFrame) -> dict[str, float | None]:
    """The last evaluation's probe accuracies (%), None where a probe never ran."""
    if history.empty:
        return {k: None for k in PROBES}
    last = history.iloc[-1]
    return {k: None if pd.isna(last[k]) else float(last[k]) for k in PROBES}


def protocol_summary(finals: dict[str, dict[str, float | None]],
                     runs: Sequence[TripleRun]) -> dict[str, dict[str, float | None]]:
    """Per method (full loss only): R and U1–U3 from its newest selected unbiased run, S1 and S2
    from its newest selected biased run."""
    out: dict[str, dict[str, float | None]] = {}
    for run in runs:  # newest first: keep the first of each kind
        if run.ablation:
            continue
        entry = out.setdefault(run.method, {k: None for k in PROBES})
        values = finals.get(run.id, {})
        for k in (("R", "U1", "U2", "U3") if not run.biased else ("S1", "S2")):
            if entry[k] is None:
                entry[k] = values.get(k)
    order = [*METHODS.values(), PAIR_VIEWS]
    return dict(sorted(out.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))


def fused_runs(runs: Sequence[TripleRun]) -> list[TripleRun]:
    """The finished-or-checkpointed CoMM n = 3 runs on biased triples (the cross-view read-out's)."""
    return [r for r in runs if r.method.startswith(METHODS["comm3"]) and r.biased and r.step > 0]


@st.cache_data(show_spinner=False, max_entries=32)
def cross_view_percent(_store: RunStore, home: str, run_id: str, step: int, updated: float) -> dict[str, float]:
    """The cross-view read-out of a run's last checkpoint (%, by cell key): saved beside the
    checkpoint, or read out once and saved. Cached per run and state (``home``, ``step`` and
    ``updated`` are the cache key); MmvizError without a checkpoint."""
    return {k: 100 * v for k, v in run_read_out(_store, run_id).items()}


PROBE_COLUMNS = {"R (%)": "R", "U1 (%)": "U1", "U2 (%)": "U2", "U3 (%)": "U3", "S1 (%)": "S1", "S2 (%)": "S2"}


def probe_rows(runs: Sequence[TripleRun], finals: dict[str, dict[str, float | None]]) -> list[dict[str, Any]]:
    """One table row per run: name, method, training triples, step and its final probes (%)."""
    return [{"run": r.name, "method": r.method + (f" ({r.ablation})" if r.ablation else ""),
             "trained on": "biased" if r.biased else "unbiased", "step": r.step,
             **{column: finals[r.id][probe] for column, probe in PROBE_COLUMNS.items()}} for r in runs]


@st.cache_data(show_spinner="Rendering example triples…", max_entries=2)
def example_triples(size: int = 64, seed: int = 0) -> dict[str, Any]:
    """Two real test triples, one where both relations hold and one where neither does: their
    images (4, 3, size, size) (example A image 1, image 2, example B image 1, image 2), tones
    (2, L), hover texts, labels, tone titles and the texture → colour mapping lines."""
    data = load_trifeature_triples("test", n_train=16, n_test=200, size=size, seed=seed, biased=True,
                                   synergy_fraction=0.5, mapping_seed=0)
    meta = data.metadata
    both = int(np.flatnonzero((meta.synergy12 == 1) & (meta.synergy123 == 1))[0])
    neither = int(np.flatnonzero((meta.synergy12 == 0) & (meta.synergy123 == 0))[0])
    images, hover, labels, tone_titles = [], [], [], []
    for i, name, kind in ((both, "A", "both relations hold"), (neither, "B", "neither holds")):
        row = meta.iloc[i]
        for k in ("1", "2"):
            images.append(data.modalities[f"image{k}"][i])
            hover.append(f"example {name}, image {k}: {row[f'color{k}']} {row[f'texture{k}']} {row['shape']} — {kind}")
            labels.append(f"{row[f'color{k}']} {row[f'texture{k}']}<br>{row['shape']}")
        tone_titles.append(f"example {name}, tone: {row['pitch']}, {row['bass']}<br>{row['rhythm']}")
    mapping = [f"{t} → {c}" for t, c in zip(data.extras["textures"], data.extras["mapping_names"])]
    return {"images": np.stack(images), "tones": data.modalities["tone"][[both, neither]], "hover": hover,
            "labels": labels, "tone_titles": tone_titles, "mapping": mapping,
            "rows": meta.iloc[[both, neither]].reset_index(drop=True)}
