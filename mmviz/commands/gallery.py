"""``mmviz gallery build|verify|list|install``: the reference runs shipped in ``assets/runs/``.

    python -m mmviz gallery build [--only NAME] [--device auto]   # train and package them
    python -m mmviz gallery verify [--only NAME] [--json]         # re-evaluate the checkpoints
    python -m mmviz gallery list [--json]                         # what is shipped, sizes, times
    python -m mmviz gallery install [--home DIR]                  # add them to a run store
    python -m mmviz gallery adopt --only NAME --run ID --home DIR  # package a run a bench trained

Exit status: 0 on success; 1 if a build fails or a verification finds a difference.
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "build, verify, list or install the reference runs shipped with mmviz (assets/runs)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("build", "verify", "list", "install", "adopt"), help="what to do")
    parser.add_argument("--only", action="append", metavar="NAME", help="only this entry (repeatable)")
    parser.add_argument("--device", default="auto", help="build/verify device: auto (default), cpu, cuda, mps")
    parser.add_argument("--home", help="install/adopt: the runs folder (default: $MMVIZ_HOME or ./runs)")
    parser.add_argument("--run", help="adopt: the finished run (in --home) that becomes entry --only NAME")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    return {"build": _build, "verify": _verify, "list": _list, "install": _install,
            "adopt": _adopt}[args.action](args)


def _selected(args: argparse.Namespace):
    from mmviz.gallery.entries import get_entry, list_entries

    return [get_entry(name) for name in args.only] if args.only else list_entries()


def _build(args: argparse.Namespace) -> int:
    from mmviz.errors import MmvizError
    from mmviz.gallery.build import build_entry, entry_available

    results, failed = {}, 0
    for entry in _selected(args):
        why_not = entry_available(entry)
        if why_not:
            print(f"skipping {entry.name}: {why_not}", file=sys.stderr)
            results[entry.name] = {"skipped": why_not}
            continue
        bar = _Bar(entry.name, entry.config.get("steps", 0)) if sys.stderr.isatty() and not args.json else None
        try:
            meta = build_entry(entry, device=args.device, progress=bar.update if bar else None)
            results[entry.name] = {"wall_s": meta["wall_s"], "final": meta["final"]}
            if not args.json:
                print(f"{entry.name}: built in {meta['wall_s']:.0f} s on {meta['machine']['device']}")
        except MmvizError as err:
            failed += 1
            results[entry.name] = {"error": str(err)}
            print(f"error: {entry.name}: {err}", file=sys.stderr)
        finally:
            if bar:
                bar.close()
    if args.json:
        print(json.dumps(results))
    return 1 if failed else 0


def _verify(args: argparse.Namespace) -> int:
    from mmviz.errors import MmvizError
    from mmviz.gallery.package import shipped_runs
    from mmviz.gallery.verify import verify_run
    from mmviz.runs.devices import pick_device

    device = str(pick_device(args.device if args.device != "auto" else "cpu"))
    runs = shipped_runs()
    if args.only:
        unknown = sorted(set(args.only) - {r.name for r in runs})
        if unknown:
            raise MmvizError(f"no shipped reference run {unknown[0]!r}; shipped: {', '.join(r.name for r in runs)}")
        runs = [r for r in runs if r.name in args.only]
    results = []
    for shipped in runs:
        result = verify_run(shipped, device)
        results.append(result.as_dict())
        if not args.json:
            verdict = "ok" if result.ok else "DIFFERS"
            print(f"{shipped.name}: {verdict} ({result.metrics_checked} metrics, embeddings within "
                  f"{result.max_point_diff:.2g}, {result.seconds:.1f} s)")
            for line in result.problems:
                print(f"  {line}")
    if args.json:
        print(json.dumps({"runs": results, "ok": all(r["ok"] for r in results)}))
    return 0 if all(r["ok"] for r in results) else 1


def _list(args: argparse.Namespace) -> int:
    from mmviz.gallery.package import shipped_runs

    rows = []
    for shipped in shipped_runs():
        sizes = shipped.size_bytes()
        rows.append({"name": shipped.name, "model": shipped.meta["model"], "dataset": shipped.meta["dataset"],
                     "steps": shipped.meta["steps"], "wall_s": shipped.meta.get("wall_s"),
                     "machine": shipped.meta.get("machine"), "bytes": sizes, "total_bytes": sum(sizes.values())})
    if args.json:
        print(json.dumps({"runs": rows, "total_bytes": sum(r["total_bytes"] for r in rows)}))
    else:
        for r in rows:
            print(f"{r['name']}: {r['model']} on {r['dataset']}, {r['steps']} steps, "
                  f"{r['wall_s']:.0f} s on {r['machine']['device']}, {r['total_bytes'] / 1e6:.2f} MB")
        print(f"total {sum(r['total_bytes'] for r in rows) / 1e6:.2f} MB")
    return 0


def _install(args: argparse.Namespace) -> int:
    from mmviz.gallery.install import install_references
    from mmviz.runs.store import RunStore

    installed = install_references(RunStore(args.home))
    print(json.dumps({"installed": installed}) if args.json else f"installed {len(installed)} reference runs")
    return 0


def _adopt(args: argparse.Namespace) -> int:
    from mmviz.errors import MmvizError
    from mmviz.gallery.build import adopt_run
    from mmviz.gallery.entries import get_entry
    from mmviz.runs.store import RunStore

    if not args.run or not args.only or len(args.only) != 1:
        raise MmvizError("adopt needs one entry (--only NAME) and the run that becomes it (--run ID)")
    meta = adopt_run(get_entry(args.only[0]), RunStore(args.home), args.run)
    print(json.dumps(meta) if args.json else f"{meta['name']}: adopted run {args.run} ({meta['steps']} steps, "
          f"{meta['wall_s']:.0f} s)")
    return 0


class _Bar:
    def __init__(self, name: str, total: int) -> None:
        from tqdm import tqdm

        self.tqdm = tqdm(total=total, desc=name, unit="step", dynamic_ncols=True)

    def update(self, step: int, total: int, values: dict[str, float]) -> None:
        self.tqdm.total = total
        self.tqdm.update(step - self.tqdm.n)

    def close(self) -> None:
        self.tqdm.close()
