"""CoMM's R/U/S study on this machine: train cross, cross-self and comm on biased and on
unbiased trifeature-pairs, each for the same wall-clock budget, and print one JSON object.

    python bench/comm_targets.py                 # 15 minutes per run (6 runs: 90 minutes)
    python bench/comm_targets.py --minutes 2 --threads 1
    python bench/comm_targets.py --ablation      # + CoMM with the two-view term only (biased)
    python bench/comm_targets.py --jobs 2 --threads 1   # two runs at a time, one core each

Protocol (CoMM's code): R (shape) and U (texture of image 1) come from the model trained on
unbiased pairs, S (mapping holds) from the model trained on biased pairs; both models' full
R/U/S are printed too. Probes: :mod:`mmviz.metrics.probes` on the unbiased test split.

First the step cost of each method (ms per step at ``--batch``, measured back to back in
alternating rounds, so the CoMM/Cross ratio is fair even if the load changes). A run's step
count is 0.85 × the steps/s measured on 32 calibration steps × what the budget leaves after
``--evals`` + 1 evaluations (so the learning-rate schedule completes and the whole run, probes
included, fits in the budget).
The runs go into the run store (``--home``, default ``$MMVIZ_HOME`` or ./runs), where the
Interactions page finds them. With ``--jobs N`` N runs train at once in worker processes
(``--threads`` each): on a 2-core machine ``--jobs 2 --threads 1`` fits the seven 15-minute
runs in four rounds. Prints the load average before and after: timings are only comparable on
a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mmviz.runs.comm_presets import METHODS, study_run  # noqa: E402
from mmviz.runs.loop import train_run  # noqa: E402
from mmviz.runs.store import RunStore  # noqa: E402
from mmviz.runs.train_config import resolve_config  # noqa: E402

CALIBRATION_MARGIN = 0.85
"""Steps planned = this × calibrated rate × (budget − evaluations): a few calibration steps have
over-estimated the rate of a whole run by up to 15% here (two runs sharing the cores: CoMM
calibrated at 2.33 steps/s trained at 2.03), which overran 15 minutes."""
EVAL_SECONDS = 10.0
"""Wall time reserved per evaluation (retrieval on ``--eval-size`` pairs, the probes' features
of 8,192 test pairs and five-fold probes, one thread): evaluations count in the budget."""
TARGETS = "comm R ≥ 95, U ≥ 75, S ≥ 65; cross U within 10 of chance (10), S within 5 of 50; cross-self U high, S ~50"


def step_rate(model_name: str, batch: int, threads: int, steps: int = 6, **model_params) -> float:
    """Optimiser steps per second of ``model_name`` at ``batch`` pairs (after 2 warm-up steps),
    drawing each step's views as the training loop does (fresh renders, when the model asks)."""
    from mmviz.data.registry import load, view_renderer
    from mmviz.models.registry import build_model, model_inputs

    torch.set_num_threads(threads)
    data = load("trifeature-pairs", "train", n_train=max(batch, 256), n_test=64)
    tensors = data.torch_dataset().tensors
    torch.manual_seed(0)
    model = build_model(model_name, model_inputs(data), **model_params)
    views, render = model.rendered_views, view_renderer("trifeature-pairs")
    rng = np.random.default_rng(0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for i in range(steps + 2):
        if i == 2:
            start = time.perf_counter()
        idx = rng.permutation(len(data))[:batch]
        if views:
            fresh = render(data, idx, views, rng)
            a, b = torch.from_numpy(fresh["image1"]), torch.from_numpy(fresh["image2"])
        else:
            a, b = tensors["image1"][idx], tensors["image2"][idx]
        loss = model(a, b)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps / (time.perf_counter() - start)


def step_costs(models: list[str], batch: int, threads: int, rounds: int = 3) -> dict[str, float]:
    """Milliseconds per optimiser step of each model, measured back to back in alternating
    rounds (so a change of load hits every model alike); the median round per model."""
    times: dict[str, list[float]] = {m: [] for m in models}
    for _ in range(rounds):
        for m in models:
            times[m].append(1000.0 / step_rate(m, batch, threads, steps=4))
    return {m: round(float(np.median(t)), 1) for m, t in times.items()}


def final_probes(store: RunStore, run_id: str) -> dict[str, float]:
    """The last logged probe accuracies of a run, in % (R, U1, U2, S)."""
    latest = store.latest_metrics(run_id)
    return {k: round(100 * float(latest[f"eval/probe_{k}"]["value"]), 1) for k in ("R", "U1", "U2", "S")
            if f"eval/probe_{k}" in latest}


def mean_rate(store: RunStore, run_id: str) -> float:
    frame = store.metrics(run_id, names=["steps_per_s"])
    return float(np.median(frame.value)) if len(frame) else float("nan")


def train_one(model: str, biased: bool, extra: dict, minutes: float, batch: int, threads: int, evals: int,
              eval_size: int, device: str, home: str, margin: float = CALIBRATION_MARGIN) -> dict:
    """Calibrate ``model``'s step rate, train it for ``minutes`` on biased or unbiased pairs into
    the store at ``home``; returns the run's summary (final probes in %, steps, rates, wall time)."""
    store = RunStore(home)
    rate = step_rate(model, batch, threads, steps=32, **extra)
    train_seconds = max(60.0, minutes * 60 - (evals + 1) * EVAL_SECONDS)
    steps = max(20, int(margin * rate * train_seconds))
    cfg = study_run(model, biased, steps, minutes=minutes, batch_size=batch, evals=evals, eval_size=eval_size,
                    threads=threads, **extra)
    label = cfg["name"].split(" · ")[0]  # "CoMM", "CoMM (two-view term only)", …
    cfg["device"] = device
    config = resolve_config(cfg)
    run_id = store.create_run(config, dataset=config["dataset"], model=config["model"],
                              total_steps=config["steps"])
    start = time.perf_counter()
    status = train_run(store, run_id)
    wall = time.perf_counter() - start
    return {"run_id": run_id, "method": model, "label": label, "biased": biased, "status": status,
            "steps": steps, "calibrated_steps_per_s": round(rate, 3),
            "steps_per_s": round(mean_rate(store, run_id), 3), "wall_s": round(wall, 1),
            "probes": final_probes(store, run_id), "loadavg_after": os.getloadavg()}


def _train_job(job: tuple) -> dict:
    return train_one(*job)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=15.0, help="training budget per run")
    ap.add_argument("--methods", default="comm,cross,cross-self")
    ap.add_argument("--protocols", default="biased,unbiased")
    ap.add_argument("--ablation", action="store_true", help="also CoMM with the two-view term only (biased)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads per run (0 = all cores)")
    ap.add_argument("--jobs", type=int, default=1, help="runs trained at once (worker processes)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--evals", type=int, default=8, help="evaluations (with probes) per run")
    ap.add_argument("--eval-size", type=int, default=2048)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--margin", type=float, default=CALIBRATION_MARGIN,
                    help="fraction of the calibrated steps/s to plan on (lower: safer inside the budget)")
    ap.add_argument("--home", default=None, help="run store folder (default $MMVIZ_HOME or ./runs)")
    args = ap.parse_args(argv)

    if args.home:
        os.environ["MMVIZ_HOME"] = args.home
    store = RunStore()
    threads = args.threads or torch.get_num_threads()
    load_before = os.getloadavg()
    costs = step_costs(args.methods.split(","), args.batch, threads)
    print(json.dumps({"ms_per_step": costs}), file=sys.stderr, flush=True)
    # method by method, so with --jobs 2 each method's biased and unbiased runs train side by side
    jobs = [(m, p == "biased", {}) for m in args.methods.split(",") for p in args.protocols.split(",")]
    if args.ablation:
        jobs.append(("comm", True, {"modality_terms": False}))
    work = [(model, biased, extra, args.minutes, args.batch, threads, args.evals, args.eval_size, args.device,
             str(store.home), args.margin) for model, biased, extra in jobs]
    runs = []
    if args.jobs <= 1:
        for job in work:
            runs.append(train_one(*job))
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    else:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
            for run in pool.map(_train_job, work):
                runs.append(run)
                print(json.dumps(run), file=sys.stderr, flush=True)

    summary = {}
    for model in args.methods.split(","):
        by = {r["biased"]: r["probes"] for r in runs if r["method"] == model and r["label"] == METHODS[model]}
        if True in by or False in by:
            summary[METHODS[model]] = {
                "R": by.get(False, {}).get("R"), "U": by.get(False, {}).get("U1"),
                "S": by.get(True, {}).get("S"),
            }
    ratio = costs["comm"] / costs["cross"] if {"cross", "comm"} <= set(costs) else None
    out = {
        "bench": "comm_targets", "minutes_per_run": args.minutes, "calibration_margin": args.margin,
        "threads": threads, "batch": args.batch,
        "summary_RUS_percent": summary, "paper_RUS_percent": {
            "Cross": [100, 11.6, 50.0], "Cross+Self": [99.7, 86.9, 50.0], "FactorCL": [99.8, 62.5, 46.5],
            "CoMM": [99.9, 87.8, 71.9]},
        "targets": TARGETS, "ms_per_step": costs,
        "comm_step_cost_vs_cross": round(ratio, 2) if ratio else None,
        "jobs": args.jobs, "runs": runs, "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        "torch_threads": threads, "cpu_count": os.cpu_count(),
    }
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
