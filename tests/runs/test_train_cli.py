"""``mmviz train`` and ``mmviz embed`` from the command line: bad arguments exit 2 with one
line and create no run; a good one trains and reports JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mmviz.cli import main
from mmviz.runs.store import RunStore

EASY = ["--dataset", "gaussian", "--model", "clip", "--device", "cpu", "--batch-size", "64",
        "--set", "data.n=500", "--set", "data.n_test=100", "--set", "dim=8", "--set", "mlp_hidden=16"]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse usage errors
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "nope", "--model", "clip"], "unknown dataset 'nope'"),
        (["--dataset", "gaussian", "--model", "siglip"], "unknown model 'siglip'"),
        (["--dataset", "gaussian", "--model", "clip", "--steps", "-3"], "steps must be ≥ 1"),
        (["--dataset", "gaussian", "--model", "clip", "--batch-size", "1"], "batch_size must be ≥ 2"),
        (["--dataset", "gaussian", "--model", "clip", "--set", "colour=red"], "unknown --set key 'colour'"),
        (["--dataset", "gaussian", "--model", "clip", "--set", "data.n=-1"], "n must be ≥ 1"),
        (["--dataset", "gaussian", "--model", "clip", "--set", "dim"], "--set wants KEY=VALUE"),
        (["--dataset", "gaussian", "--model", "clip", "--lr", "0"], "lr must be ≥ 1e-08"),
        (["--dataset", "gaussian", "--model", "clip", "--device", "tpu"], "unknown device 'tpu'"),
        (["--dataset", "gaussian", "--model", "clip", "--steps", "ten"], "invalid int value: 'ten'"),
        (["--model", "clip"], "train needs --dataset and --model"),
        (["--dataset", "gaussian", "--model", "clip", "--steps", "0"], "steps must be ≥ 1, got 0"),
        (["--dataset", "edgelist", "--model", "poincare-embed"], "dataset 'edgelist' needs a path"),
        (["--dataset", "gaussian", "--model", "clip", "--batch-size", "600", "--set", "data.n=500"],
         "batch_size 600 is larger than the training set: gaussian has 500 training pairs"),
        (["--dataset", "trifeature-pairs", "--model", "comm", "--batch-size", "64", "--set", "data.n_train=32"],
         "batch_size 64 is larger than the training set: trifeature-pairs has 32 training pairs"),
        (["--dataset", "digits", "--model", "tilt", "--batch-size", "2048"],
         "batch_size 2,048 is larger than the training set: digits has 1,437 training pairs"),
        (["--run-id", "20990101-000000-dead"], "no run '20990101-000000-dead'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_no_run(argv, message, tmp_path: Path, capsys):
    home = tmp_path / "home"
    code, out, err = run_cli(["train", *argv, "--home", str(home)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert out == ""
    assert RunStore(home).list_runs() == []


def test_train_json_then_embed(tmp_path: Path, capsys):
    home = tmp_path / "home"
    code, out, err = run_cli(["train", *EASY, "--steps", "30", "--eval-every", "10", "--name", "tiny",
                              "--home", str(home), "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["status"] == "finished" and report["step"] == 30 and report["error"] is None
    assert {"eval/r1_u_to_v", "train/loss", "temperature"} <= set(report["metrics"])
    run = RunStore(home).get_run(report["run_id"])
    assert (run["name"], run["status"], run["config"]["steps"], run["config"]["model_params"]["dim"]) == (
        "tiny", "finished", 30, 8)

    target = tmp_path / "out.npz"
    code, out, err = run_cli(["embed", report["run_id"], "--out", str(target), "--home", str(home), "--json"], capsys)
    assert code == 0, err
    info = json.loads(out)
    assert (info["n"], info["dim"], info["geometry"]) == (200, 8, "sphere")
    saved = np.load(home / report["run_id"] / "embeddings.npz")
    np.testing.assert_array_equal(np.load(target)["points"], saved["points"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["20990101-000000-dead", "--out", "x.npz"], "no run '20990101-000000-dead'"),
     (["20990101-000000-dead", "--out", "x.csv"], "--out must be an .npz file")],
)
def test_embed_bad_arguments(argv, message, tmp_path: Path, capsys):
    code, _, err = run_cli(["embed", *argv, "--home", str(tmp_path)], capsys)
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_run_id_mode_trains_a_stored_run(tmp_path: Path, capsys):
    from mmviz.runs.train_config import resolve_config

    store = RunStore(tmp_path)
    config = resolve_config({"dataset": "gaussian", "model": "meru", "steps": 5, "batch_size": 32,
                             "device": "cpu", "dataset_params": {"n": 200, "n_test": 50},
                             "model_params": {"dim": 4, "mlp_hidden": 8}})
    run_id = store.create_run(config, dataset="gaussian", model="meru", total_steps=5)
    code, out, err = run_cli(["train", "--run-id", run_id, "--home", str(tmp_path)], capsys)
    assert code == 0, err
    assert out.strip() == f"run {run_id}: finished at step 5"
    assert store.get_run(run_id)["status"] == "finished"
