"""Overhead of the training loop: steps/s of the full loop (batching by (seed, step), lr
schedule, NaN checks, clipping, logging to the run store) against a bare
forward/backward/step loop on the same model and batch size.

Prints one JSON object: ``bare_steps_per_s``, ``loop_steps_per_s``, ``ratio`` (target ≥ 0.9),
the setting, and ``loadavg``. Each rate is the best of ``--repeats`` alternating runs (the
least disturbed by other processes); the first ``--warmup`` steps of each run are not timed.
Evaluation is left out (``eval_every`` > steps): it is a separate, optional cost.

Usage: ``python bench/train_overhead.py [--model clip] [--steps 60] [--repeats 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402


def bare_rate(config: dict, steps: int, warmup: int) -> float:
    """steps/s of forward → backward → AdamW step on one fixed batch."""
    from mmviz.data.registry import load
    from mmviz.models.registry import build_model, model_inputs

    data = load(config["dataset"], "train", **config["dataset_params"])
    torch.manual_seed(0)
    model = build_model(config["model"], model_inputs(data), **config["model_params"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"])
    batch = data.torch_dataset().batch(range(config["batch_size"]))
    a, b = (batch[name] for name in data.pair)
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        loss = model(a, b)["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return steps / (time.perf_counter() - start)


def loop_rate(config: dict, steps: int, warmup: int) -> float:
    """steps/s of :func:`mmviz.runs.loop.train_run` between its ``warmup``-th and last step."""
    from mmviz.runs.loop import train_run
    from mmviz.runs.store import RunStore

    stamps: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as home:
        store = RunStore(home)
        run_config = {**config, "steps": warmup + steps, "eval_every": 10**7, "checkpoint_every": 10**7}
        run_id = store.create_run(run_config, dataset=config["dataset"], model=config["model"],
                                  total_steps=warmup + steps)
        status = train_run(store, run_id,
                           progress=lambda step, total, values: stamps.setdefault(step, time.perf_counter()))
        if status != "finished":
            raise SystemExit(f"training failed: {store.get_run(run_id)['error']}")
    return steps / (stamps[warmup + steps] - stamps[warmup])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="clip")
    parser.add_argument("--dataset", default="trifeature-captions")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=60, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (a multiple of log_every)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from mmviz.runs.train_config import resolve_config

    with tempfile.TemporaryDirectory() as cache_home:
        os.environ["MMVIZ_HOME"] = cache_home  # dataset cache of this benchmark only
        data_params = {"n": 2000, "n_test": 100} if args.dataset == "trifeature-captions" else {}
        config = resolve_config({"dataset": args.dataset, "model": args.model, "device": "cpu",
                                 "batch_size": args.batch_size, "dataset_params": data_params,
                                 "log_every": 10, "threads": torch.get_num_threads()})
        bare, loop = [], []
        for _ in range(args.repeats):
            bare.append(bare_rate(config, args.steps, args.warmup))
            loop.append(loop_rate(config, args.steps, args.warmup))
    print(json.dumps({
        "model": args.model, "dataset": args.dataset, "batch_size": args.batch_size,
        "timed_steps": args.steps, "log_every": config["log_every"], "threads": torch.get_num_threads(),
        "bare_steps_per_s": round(max(bare), 3), "loop_steps_per_s": round(max(loop), 3),
        "ratio": round(max(loop) / max(bare), 3),
        "bare_runs": [round(r, 3) for r in bare], "loop_runs": [round(r, 3) for r in loop],
        "loadavg": [round(v, 2) for v in os.getloadavg()],
    }))


if __name__ == "__main__":
    main()
