"""What the Beyond pairs page computes, once per server: each study on a run (cached across
sessions), the shipped bench figures, and the child runs the page launches. The maths lives
in :mod:`mmviz.beyond`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from mmviz.beyond import composition, negation, unlearning
from mmviz.beyond.common import STUDY_IMAGES, is_hyperbolic, study_images
from mmviz.data import load
from mmviz.gallery.entries import FORGET_CONCEPT, get_entry
from mmviz.runs.lineage import child_config, children, negation_changes, negation_name
from mmviz.runs.loop import load_run_model
from mmviz.runs.store import RunStore
from mmviz.runs.unlearn import unlearn_config

STUDIES = ("composition", "negation", "unlearning")
STUDY_LABELS = {"composition": "Composition", "negation": "Negation", "unlearning": "Unlearning"}
PARENTS = ("ref-clip", "ref-meru")
BENCH_FILE = Path(__file__).resolve().parents[2] / "assets" / "beyond" / "bench.json"


def caption_runs(store: RunStore) -> list[dict[str, Any]]:
    """Finished runs on trifeature-captions with a CLIP or MERU model, reference runs first."""
    runs = [r for r in store.list_runs("finished") if r["dataset"] == "trifeature-captions"]
    return sorted(runs, key=lambda r: (not r["id"].startswith("ref-"), r["id"]))


def run_label(run: dict[str, Any]) -> str:
    return f"{run['name'] or run['id']} ({run['model']}) · {run['id']}"


@st.cache_resource(max_entries=12, show_spinner=False)
def model_of(_store: RunStore, run_id: str):
    """A run's model (eval mode), shared by every session."""
    return load_run_model(_store, run_id)[0]


@st.cache_resource(show_spinner=False)
def test_images():
    """The held-out study images (2,000, all attribute triples)."""
    return study_images()


@st.cache_resource(show_spinner=False)
def train_images():
    """The reference runs' training split: the forget set of the membership test comes from it."""
    return load("trifeature-captions", "train", **STUDY_IMAGES)


@st.cache_resource(max_entries=12, show_spinner=False)
def composition_result(_store: RunStore, run_id: str) -> dict[str, Any]:
    model = model_of(_store, run_id)
    return {"accuracy": composition.combination_accuracy(model, test_images()),
            "structure": composition.structure_summary(composition.parent_structure(model)),
            "offsets": composition.offset_transfer(model), "hyperbolic": is_hyperbolic(model)}


@st.cache_resource(max_entries=24, show_spinner=False)
def composition_disk(_store: RunStore, run_id: str, shape: int, color: int) -> pd.DataFrame:
    return composition.composition_points(model_of(_store, run_id), test_images(), shape, color)


@st.cache_resource(max_entries=12, show_spinner=False)
def negation_result(_store: RunStore, run_id: str) -> dict[str, Any]:
    model = model_of(_store, run_id)
    questions = negation.negation_questions(model, test_images())
    return {"summary": negation.negation_summary(questions), "depths": negation.negation_depths(model),
            "questions": questions}


@st.cache_resource(max_entries=12, show_spinner=False)
def unlearning_result(_store: RunStore, run_id: str, concept: str) -> dict[str, float]:
    return unlearning.unlearning_summary(model_of(_store, run_id), test_images(), concept, train_images())


@st.cache_resource(max_entries=12, show_spinner=False)
def before_after(_store: RunStore, parent: str, child: str, concept: str) -> pd.DataFrame:
    return unlearning.before_after_points(model_of(_store, parent), model_of(_store, child), test_images(), concept)


def bench_report() -> dict[str, Any] | None:
    """The figures of ``bench/beyond_targets.py`` (shipped), or None."""
    try:
        return json.loads(BENCH_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def unlearning_children(store: RunStore, parent: str) -> list[dict[str, Any]]:
    """The parent's unlearning children (any status), the shipped one first."""
    kids = [r for r in children(store, parent) if r["config"].get("unlearn")]
    return sorted(kids, key=lambda r: (not r["id"].startswith("ref-"), -r["created"]))


def negation_children(store: RunStore, parent: str) -> list[dict[str, Any]]:
    """Finished children of ``parent`` trained with negated captions."""
    return [r for r in children(store, parent)
            if r["status"] == "finished" and r["config"].get("dataset_params", {}).get("negation", 0) > 0]


def gold_standard(parent: str, concept: str) -> str | None:
    """The shipped retrained-without-the-concept run of a reference parent, if there is one."""
    return f"{parent}-no-red" if concept == FORGET_CONCEPT and parent in PARENTS else None


def unlearn_launch(store: RunStore, parent: str, concept: str, method: str) -> dict[str, Any]:
    return unlearn_config(store, parent, concept=concept, method=method)


def heldout_launch(model: str) -> dict[str, Any]:
    """A fresh run of the held-out-combination reference config for ``model`` ("clip" or "meru")."""
    entry = get_entry(f"{model}-heldout")
    return {**entry.config, "name": f"{model} on 80% of the triples (live)"}


def negation_launch(store: RunStore, parent: str) -> dict[str, Any]:
    return child_config(store, parent, name=negation_name(parent), **negation_changes())
