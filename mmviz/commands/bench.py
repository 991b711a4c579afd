"""`mmviz bench [NAME ...]`: run the benchmark scripts in bench/ and print what they measure."""

from __future__ import annotations

import json
import subprocess
import sys

from mmviz.errors import MmvizError
from mmviz.paths import REPO_ROOT

HELP = "run benchmarks from bench/ (each prints one JSON object)"
BENCH_DIR = REPO_ROOT / "bench"


def available() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_"))


def add_arguments(parser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="benchmarks to run (default: list them); 'all' runs every one")
    parser.add_argument("--json", action="store_true", help="print one JSON object {name: result}")


def run(args) -> int:
    names = available()
    if not args.names:
        print("benchmarks:", ", ".join(names) or "none")
        return 0
    chosen = names if args.names == ["all"] else args.names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        raise MmvizError(f"unknown benchmark {unknown[0]!r}; available: {', '.join(names)}")
    results = {}
    for name in chosen:
        proc = subprocess.run([sys.executable, str(BENCH_DIR / f"{name}.py")], capture_output=True, text=True,
                              cwd=REPO_ROOT)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise MmvizError(f"benchmark {name} failed: {last}")
        results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        if not args.json:
            print(f"{name}: {json.dumps(results[name], indent=1)}")
    if args.json:
        print(json.dumps(results))
    return 0
