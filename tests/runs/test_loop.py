"""The training loop on an easy Gaussian dataset: it learns, fails readably on NaN, stops on
SIGTERM with a checkpoint, and resumes exactly."""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from mmviz.errors import MmvizError
from mmviz.runs.checkpoint import checkpoint_info, load_checkpoint
from mmviz.runs.evaluate import export_embeddings, prepare_eval_set
from mmviz.runs.files import EMBEDDINGS_FILE
from mmviz.runs.loop import batch_indices, cpu_threads, load_run_model, lr_at, train_run
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import TrainParams, apply_overrides, resolve_config

# Four shared directions with correlation 0.99: a small MLP retrieves the pair among 200
# held-out ones (chance 0.5%) after ~100 steps.
EASY = {
    "dataset": "gaussian",
    "dataset_params": {"du": 4, "dv": 4, "k": 4, "rho_max": 0.99, "decay": 1.0, "n": 2000, "n_test": 200},
    "model": "clip",
    "model_params": {"dim": 16, "mlp_hidden": 32},
    "steps": 150, "batch_size": 128, "lr": 3e-3, "warmup_steps": 10,
    "eval_every": 1000, "eval_size": 200, "device": "cpu",
    "threads": 1,  # bit-exact comparisons need the same reduction order in every run
}


def create(store: RunStore, **overrides) -> str:
    config = resolve_config({**EASY, **overrides})
    return store.create_run(config, dataset=config["dataset"], model=config["model"],
                            total_steps=config["steps"])


def losses(store: RunStore, run_id: str) -> dict[int, float]:
    frame = store.metrics(run_id, names=["train/loss"])
    return dict(zip(frame.step.tolist(), frame.value.tolist()))


# --- schedule, data order, config -----------------------------------------------------------

@pytest.mark.parametrize(
    ("requested", "others", "load", "expected"),
    [(3, 5, 9.0, 3), (0, 0, 0.2, 2), (0, 1, 0.2, 1), (0, 0, 1.8, 1)],
)
def test_cpu_threads_drop_to_one_on_busy_cores(monkeypatch, requested, others, load, expected):
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert cpu_threads(requested, others) == expected


@pytest.mark.parametrize(
    ("step", "expected"),
    [(0, 0.1), (4, 0.5), (9, 1.0), (10, 1.0), (55, 0.5), (100, 0.0)],
)
def test_lr_warms_up_linearly_then_decays_by_cosine(step, expected):
    params = TrainParams(steps=100, warmup_steps=10, lr=1.0)
    assert lr_at(step, params) == pytest.approx(expected, abs=1e-12)


def test_batch_order_is_a_function_of_seed_and_step():
    n, batch = 10, 3  # 3 batches per epoch, index 9 of each epoch's permutation is skipped
    epoch0 = np.concatenate([batch_indices(n, batch, 7, s) for s in range(3)])
    assert len(np.unique(epoch0)) == 9
    np.testing.assert_array_equal(batch_indices(n, batch, 7, 4), batch_indices(n, batch, 7, 4))
    assert not np.array_equal(batch_indices(n, batch, 7, 0), batch_indices(n, batch, 8, 0))
    assert not np.array_equal(batch_indices(n, batch, 7, 0), batch_indices(n, batch, 7, 3))  # new epoch


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"batch_size": 1}, "batch_size must be ≥ 2"),
        ({"steps": -5}, "steps must be ≥ 1"),
        ({"lr": 0}, "lr must be ≥ 1e-08"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"epochs": 3}, "unknown config key 'epochs'"),
        ({"model_params": {"depth": 3}}, "model 'clip' has no parameter 'depth'"),
        ({"dataset_params": {"size": 3}}, "dataset 'gaussian' has no parameter 'size'"),
        ({"dataset": "tree"}, "cannot train on dataset"),
    ],
)
def test_resolve_config_rejects_bad_values(change, message):
    with pytest.raises(MmvizError, match=message):
        resolve_config({**EASY, **change})


@pytest.mark.parametrize(
    ("assignment", "where", "key"),
    [("dim=8", "model_params", "dim"), ("model.dim=8", "model_params", "dim"),
     ("data.n=300", "dataset_params", "n"), ("warmup_steps=3", None, "warmup_steps"),
     ("train.lr=0.5", None, "lr")],
)
def test_set_overrides_route_to_model_data_or_training(assignment, where, key):
    out = apply_overrides(EASY, [assignment])
    target = out[where] if where else out
    assert target[key] == assignment.split("=")[1]
    resolve_config(out)


@pytest.mark.parametrize("assignment", ["colour=red", "data.dim=3", "model.n=4", "train.dim=2", "dim"])
def test_unknown_set_key_names_it(assignment):
    with pytest.raises(MmvizError, match="--set"):
        apply_overrides(EASY, [assignment])


# --- training -------------------------------------------------------------------------------

def test_loop_learns_easy_gaussian(store):
    run_id = create(store)
    assert train_run(store, run_id) == "finished"
    run = store.get_run(run_id)
    assert (run["status"], run["step"], run["error"], run["pid"]) == ("finished", 150, None, os.getpid())
    latest = {k: v["value"] for k, v in store.latest_metrics(run_id).items()}
    assert latest["eval/r1_u_to_v"] > 0.5 and latest["eval/r1_v_to_u"] > 0.5  # chance: 0.005
    assert latest["eval/loss"] < 1.5  # log(128) = 4.85 at chance
    for name in ("train/loss", "train/lr", "temperature", "curvature", "steps_per_s", "eval/alignment",
                 "eval/uniformity_u", "eval/r5_u_to_v"):
        assert name in latest
    assert latest["curvature"] == 1.0
    assert checkpoint_info(store.run_dir(run_id))["step"] == 150
    assert (store.run_dir(run_id) / EMBEDDINGS_FILE).exists()


