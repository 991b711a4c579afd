"""``mmviz runs list|show|stop|resume|delete``: the training runs in MMVIZ_HOME, headless."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from mmviz.errors import MmvizError
from mmviz.runs import runner
from mmviz.runs.files import checkpoint_info
from mmviz.runs.store import RunNotFoundError, RunStore

HELP = "List, inspect, stop, resume and delete training runs."
LIST_COLUMNS = ("ID", "STATUS", "DATASET", "MODEL", "STEP", "DURATION", "DEVICE")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    common.add_argument("--home", metavar="DIR", help="the runs folder (default: $MMVIZ_HOME or ./runs)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    verbs = {
        "list": (_list, "List runs, newest first (marks runs whose trainer died as interrupted)."),
        "show": (_show, "Show a run: config, status, error, last metrics, checkpoint."),
        "stop": (_stop, "Stop a run: it finishes its step, checkpoints and ends as stopped."),
        "resume": (_resume, "Resume a stopped, interrupted or failed run from its last checkpoint."),
        "delete": (_delete, "Delete a run: its row, metrics and folder."),
    }
    for verb, (action, text) in verbs.items():
        sub = actions.add_parser(verb, parents=[common], help=text, description=text)
        if verb != "list":
            sub.add_argument("run", metavar="RUN", help="run id (see `mmviz runs list`)")
        if verb == "stop":
            sub.add_argument("--force", action="store_true",
                             help="kill at once (SIGKILL) instead of letting it checkpoint")
        sub.set_defaults(_action=action)


def run(args: argparse.Namespace) -> int:
    if args.home is not None and not Path(args.home).expanduser().is_dir():
        raise MmvizError(f"--home {args.home}: no such folder")
    store = RunStore(args.home)
    try:
        return args._action(store, args)
    except RunNotFoundError as err:
        raise MmvizError(f"{err} (see `mmviz runs list`)") from err


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True, default=str))


def duration_s(run: dict[str, Any], now: float | None = None) -> float | None:
    """Seconds from the run's (last) start to its end, or to now while it runs; None if never started."""
    if run["started"] is None:
        return None
    end = run["finished"] if run["finished"] is not None else (now or time.time())
    return max(0.0, end - run["started"])


def format_duration(seconds: float | None) -> str:
    """``42s``, ``3m05s``, ``2h07m``; ``-`` for None."""
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _progress(run: dict[str, Any]) -> str:
    return f"{run['step']}/{run['total_steps'] if run['total_steps'] is not None else '?'}"


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def _list(store: RunStore, args: argparse.Namespace) -> int:
    runner.refresh(store)
    runs = store.list_runs()
    if args.json:
        _print_json([{**run, "duration_s": duration_s(run)} for run in runs])
        return 0
    if not runs:
        print(f"no runs in {store.home} (start one with `mmviz train` or in the app)")
        return 0
    rows = [LIST_COLUMNS] + [
        (run["id"], run["status"], run["dataset"], run["model"], _progress(run),
         format_duration(duration_s(run)), run["device"] or "-")
        for run in runs
    ]
    print(_table(rows))
    return 0


def _when(stamp: float | None) -> str:
    return "-" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _show(store: RunStore, args: argparse.Namespace) -> int:
    runner.refresh(store)
    run = store.get_run(args.run)
    metrics = store.latest_metrics(args.run)
    folder = store.home / run["id"]
    checkpoint = checkpoint_info(folder)
    if args.json:
        _print_json({"run": {**run, "duration_s": duration_s(run)}, "metrics": metrics,
                     "checkpoint": checkpoint, "folder": str(folder)})
        return 0
    status = run["status"]
    if status == "running" and run["pid"]:
        status += f" (pid {run['pid']})"
    fields = [
        ("run", run["id"] + (f"  ({run['name']})" if run["name"] else "")),
        ("status", status),
        ("error", run["error"] or "-"),
        ("dataset", run["dataset"]),
        ("model", run["model"]),
        ("device", run["device"] or "-"),
        ("step", _progress(run)),
        ("created", _when(run["created"])),
        ("started", _when(run["started"])),
        ("finished", _when(run["finished"])),
        ("duration", format_duration(duration_s(run))),
        ("checkpoint", "-" if checkpoint is None else f"step {checkpoint['step']} ({_when(checkpoint['saved'])})"),
        ("folder", str(folder)),
    ]
    print(_table(fields))
    print("config")
    for line in json.dumps(run["config"], indent=2, sort_keys=True).splitlines():
        print(f"  {line}")
    print("last metrics" if metrics else "last metrics  none yet")
    if metrics:
        print(_table([("  " + name, f"{m['value']:.6g}", f"step {m['step']}") for name, m in metrics.items()]))
    return 0


def _stop(store: RunStore, args: argparse.Namespace) -> int:
    status = runner.stop(args.run, store=store, force=args.force)
    if args.json:
        _print_json({"run_id": args.run, "status": status})
    elif status == "stopping":
        print(f"{args.run}: stopping (it checkpoints and ends as stopped after its current step)")
    else:
        print(f"{args.run}: {status}")
    return 0


def _resume(store: RunStore, args: argparse.Namespace) -> int:
    status = runner.resume(args.run, store=store)
    if args.json:
        _print_json({"run_id": args.run, "status": status})
    else:
        print(f"{args.run}: {status}" + (" (waits for a free slot)" if status == "queued" else ""))
    return 0


def _delete(store: RunStore, args: argparse.Namespace) -> int:
    runner.delete(args.run, store=store)
    if args.json:
        _print_json({"run_id": args.run, "deleted": True})
    else:
        print(f"{args.run}: deleted")
    return 0
