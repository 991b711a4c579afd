"""The data-assimilation lab's targets (issue #25), measured on this machine.

1. Train ``ocean-clip`` and ``ocean-prob`` on the default ``ocean-drifters`` set (10,000 flows,
   16 drifters) with the engine (``python -m mmviz train``), timing each run's CPU (user + sys of
   the training process) and keeping its held-out curve (a plateau: the last two evaluations).
2. Evaluate each at three observation densities (4, 16 and 64 drifters; the same flows, the
   model trained at 16): retrieval R@1 among the 1,000 held-out flows, reconstruction RMSE relative
   to climatology, regime accuracy; beside the baselines (misfit retrieval, OI, the exact
   conditional, climatology).
3. The few-shot sweep: the same models trained on 100, 1,000 and 10,000 pairs.

Writes ``assets/ocean/bench.json`` (the Data assimilation page shows it) and prints it.
Usage: ``python bench/ocean_targets.py [--steps 1500] [--out assets/ocean/bench.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MODELS = ("ocean-clip", "ocean-prob")
DENSITIES = (4, 16, 64)
SIZES = (100, 1000, 10_000)


def train(home: Path, model: str, steps: int, n: int) -> dict:
    """One engine run; returns its id, wall and CPU seconds and held-out curve."""
    batch = min(256, n // 2)
    cmd = [sys.executable, "-m", "mmviz", "train", "--dataset", "ocean-drifters", "--model", model,
           "--steps", str(steps), "--batch-size", str(batch), "--set", f"data.n={n}", "--home", str(home), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    from mmviz.runs.store import RunStore

    metrics = RunStore(home).metrics(result["run_id"], names=["eval/r1_tracks_to_field", "eval/gen_rel_rmse"])
    curve = {name: group.sort_values("step")[["step", "value"]].values.tolist()
             for name, group in metrics.groupby("name")}
    return {"run_id": result["run_id"], "status": result["status"], "wall_s": round(wall, 1),
            "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
            "n": n, "batch_size": batch, "steps": steps, "curve": curve}


def evaluate(home: Path, run_id: str, drifters: int, n: int = SIZES[-1]) -> dict:
    from mmviz.data import load
    from mmviz.ocean.study import evaluate_lab
    from mmviz.runs.loop import load_run_model
    from mmviz.runs.store import RunStore

    model, _ = load_run_model(RunStore(home), run_id)
    train_split = load("ocean-drifters", "train", drifters=drifters, n=n)  # the pool: what the model saw
    test = load("ocean-drifters", "test", drifters=drifters)
    ev = evaluate_lab(model, train_split, test)
    return {"drifters": drifters, "r1": ev.r1, "rel_rmse": ev.rel_rmse, "regime_acc": ev.regime_acc,
            "ess_median": float(np.median(ev.ess)), "spread_mean": float(ev.spread.mean()),
            "rmse_mean": float(np.sqrt(np.mean(ev.errors["contrastive"] ** 2)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=REPO / "assets" / "ocean" / "bench.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    report: dict = {"cores": os.cpu_count(), "steps": args.steps, "models": {}}
    with tempfile.TemporaryDirectory(prefix="mmviz-ocean-") as tmp:
        home = Path(tmp)
        for model in MODELS:
            runs = {n: train(home, model, args.steps, n) for n in SIZES}
            default = runs[SIZES[-1]]
            report["models"][model] = {
                "default_run": {k: v for k, v in default.items() if k != "run_id"},
                "densities": [evaluate(home, default["run_id"], d) for d in DENSITIES],
                "few_shot": [{"n": n, **evaluate(home, runs[n]["run_id"], 16, n), "cpu_s": runs[n]["cpu_s"]}
                             for n in SIZES],
            }
            print(json.dumps({model: report["models"][model]["densities"]}), flush=True)
    report["load_before"] = [round(x, 2) for x in load_before]
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
