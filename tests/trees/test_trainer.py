"""Tree embeddings through the engine: the store, metrics, checkpoints, resume, export, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mmviz.data.embeddings_io import load_embeddings
from mmviz.data.registry import load
from mmviz.errors import MmvizError
from mmviz.models.registry import get_model_info, models_for
from mmviz.runs.checkpoint import load_checkpoint
from mmviz.runs.embeddings import run_embeddings
from mmviz.runs.files import EMBEDDINGS_FILE
from mmviz.runs.loop import train_run
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config
from mmviz.trees.embed import ClosureSampler, poincare_dist


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "home")


def create(store: RunStore, model: str = "poincare-embed", **overrides) -> str:
    config = resolve_config({
        "dataset": "tree", "dataset_params": {"branching": 2, "depth": 3}, "model": model,
        "model_params": {"dim": 2, "negatives": 10, "burn_in": 20}, "steps": 120, "batch_size": 64,
        "lr": 0.05, "warmup_steps": 0, "eval_every": 60, "log_every": 10, "checkpoint_every": 1000,
        "device": "cpu", "threads": 1, **overrides,
    })
    return store.create_run(config, dataset=config["dataset"], model=config["model"], total_steps=config["steps"])


def losses(store: RunStore, run_id: str) -> dict[int, float]:
    return {int(r["step"]): r["value"] for r in store.metrics(run_id, names=["train/loss"]).to_dict("records")}


def test_models_are_registered_for_the_hierarchies_only():
    names = {m.name for m in models_for("wordnet-mammal")}
    assert {"poincare-embed", "euclid-embed", "lorentz-embed"} <= names
    assert "poincare-embed" not in {m.name for m in models_for("gaussian")}
    assert get_model_info("euclid-embed").geometry == "euclidean"
    with pytest.raises(MmvizError, match="cannot train"):
        resolve_config({"dataset": "gaussian", "model": "poincare-embed"})


def test_poincare_distance_matches_geoopt():
    import geoopt

    x = torch.rand(20, 2, dtype=torch.float64) * 0.6
    y = torch.rand(20, 2, dtype=torch.float64) * 0.6
    assert torch.allclose(poincare_dist(x, y), geoopt.PoincareBall().dist(x, y), atol=1e-10)


def test_sampler_masks_related_negatives_and_is_a_function_of_step():
    tree = load("tree", branching=2, depth=3)
    sampler = ClosureSampler(tree, negatives=30)
    u, v, neg, mask = sampler.batch(64, seed=1, step=7)
    again = sampler.batch(64, seed=1, step=7)
    assert all(torch.equal(a, b) for a, b in zip((u, v, neg, mask), again))
    related = {tuple(p) for p in tree.closure.tolist()}
    for i in range(64):
        assert (int(u[i]), int(v[i])) in related
        for n, keep in zip(neg[i].tolist(), mask[i].tolist()):
            is_related = n == int(u[i]) or (int(u[i]), n) in related or (n, int(u[i])) in related
            assert keep == (not is_related)


@pytest.mark.parametrize("model", ["poincare-embed", "euclid-embed", "lorentz-embed"])
def test_training_through_the_engine_logs_metrics_and_exports(store, model):
    run_id = create(store, model=model)
    assert train_run(store, run_id) == "finished"
    latest = {k: v["value"] for k, v in store.latest_metrics(run_id).items()}
    for name in ("train/loss", "train/lr", "eval/map_closure", "eval/rank_closure", "eval/map_edges",
                 "eval/rank_edges", "eval/distortion", "eval/spearman_depth", "steps_per_s"):
        assert name in latest, name
    first = min(losses(store, run_id).items())[1]
    assert latest["train/loss"] < first
    assert latest["eval/map_closure"] > 0.4  # random points: ~0.1 on this 15-node tree
    es = run_embeddings(store, run_id)
    assert es.geometry == {"poincare-embed": "poincare", "euclid-embed": "euclidean",
                           "lorentz-embed": "lorentz"}[model]
    assert len(es) == 15 and list(es.metadata["name"][:2]) == ["root", "0"]
    assert es.points.shape[1] == (3 if model == "lorentz-embed" else 2)


def test_stop_and_resume_continue_exactly(store):
    straight = create(store, steps=40, eval_every=1000)
    assert train_run(store, straight) == "finished"

    def stop_at_20(step, total, values):
        if step == 20:
            store.update_run(interrupted, stop_requested=True)

    interrupted = create(store, steps=40, eval_every=1000)
    assert train_run(store, interrupted, progress=stop_at_20) == "stopped"
    assert (store.run_dir(interrupted) / EMBEDDINGS_FILE).exists()  # a stopped run has points to show
    config = store.get_run(interrupted)["config"]
    store.update_run(interrupted, config={**config, "resume": True}, stop_requested=False)
    assert train_run(store, interrupted) == "finished"
    assert losses(store, interrupted) == losses(store, straight)
    a, _ = load_checkpoint(store.run_dir(straight))
    b, _ = load_checkpoint(store.run_dir(interrupted))
    assert torch.equal(a["weight"], b["weight"])


def test_poincare_beats_euclid_on_a_deep_tree(store):
    params = {"dataset_params": {"branching": 3, "depth": 4}, "steps": 800, "batch_size": 128,
              "eval_every": 800, "lr": 0.1, "model_params": {"dim": 2, "negatives": 20, "burn_in": 50}}
    scores = {}
    for model in ("poincare-embed", "euclid-embed"):
        run_id = create(store, model=model, **params)
        assert train_run(store, run_id) == "finished"
        scores[model] = store.latest_metrics(run_id)["eval/map_closure"]["value"]
    assert scores["poincare-embed"] > scores["euclid-embed"] + 0.05, scores


@pytest.mark.slow
def test_cli_trains_wordnet_mammals(tmp_path: Path):
    out = subprocess.run(
        [sys.executable, "-m", "mmviz", "train", "--dataset", "wordnet-tool", "--model", "poincare-embed",
         "--set", "dim=2", "--steps", "60", "--set", "eval_every=30", "--set", "threads=1", "--home",
         str(tmp_path / "home"), "--json"],
        capture_output=True, text=True, timeout=240,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "finished" and result["step"] == 60
    assert 0 < result["metrics"]["eval/map_closure"] <= 1
    es = load_embeddings(tmp_path / "home" / result["run_id"] / EMBEDDINGS_FILE)
    assert es.geometry == "poincare" and np.all(np.linalg.norm(es.points, axis=1) < 1)
