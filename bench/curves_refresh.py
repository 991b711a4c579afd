"""Server-side cost of one refresh of the Train page's live curves.

Builds a store in a temporary MMVIZ_HOME with ``--runs`` runs of ``--rows`` metric rows each
(per run: 4 training metrics logged at 4,500 steps and 10 held-out metrics at 200 evaluations,
scaled to ``--rows``), all marked running, then times what the live fragment does per tick:
read the runs, read new metric rows, smooth and downsample, build (or update) one figure per
metric group, all 14 groups drawn, and turn each figure into the JSON ``st.plotly_chart`` sends
(``to_dict`` + ``to_json``, as Streamlit does). Three cases:

- ``cold_ms``: the first refresh (every row read from SQLite);
- ``warm_ms``: a refresh after every run logged one more step (the steady state while training);
- ``idle_ms``: a refresh with nothing new.

Prints one JSON object (median and max over ``--repeats`` refreshes, in milliseconds).

Usage: ``python bench/curves_refresh.py [--runs 10] [--rows 20000] [--repeats 7]``
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

TRAIN_METRICS = ("train/loss", "train/lr", "temperature", "steps_per_s")
EVAL_METRICS = ("eval/loss", "eval/r1_image_to_text", "eval/r1_text_to_image", "eval/r5_image_to_text",
                "eval/r5_text_to_image", "eval/zeroshot_shape", "eval/zeroshot_color", "eval/zeroshot_texture",
                "eval/dist0_level1", "eval/dist0_level3")


def fill_store(store, n_runs: int, rows: int) -> list[str]:
    """``n_runs`` running runs with ``rows`` metric rows each (one transaction per run)."""
    train_steps = int(rows * 0.9) // len(TRAIN_METRICS)
    evals = (rows - train_steps * len(TRAIN_METRICS)) // len(EVAL_METRICS)
    rng = np.random.default_rng(0)
    ids, t0 = [], time.time() - 3600
    for r in range(n_runs):
        run_id = store.create_run({"dataset": "trifeature-captions", "model": "clip" if r % 2 else "meru"},
                                  name=f"run {r}", dataset="trifeature-captions", model="clip" if r % 2 else "meru",
                                  total_steps=train_steps + 1000)
        store.update_run(run_id, status="running", started=t0, step=train_steps, device="cpu")
        steps = np.arange(1, train_steps + 1)
        loss = 4.0 * np.exp(-steps / 1500) + 0.3 * rng.random(train_steps)
        values = {"train/loss": loss, "train/lr": np.full(train_steps, 2e-3),
                  "temperature": 0.07 * np.exp(-steps / 3000), "steps_per_s": 20 + rng.random(train_steps)}
        data = [(run_id, int(s), name, float(values[name][i]), t0 + 0.05 * s)
                for i, s in enumerate(steps) for name in TRAIN_METRICS]
        eval_steps = np.linspace(1, train_steps, evals).astype(int)
        data += [(run_id, int(s), name, float(rng.random()), t0 + 0.05 * s)
                 for s in eval_steps for name in EVAL_METRICS]
        with sqlite3.connect(store.db_path) as con:  # setup only: one transaction per run
            con.executemany("INSERT INTO metrics (run_id, step, name, value, time) VALUES (?, ?, ?, ?, ?)", data)
        ids.append(run_id)
    return ids


def refresh(feed, store, run_ids, settings, cache) -> int:
    """One live tick, as the fragment does it; returns the number of points sent."""
    import plotly.io
    import plotly.tools

    runs = [run for run in store.list_runs() if run["id"] in run_ids]
    from mmviz.ui.train_live import curve_figures

    _, figures = curve_figures(feed, runs, settings, cache)
    points = 0
    for _, fig in figures:
        figure = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)  # as st.plotly_chart
        plotly.io.to_json(figure, validate=False)
        points += sum(_length(trace.x) for trace in fig.data)
    return points


def _length(array) -> int:
    """Points in a trace's x: a plotly base64 typed array or a list."""
    if isinstance(array, dict):
        return len(base64.b64decode(array["bdata"])) // np.dtype(array["dtype"]).itemsize
    return len(array)


def log_one_step(store, run_ids, step: int) -> None:
    for run_id in run_ids:
        store.log_metrics(run_id, step, {name: 1.0 for name in TRAIN_METRICS})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["MMVIZ_HOME"] = home
        from mmviz.runs.store import RunStore
        from mmviz.ui.train_feed import MetricsFeed
        from mmviz.ui.train_live import CurveSettings

        store = RunStore(home)
        run_ids = fill_store(store, args.runs, args.rows)
        settings = CurveSettings(smoothing=0.6, log_x=False, log_y=False, x_kind="step", more=True)
        refresh(MetricsFeed(store), store, run_ids, settings, {})  # warm up imports and plotly's validators

        cold, warm, idle = [], [], []
        step = store.get_run(run_ids[0])["step"]
        points = 0
        for _ in range(args.repeats):
            feed, cache = MetricsFeed(store), {}  # a new server: nothing read, no figure built
            start = time.perf_counter()
            points = refresh(feed, store, run_ids, settings, cache)
            cold.append(time.perf_counter() - start)
            for _ in range(3):
                step += 1
                log_one_step(store, run_ids, step)
                start = time.perf_counter()
                refresh(feed, store, run_ids, settings, cache)
                warm.append(time.perf_counter() - start)
                start = time.perf_counter()
                refresh(feed, store, run_ids, settings, cache)
                idle.append(time.perf_counter() - start)

        def ms(values):
            return {"median": round(1000 * statistics.median(values), 1), "max": round(1000 * max(values), 1)}

        print(json.dumps({
            "runs": args.runs, "rows_per_run": args.rows, "points_sent": points,
            "cold_ms": ms(cold), "warm_ms": ms(warm), "idle_ms": ms(idle),
            "target_ms": 200, "loadavg": list(os.getloadavg()),
        }))


if __name__ == "__main__":
    main()
