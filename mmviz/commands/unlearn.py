"""``mmviz unlearn``: remove a concept from a trained image–caption run, as a child run.

    python -m mmviz unlearn ref-clip --concept color:red --method graddiff
    python -m mmviz unlearn ref-meru --concept color:red --method npo --to-the-end --json

The child starts from the run's weights and trains 150 steps (``--steps``) of the method's
protocol (``mmviz.runs.unlearn_params.UNLEARN_PROTOCOL``); the parent is never written. Prints
the forget and retain accuracy before and after. Exit status: 0 finished, 1 failed, 2 bad input.
"""

from __future__ import annotations

import argparse

HELP = "unlearn a concept (a shape, colour or texture) from a trained image–caption run, as a child run"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="the finished run to forget from (e.g. ref-clip)")
    parser.add_argument("--concept", default="color:red", help="attribute:value, e.g. color:red, shape:star")
    parser.add_argument("--method", default="graddiff", help="graddiff, npo or relabel")
    parser.add_argument("--steps", type=int, default=None, help="steps (default 150)")
    parser.add_argument("--to-the-end", action="store_true",
                        help="keep the forget term for every step (default: stop it once forget accuracy is at chance)")
    parser.add_argument("--home", help="the runs folder (default: $MMVIZ_HOME or ./runs)")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")


def run(args: argparse.Namespace) -> int:
    from mmviz.commands.train import _train
    from mmviz.errors import MmvizError
    from mmviz.runs.store import RunStore
    from mmviz.runs.train_config import resolve_config
    from mmviz.runs.unlearn import unlearn_config
    from mmviz.runs.unlearn_params import METHODS

    if args.method not in METHODS:
        raise MmvizError(f"unknown method {args.method!r}; choose one of {', '.join(METHODS)}")
    store = RunStore(args.home)
    extra = {"steps": args.steps} if args.steps else {}
    config = resolve_config(unlearn_config(store, args.run, concept=args.concept, method=args.method,
                                           until_chance=not args.to_the_end, **extra))
    run_id = store.create_run(config, dataset=config["dataset"], model=config["model"],
                              total_steps=config["steps"], status="running")
    code = _train(store, run_id, argparse.Namespace(json=args.json))  # its line, or its JSON object
    history = store.metrics(run_id)
    curve = {name: history[history.name == f"eval/{name}"].sort_values("step").value.tolist()
             for name in ("forget_acc", "retain_acc")}
    if not args.json and all(curve.values()):
        print(f"forget accuracy {curve['forget_acc'][0]:.1%} → {curve['forget_acc'][-1]:.1%}, "
              f"retain {curve['retain_acc'][0]:.1%} → {curve['retain_acc'][-1]:.1%} (held-out)")
    return code
