"""What the Data assimilation page shows, computed once per server: a run's evaluation on the
test flows at an observation density (:func:`mmviz.ocean.study.evaluate_lab`), the bench's
few-shot sweep, and the run the page launches. The maths lives in :mod:`mmviz.ocean`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import streamlit as st

from mmviz.data import load
from mmviz.ocean.assimilation import Assimilator
from mmviz.ocean.study import Evaluation, evaluate_lab
from mmviz.runs.loop import load_run_model
from mmviz.runs.store import RunStore

REFERENCES = ("ref-ocean-clip", "ref-ocean-prob")
DENSITIES = (4, 16, 64)
BENCH_FILE = Path(__file__).resolve().parents[2] / "assets" / "ocean" / "bench.json"
MODELS = ("ocean-clip", "ocean-prob")


def ocean_runs(store: RunStore) -> list[dict[str, Any]]:
    """Finished runs on ``ocean-drifters``, the reference runs first, then the newest."""
    runs = [r for r in store.list_runs("finished") if r["dataset"] == "ocean-drifters"]
    return sorted(runs, key=lambda r: (r["id"] not in REFERENCES, REFERENCES.index(r["id"]) if r["id"] in REFERENCES
                                       else 0))


def data_params(store: RunStore, run_id: str, drifters: int) -> dict[str, Any]:
    """The run's dataset parameters with the page's observation density."""
    params = dict(store.get_run(run_id)["config"].get("dataset_params", {}))
    params["drifters"] = int(drifters)
    return params


@st.cache_resource(max_entries=6, show_spinner=False)
def splits(params_json: str):
    """The train and test splits (from the dataset cache) and the baselines fitted on train."""
    params = json.loads(params_json)
    train, test = load("ocean-drifters", "train", **params), load("ocean-drifters", "test", **params)
    return train, test, Assimilator.fit(train)


@st.cache_resource(max_entries=6, show_spinner=False)
def evaluation(_store: RunStore, run_id: str, params_json: str) -> Evaluation:
    """The run's model and the baselines on the test flows (every session shares it)."""
    model, _ = load_run_model(_store, run_id)
    train, test, assim = splits(params_json)
    return evaluate_lab(model, train, test, assimilator=assim)


def bench_report() -> dict[str, Any] | None:
    """The few-shot sweep and density table of ``bench/ocean_targets.py`` (shipped), or None."""
    try:
        return json.loads(BENCH_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def live_config(model: str, steps: int, n: int | None = None) -> dict[str, Any]:
    """The run the page's *Train it live* launches: the default ocean (or ``n`` training flows),
    the model's defaults; the batch at most half the training set."""
    data = {} if n is None else {"n": int(n)}
    config = {"name": f"{model} live" + (f", {n:,} pairs" if n else ""), "dataset": "ocean-drifters",
              "dataset_params": data, "model": model, "model_params": {}, "steps": int(steps), "seed": 0,
              "device": "auto"}
    if n is not None and n < 512:
        config["batch_size"] = n // 2
    return config


def sweep_points(store: RunStore, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Finished ocean runs at the default density as few-shot points: model, training pairs, final
    held-out R@1 and conditional-mean RMSE / climatology (their own training flows as the pool)."""
    points = []
    for run in runs:
        params = run["config"].get("dataset_params", {})
        if params.get("drifters", 16) != 16:
            continue
        latest = store.latest_metrics(run["id"])
        r1, rel = latest.get("eval/r1_tracks_to_field"), latest.get("eval/gen_rel_rmse")
        if r1 is None or rel is None:
            continue
        points.append({"model": run["model"], "n": int(params.get("n", 10_000)), "r1": r1["value"],
                       "rel_rmse": rel["value"], "reference": run["id"] in REFERENCES})
    return points