def test_nan_loss_fails_with_a_readable_message_and_keeps_the_checkpoint(store):
    run_id = create(store, lr=1e6, checkpoint_every=1, steps=50)
    assert train_run(store, run_id) == "failed"
    run = store.get_run(run_id)
    match = re.fullmatch(
        r"(loss|the gradient|a weight) became NaN/Inf at step (\d+) \(lr=[0-9.e+]+\); "
        r"last good checkpoint kept at step (\d+)", run["error"])
    assert match, run["error"]
    bad_step, kept = int(match.group(2)), int(match.group(3))
    assert kept == bad_step - 1
    state, meta = load_checkpoint(store.run_dir(run_id))
    assert meta["step"] == kept
    assert all(torch.isfinite(t).all() for t in state.values())


def test_exception_marks_the_run_failed_with_one_line(store):
    # resolve_config refuses this batch before a run exists; a run stored with it anyway (an older
    # mmviz, a hand-edited config) fails at its first step with the same one line
    config = {**resolve_config(EASY), "batch_size": 4096}
    run_id = store.create_run(config, dataset=config["dataset"], model=config["model"], total_steps=config["steps"])
    assert train_run(store, run_id) == "failed"
    assert store.get_run(run_id)["error"] == ("batch_size 4,096 is larger than the training set: gaussian has 2,000 "
                                              "training pairs with these parameters; lower batch_size or add data")


def test_an_error_inside_the_trainer_marks_the_run_failed_with_one_line(store, monkeypatch):
    from mmviz.runs import loop

    def broken(self):
        raise loop.TrainingFailed("the data could not be read")

    monkeypatch.setattr(loop.Trainer, "_load_data", broken)
    run_id = create(store)
    assert train_run(store, run_id) == "failed"
    assert store.get_run(run_id)["error"] == "the data could not be read"


def test_sigterm_finishes_the_step_and_checkpoints(store):
    def progress(step, total, values):
        if step == 20:
            os.kill(os.getpid(), signal.SIGTERM)

    run_id = create(store, steps=1000, log_every=10)
    previous = signal.getsignal(signal.SIGTERM)
    assert train_run(store, run_id, progress=progress) == "stopped"
    assert signal.getsignal(signal.SIGTERM) is previous  # handler restored
    run = store.get_run(run_id)
    assert (run["status"], run["step"], run["error"]) == ("stopped", 20, None)
    assert checkpoint_info(store.run_dir(run_id))["step"] == 20


def test_resume_continues_exactly_like_an_uninterrupted_run(store):
    settings = {"steps": 20, "log_every": 1, "checkpoint_every": 100, "eval_every": 1000}
    straight = create(store, **settings)
    assert train_run(store, straight) == "finished"

    def stop_at_10(step, total, values):
        if step == 10:
            store.update_run(interrupted, stop_requested=True)

    interrupted = create(store, **settings)
    assert train_run(store, interrupted, progress=stop_at_10) == "stopped"
    assert max(losses(store, interrupted)) == 10
    config = store.get_run(interrupted)["config"]
    store.update_run(interrupted, config={**config, "resume": True}, stop_requested=False)
    assert train_run(store, interrupted) == "finished"

    assert losses(store, interrupted) == losses(store, straight)  # steps 1..20, bit for bit
    assert sorted(losses(store, straight)) == list(range(1, 21))
    state_a, _ = load_checkpoint(store.run_dir(straight))
    state_b, meta_b = load_checkpoint(store.run_dir(interrupted))
    assert meta_b["step"] == 20
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)


def test_checkpoint_reload_gives_the_same_embeddings(store):
    run_id = create(store, steps=30, model="meru", model_params={"dim": 8, "mlp_hidden": 16})
    assert train_run(store, run_id) == "finished"
    saved = np.load(store.run_dir(run_id) / EMBEDDINGS_FILE)
    model, config = load_run_model(store, run_id)
    from mmviz.data.registry import load

    ev = prepare_eval_set(load("gaussian", "test", **config["dataset_params"]), config["eval_size"])
    again = export_embeddings(model, ev, torch.device("cpu"))
    np.testing.assert_array_equal(again.points, saved["points"])
    assert str(saved["geometry"]) == "lorentz" and again.points.shape == (400, 9)
    assert float(saved["curvature"]) == pytest.approx(model.curvature())


@pytest.mark.slow
def test_cli_trainer_process_stops_on_sigterm(tmp_path: Path):
    home = tmp_path / "home"
    args = [sys.executable, "-m", "mmviz", "train", "--dataset", "gaussian", "--model", "clip",
            "--steps", "100000", "--device", "cpu", "--home", str(home), "--set", "data.n=2000",
            "--set", "train.log_every=5"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        store = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (home / "mmviz.db").exists():
                store = store or RunStore(home)
                runs = store.list_runs()
                if runs and runs[0]["step"] >= 10:
                    break
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    run = RunStore(home).list_runs()[0]
    assert run["status"] == "stopped" and run["error"] is None
    assert checkpoint_info(home / run["id"])["step"] == run["step"] >= 10
    assert math.isfinite(RunStore(home).latest_metrics(run["id"])["train/loss"]["value"])
