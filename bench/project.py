"""Benchmark mmviz.explorer.projections: radial speed at 100,000 points, radial vs UMAP at 10,000, and the
Explorer page's first paint for a run with 5,000 held-out pairs.

Prints one JSON object:
- ``radial_100k``: `project(method="radial")` on 100,000 × 64 Lorentz points (float32, 65
  coordinates with the time one, distances from the origin uniform in [0.1, 8]): cold (first
  call in the process) and median of 3 warm calls, and the radius Spearman over all points.
- ``vs_umap_10k``: 10,000 points of a 3-level synthetic hierarchy in 64-d hyperbolic space
  (8 × 8 × 8 directions, depth = distance from the origin, noise): seconds for radial and for
  UMAP (output_metric="hyperboloid", numba compiled beforehand and cached), their ratio, and
  trustworthiness (k = 10, 2,000-point sample) of both.
- ``page``: a tiny MERU run on trifeature-captions with 5,000 held-out pairs (11,330 points
  with the distinct captions) is trained in a temp MMVIZ_HOME; `streamlit run app.py` is
  started and the Explorer opened once (embeddings cached), then opened again in a fresh tab:
  seconds from navigation to the disk drawn (Plotly's SVG present) and to the script idle. For
  scale, the same for the Geometry page (the app's fixed cost of a new tab: Streamlit's and
  Plotly's JavaScript in headless Chromium without a GPU), then the Explorer once more.

``--quick`` runs the radial part only (seconds); ``--no-page`` skips the page; ``--only radial,umap,page``
picks parts. UMAP at 10,000 points runs 500 epochs (umap's default below 10,001 points) and
its first call in a fresh MMVIZ_HOME compiles numba code (cached afterwards): minutes on a busy
2-core machine.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
warnings.filterwarnings("ignore", category=DeprecationWarning)

from mmviz.explorer.projections import project  # noqa: E402
from mmviz.geometry import get_geometry  # noqa: E402
from mmviz.metrics.projection import quality  # noqa: E402


def radial_points(n: int = 100_000, d: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, d)).astype(np.float32)
    v *= (rng.uniform(0.1, 8.0, size=n) / np.linalg.norm(v, axis=1)).astype(np.float32)[:, None]
    return get_geometry("lorentz", 1.0).expmap0(torch.as_tensor(v)).numpy()


def hierarchy_points(n: int = 10_000, d: int = 64, seed: int = 1) -> np.ndarray:
    """Points around a 3-level tree of directions: children tilt away from their parent."""
    rng = np.random.default_rng(seed)
    unit = lambda a: a / np.linalg.norm(a, axis=-1, keepdims=True)  # noqa: E731
    top = unit(rng.normal(size=(8, d)))
    mid = unit(top[:, None, :] + 0.6 * unit(rng.normal(size=(8, 8, d)))).reshape(64, d)
    leaf = unit(mid[:, None, :] + 0.4 * unit(rng.normal(size=(64, 8, d)))).reshape(512, d)
    levels = [(top, 1.0), (mid, 2.5), (leaf, 4.0)]
    which = rng.choice(3, size=n, p=[0.1, 0.3, 0.6])
    out = np.empty((n, d))
    for lv, (dirs, radius) in enumerate(levels):
        idx = np.flatnonzero(which == lv)
        pick = dirs[rng.integers(len(dirs), size=len(idx))]
        out[idx] = unit(pick + 0.08 * rng.normal(size=(len(idx), d))) * (radius + 0.2 * rng.normal(size=(len(idx), 1)))
    return get_geometry("lorentz", 1.0).expmap0(torch.as_tensor(out.astype(np.float32))).numpy()


def bench_radial() -> dict:
    x = radial_points()
    t = time.perf_counter()
    project(x, "lorentz", 1.0, "radial")
    cold = time.perf_counter() - t
    times = []
    for _ in range(3):
        t = time.perf_counter()
        proj = project(x, "lorentz", 1.0, "radial")
        times.append(time.perf_counter() - t)
    q = quality(x, proj, sample=2000)
    return {"n": len(x), "dim": 64, "seconds_cold": round(cold, 4),
            "seconds_median": round(statistics.median(times), 4), "radius_spearman": q["radius_spearman"],
            "trustworthiness": round(q["trustworthiness"], 4)}


def bench_umap() -> dict:
    x = hierarchy_points()
    t = time.perf_counter()
    project(x[:300], "lorentz", 1.0, "umap", umap_epochs=10)  # numba compile (cached under MMVIZ_HOME)
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    radial = project(x, "lorentz", 1.0, "radial")
    radial_s = time.perf_counter() - t
    t = time.perf_counter()
    um = project(x, "lorentz", 1.0, "umap")
    umap_s = time.perf_counter() - t
    qr, qu = quality(x, radial), quality(x, um)
    return {"n": len(x), "seconds_radial": round(radial_s, 4), "seconds_umap": round(umap_s, 2),
            "umap_over_radial": round(umap_s / radial_s, 1), "seconds_umap_first_call_300": round(compile_s, 2),
            "trustworthiness_radial": round(qr["trustworthiness"], 4),
            "trustworthiness_umap": round(qu["trustworthiness"], 4),
            "radius_spearman_radial": qr["radius_spearman"], "radius_spearman_umap": round(qu["radius_spearman"], 4),
            "distortion_radial": round(qr["distortion"], 4), "distortion_umap": round(qu["distortion"], 4)}


def make_run(home: Path, n_test: int = 5000) -> str:
    os.environ["MMVIZ_HOME"] = str(home)
    from mmviz.runs.embeddings import run_embeddings
    from mmviz.runs.loop import train_run
    from mmviz.runs.store import RunStore
    from mmviz.runs.train_config import resolve_config

    store = RunStore(home)
    cfg = resolve_config({
        "dataset": "trifeature-captions", "dataset_params": {"n": 2000, "n_test": n_test, "size": 16},
        "model": "meru", "model_params": {"dim": 16, "cnn_widths": "4,8", "text_width": 8},
        "steps": 40, "batch_size": 64, "eval_every": 100000, "eval_size": n_test, "device": "cpu", "threads": 1,
        "name": "bench-explorer"})
    run_id = store.create_run(cfg, dataset=cfg["dataset"], model=cfg["model"], total_steps=cfg["steps"])
    train_run(store, run_id)
    run_embeddings(store, run_id)
    return run_id


def bench_page() -> dict:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_app

    # The app opens on the newest run (this one), not on a shipped reference run.
    os.environ["MMVIZ_REFERENCE_RUNS"] = "none"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        t = time.perf_counter()
        run_id = make_run(home)
        setup_s = time.perf_counter() - t
        with start_app(home) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            idle = "[data-testid=stApp][data-test-script-state=notRunning]"
            disk = "[data-testid=stPlotlyChart] .main-svg"
            out = {}
            visits = [("first_open", f"explorer?run={run_id}"), ("cached", f"explorer?run={run_id}"),
                      ("baseline_geometry_page", "geometry"), ("cached_again", f"explorer?run={run_id}")]
            for label, path in visits:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                t = time.perf_counter()
                page.goto(f"{url}/{path}")
                page.wait_for_selector(disk, timeout=120_000)
                painted = time.perf_counter() - t
                page.wait_for_selector(idle, timeout=120_000)
                out[label] = {"seconds_to_disk": round(painted, 2),
                              "seconds_to_idle": round(time.perf_counter() - t, 2)}
                page.close()
            # Within an open app (the usual way in: the menu), no new tab reloads Streamlit's JavaScript.
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/geometry")
            page.wait_for_selector(disk, timeout=120_000)
            page.wait_for_selector(idle, timeout=120_000)
            times = []
            for target, back in (("Explorer", "Geometry"), ("Explorer", "Geometry"), ("Explorer", None)):
                t = time.perf_counter()
                page.locator("[data-testid=stSidebarNav] a", has_text=target).first.click()
                page.get_by_text("radial projection").first.wait_for(timeout=120_000)
                times.append(round(time.perf_counter() - t, 2))
                page.wait_for_selector(idle, timeout=120_000)
                if back:
                    page.locator("[data-testid=stSidebarNav] a", has_text=back).first.click()
                    page.get_by_role("heading", name=back).first.wait_for(timeout=120_000)
                    page.wait_for_selector(idle, timeout=120_000)
            out["menu_navigation_seconds_to_disk"] = times
            page.close()
            browser.close()
    return {"run_setup_seconds": round(setup_s, 1), "points": 2 * 5000 + 1330, **out}


def main() -> None:
    torch.set_num_threads(1)
    args = sys.argv[1:]
    parts = {"radial", "umap", "page"}
    if "--quick" in args:
        parts = {"radial"}
    if "--no-page" in args:
        parts.discard("page")
    if "--only" in args:
        parts = set(args[args.index("--only") + 1].split(","))
    os.environ.setdefault("MMVIZ_HOME", str(REPO / "runs"))
    result = {}
    if "radial" in parts:
        result["radial_100k"] = bench_radial()
    if "umap" in parts:
        result["vs_umap_10k"] = bench_umap()
    if "page" in parts:
        result["page"] = bench_page()
    result["loadavg"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
