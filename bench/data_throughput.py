"""Throughput of the dataset generators: samples (images, pairs...) produced per second.

Prints one JSON object: ``{benchmark name: samples per second, ..., "loadavg": [1, 5, 15 min]}``.
Each benchmark is a callable that builds one batch (anything with a ``len``); its rate is the
best of a few timed repeats (the least disturbed by other processes on the machine).

To add a generator, write a function returning ``{name: callable}`` in its own section below
and merge it into :func:`benchmarks`.

Usage: ``python bench/data_throughput.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sized
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

MakeBatch = Callable[[], Sized]


# ----------------------------------------------------------------------------- trifeature
def trifeature_benchmarks() -> dict[str, MakeBatch]:
    """Render random Trifeature images at 32, 64 and 224 px (batches of ~4M pixels)."""
    from mmviz.data.trifeature import render

    def make(size: int, n: int) -> MakeBatch:
        ids = [np.random.default_rng(k).integers(0, 10, n) for k in range(3)]
        return lambda: render(*ids, size=size, rng=0)

    return {
        "trifeature_32px_images_per_s": make(32, 4096),
        "trifeature_64px_images_per_s": make(64, 1024),
        "trifeature_224px_images_per_s": make(224, 96),
    }


# ----------------------------------------------------------------------------- all
def benchmarks() -> dict[str, MakeBatch]:
    """Every benchmark, by name."""
    return {**trifeature_benchmarks()}


def samples_per_second(make_batch: MakeBatch, repeats: int) -> float:
    """Best rate over ``repeats`` timed calls, after one untimed warm-up call."""
    make_batch()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        batch = make_batch()
        best = max(best, len(batch) / (time.perf_counter() - start))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per benchmark (best is kept)")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {
        name: round(samples_per_second(make, args.repeats), 1) for name, make in benchmarks().items()
    }
    out["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
