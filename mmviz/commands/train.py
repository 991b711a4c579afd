"""``mmviz train``: train a contrastive model in the foreground, or a stored run (``--run-id``).

    python -m mmviz train --dataset trifeature-captions --model meru --steps 2000 \\
        --set dim=32 --set data.n=5000 --json
    python -m mmviz train --run-id 20261123-121500-ab12 --home runs   # what the runner starts
    python -m mmviz train --from ref-clip --set data.negation=0.3 --steps 400 --lr 1e-3   # a child run

``--set KEY=VALUE`` (repeatable): ``data.KEY`` a dataset parameter, ``model.KEY`` (or a bare
KEY the model has) a model parameter, ``train.KEY`` (or a bare KEY) a training setting.
Everything is validated before a run is created; a bad argument exits 2 with one line.
Exit status: 0 finished or stopped, 1 failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "train a contrastive model (CLIP, MERU, CoMM, …) on a paired dataset and log it as a run"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", help="a paired dataset, e.g. trifeature-captions, gaussian, digits")
    parser.add_argument("--model", help="a model that trains on the dataset, e.g. clip, meru, meru-poincare; "
                        "comm, cross, cross-self (trifeature-pairs); an unknown name lists them all")
    parser.add_argument("--steps", type=int, help="optimiser steps")
    parser.add_argument("--batch-size", type=int, help="pairs per step (global batch)")
    parser.add_argument("--lr", type=float, help="peak learning rate")
    parser.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", type=int, help="seed of the weights and the batch order")
    parser.add_argument("--eval-every", type=int, help="evaluate every this many steps")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="model param (dim=32), dataset param (data.n=2000) or training setting "
                             "(train.warmup_steps=50); repeatable")
    parser.add_argument("--name", help="a name for the run")
    parser.add_argument("--run-id", help="train this stored run (what the runner starts)")
    parser.add_argument("--from", dest="parent", metavar="RUN",
                        help="a child of this finished run: its config and weights, with the changes given here")
    parser.add_argument("--home", help="the runs folder (default: $MMVIZ_HOME or ./runs)")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")


def build_config(args: argparse.Namespace) -> dict[str, Any]:
    """The validated run config from the command line (MmvizError on any bad value)."""
    config: dict[str, Any]
    from mmviz.errors import MmvizError
    from mmviz.runs.train_config import apply_overrides, resolve_config

    if getattr(args, "parent", None):
        if args.dataset or args.model:
            raise MmvizError("--from trains a child with its parent's dataset and model; drop --dataset/--model")
        from mmviz.runs.lineage import child_config
        from mmviz.runs.store import RunStore

        config = child_config(RunStore(args.home), args.parent, name=args.name or f"{args.parent} (fine-tuned)")
        args.dataset, args.model = config["dataset"], config["model"]
    elif not args.dataset or not args.model:
        raise MmvizError("train needs --dataset and --model (or --run-id, or --from)")
    else:
        config = {"dataset": args.dataset, "model": args.model}
    flags = {"steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "device": args.device,
             "seed": args.seed, "eval_every": args.eval_every, "name": args.name}
    config.update({k: v for k, v in flags.items() if v is not None})
    from mmviz.data.registry import get_info
    from mmviz.models.registry import get_model_info

    get_info(args.dataset)
    get_model_info(args.model)
    return resolve_config(apply_overrides(config, args.overrides))


def run(args: argparse.Namespace) -> int:
    from mmviz.errors import MmvizError
    from mmviz.runs.store import RunStore

    if args.run_id:
        if args.dataset or args.model:
            raise MmvizError("--run-id trains a stored run; do not give --dataset/--model with it")
        store = RunStore(args.home)
        store.get_run(args.run_id)  # "no run 'x'" before anything else
        return _train(store, args.run_id, args)
    config = build_config(args)  # every check before the store is touched
    store = RunStore(args.home)
    from mmviz.runs import distributed

    info = distributed.env_info()
    run_id = None
    if info.is_main:
        run_id = store.create_run(config, name=config.get("name"), dataset=config["dataset"],
                                  model=config["model"], total_steps=config["steps"], status="running")
    if info.enabled:
        run_id = _share_run_id(run_id, config)
    return _train(store, run_id, args)


def _share_run_id(run_id: str | None, config: dict[str, Any]) -> str:
    """Under torchrun, rank 0 created the run: join the group early and tell the others its id."""
    from mmviz.runs import distributed
    from mmviz.runs.devices import pick_device

    info = distributed.env_info()
    device = pick_device(config["device"])
    if device.type == "cuda":
        import torch

        device = torch.device("cuda", info.local_rank)
    distributed.setup(info, device)
    return str(distributed.broadcast_object(run_id))


def _train(store, run_id: str, args: argparse.Namespace) -> int:
    from mmviz.runs.loop import train_run

    bar = _progress_bar(store, run_id) if sys.stderr.isatty() and not args.json else None
    try:
        status = train_run(store, run_id, progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    from mmviz.runs.distributed import env_info

    if not env_info().is_main:
        return 0 if status in ("finished", "stopped") else 1
    run = store.get_run(run_id)
    if args.json:
        final = {name: _json_number(row["value"]) for name, row in store.latest_metrics(run_id).items()}
        print(json.dumps({"run_id": run_id, "status": status, "step": run["step"], "error": run["error"],
                          "metrics": final}))
    elif status != "failed":
        print(f"run {run_id}: {status} at step {run['step']}")
    return 0 if status in ("finished", "stopped") else 1


class _ProgressBar:
    """tqdm bar over steps, showing the latest loss, R@1 and zero-shot accuracies."""

    SHOWN_PREFIXES = ("train/loss", "eval/r1_", "eval/zeroshot_", "steps_per_s")

    def __init__(self, total: int, run_id: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=run_id, unit="step", dynamic_ncols=True)

    def update(self, step: int, total: int, values: dict[str, float]) -> None:
        self.bar.total = total
        self.bar.update(step - self.bar.n)
        shown = {k.split("/")[-1]: f"{v:.3g}" for k, v in values.items() if k.startswith(self.SHOWN_PREFIXES)}
        self.bar.set_postfix(shown, refresh=False)

    def close(self) -> None:
        self.bar.close()


def _progress_bar(store, run_id: str) -> _ProgressBar:
    run = store.get_run(run_id)
    return _ProgressBar(int(run["total_steps"] or run["config"].get("steps") or 0), run_id)


def _json_number(value: float) -> float | None:
    """JSON has no NaN: a missing value becomes null."""
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None
