"""How fast the Similarity page renders a B = 1024 batch and re-renders after a τ change.

Trains a tiny CLIP run with 1,024 held-out pairs in a temporary MMVIZ_HOME (a few seconds),
then measures:

- ``figures``: building the two matrix figures of B = 1024 and serialising them as Streamlit
  does (plotly JSON with float32 typed arrays), and the bytes sent;
- ``server``: the page script in AppTest: first render (cold caches), a rerun, a τ change;
- ``browser`` (skip with ``--no-browser``): a real ``streamlit run`` in headless Chromium:
  opening the page in a new tab until both heatmaps are drawn (``load_s``: includes the
  browser loading Streamlit's and Plotly's JavaScript); asking for B = 1024 in the open page
  (B slider 512 → 1024) until both heatmaps are redrawn and the app is idle (``render_in_app_s``);
  and from a τ key press until the heatmap is redrawn and the app idle (median of 5).

Prints one JSON object (with ``os.getloadavg()``). Targets: B = 1024 renders in ≤ 2 s, a τ
change re-renders in ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PAGE = str(REPO / "pages" / "similarity.py")
B = 1024


def train_tiny(home: Path) -> str:
    import torch

    from mmviz.runs.loop import train_run
    from mmviz.runs.store import RunStore
    from mmviz.runs.train_config import resolve_config

    torch.set_num_threads(1)
    store = RunStore(home)
    config = resolve_config({
        "name": "bench", "dataset": "trifeature-captions", "dataset_params": {"n": 256, "n_test": B, "size": 16},
        "model": "clip", "model_params": {"dim": 16, "mlp_hidden": 32, "cnn_widths": "8,8"}, "steps": 4,
        "batch_size": 64, "eval_every": 4, "eval_size": B, "log_every": 2, "checkpoint_every": 4,
        "device": "cpu", "threads": 1,
    })
    run_id = store.create_run(config, dataset=config["dataset"], model="clip", total_steps=config["steps"])
    train_run(store, run_id)
    return run_id


def bench_figures(home: Path, run_id: str) -> dict:
    import plotly.io as pio
    import plotly.tools

    from mmviz.losses import batch as lb
    from mmviz.metrics import similarity as ms
    from mmviz.runs.embeddings import run_embeddings
    from mmviz.runs.store import RunStore
    from mmviz.ui import similarity_views as views
    from mmviz.ui.similarity_data import axis_labels, batch_indices, pairs_from_embeddings

    pairs = pairs_from_embeddings(run_embeddings(RunStore(home), run_id))
    out = {}
    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        idx = batch_indices(len(pairs), B, 0)
        sim = ms.similarity_matrix(pairs.a[idx], pairs.b[idx], pairs.geometry)
        rows, cols = axis_labels(pairs, idx)
        b = views.Batch(idx, sim, lb.logits(sim, 0.07), rows, cols)
        t1 = time.perf_counter()
        figs = [views.similarity_figure(b, "similarity", 0.07, pairs.geometry, pairs.names),
                views.softmax_figure(b, "rows", pairs.names)]
        t2 = time.perf_counter()
        specs = [pio.to_json(plotly.tools.return_figure_from_figure_or_data(f, validate_figure=True), validate=False)
                 for f in figs]
        t3 = time.perf_counter()
        out[label] = {"maths_s": round(t1 - t0, 4), "build_s": round(t2 - t1, 4), "serialise_s": round(t3 - t2, 4),
                      "bytes": sum(len(s) for s in specs)}
    return out


def bench_server(home: Path, run_id: str) -> dict:
    from streamlit.testing.v1 import AppTest

    os.environ["MMVIZ_HOME"] = str(home)
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params.update({"run": run_id, "B": str(B), "learned": "false", "tau": "0.07"})
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    assert not at.exception, at.exception
    t0 = time.perf_counter()
    at.run()
    rerun = time.perf_counter() - t0
    taus = []
    for i in range(5):
        at.slider(key="sim.tau").set_value(0.05 + 0.01 * i)
        t0 = time.perf_counter()
        at.run()
        taus.append(time.perf_counter() - t0)
    assert not at.exception
    return {"first_render_s": round(first, 3), "rerun_s": round(rerun, 3),
            "tau_change_s_median": round(statistics.median(taus), 3), "tau_change_s": [round(t, 3) for t in taus]}


def bench_browser(home: Path, run_id: str) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_app

    idle = "[data-testid=stApp][data-test-script-state=notRunning]"
    heatmaps = "[data-testid=stPlotlyChart] .hm image"
    with start_app(home) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/similarity?src=toy")  # warm the server: imports, first script run
        page.wait_for_selector(idle, timeout=120_000)
        loads = []
        for _ in range(3):
            t0 = time.perf_counter()
            page.goto(f"{url}/similarity?run={run_id}&B={B}&learned=false&tau=0.07")
            page.wait_for_function(f"document.querySelectorAll('{heatmaps}').length >= 2", timeout=120_000)
            page.wait_for_selector(idle, timeout=120_000)
            loads.append(time.perf_counter() - t0)
        thumb = page.locator('input[type=range][aria-label^="temperature"]').first
        taus = []
        for _ in range(5):
            taus.append(_change_and_wait(page, thumb, "ArrowRight", heatmaps, idle))
        # Asking for B = 1024 inside the running app (the page already open at B = 512): what
        # a user waits for, without the browser's loading of Streamlit's and Plotly's JavaScript.
        page.goto(f"{url}/similarity?run={run_id}&B=512&learned=false&tau=0.07")
        page.wait_for_function(f"document.querySelectorAll('{heatmaps}').length >= 2", timeout=120_000)
        page.wait_for_selector(idle, timeout=120_000)
        size = page.locator('input[type=range][aria-label^="batch size"]').first
        renders = []
        for _ in range(4):
            renders.append(_change_and_wait(page, size, "ArrowRight", heatmaps, idle))  # 512 → 1024
            _change_and_wait(page, size, "ArrowLeft", heatmaps, idle)  # back to 512
        browser.close()
    return {"load_s_median": round(statistics.median(loads), 3), "load_s": [round(t, 3) for t in loads],
            "render_in_app_s_median": round(statistics.median(renders), 3),
            "render_in_app_s": [round(t, 3) for t in renders],
            "tau_change_s_median": round(statistics.median(taus), 3), "tau_change_s": [round(t, 3) for t in taus]}


def _change_and_wait(page, control, key: str, heatmaps: str, idle: str) -> float:
    """Press ``key`` on ``control`` and return the seconds until the second heatmap is redrawn
    and the app is idle again."""
    before = page.evaluate(f"document.querySelectorAll('{heatmaps}')[1].getAttribute('href')")
    control.focus()
    t0 = time.perf_counter()
    control.press(key)
    page.wait_for_function(
        f"(b) => {{ const im = document.querySelectorAll('{heatmaps}')[1];"
        f" return im && im.getAttribute('href') !== b; }}", arg=before, timeout=60_000)
    page.wait_for_selector(idle, timeout=60_000)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mmviz-bench-sim-") as tmp:
        home = Path(tmp)
        os.environ["MMVIZ_HOME"] = str(home)
        t0 = time.perf_counter()
        run_id = train_tiny(home)
        result = {"bench": "similarity_render", "B": B, "setup_s": round(time.perf_counter() - t0, 2),
                  "figures": bench_figures(home, run_id), "server": bench_server(home, run_id)}
        if not args.no_browser:
            result["browser"] = bench_browser(home, run_id)
        result["targets"] = {"render_s": 2.0, "tau_change_s": 0.5}
        result["loadavg"] = os.getloadavg()
        print(json.dumps(result))


if __name__ == "__main__":
    main()
