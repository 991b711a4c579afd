"""The hyperbolic-aware projections' targets: HoroPCA and CO-SNE on WordNet mammals, fit times,
and a million points drawn in the Explorer. Writes ``assets/projections/bench.json``.

    python bench/projection_targets.py                    # everything (~10 minutes on 2 cores)
    python bench/projection_targets.py --only mammal,fit  # parts: mammal, fit, million
    python bench/projection_targets.py --only mammal --smalltree smalltree_10_poincare.npy

- ``mammal``: the WordNet mammal closure (1,182 synsets) trained in 10-D Poincaré
  (``poincare-embed``, dim 10, the gallery's 2-D run's settings otherwise; cached in
  ``assets/projections/mammal-poincare-10d.npz``). Every projection to 2-D with the Explorer's
  read-outs on all 1,182 points (trustworthiness k = 10, mean relative distortion in the
  model's units, radius Spearman), beside Euclidean UMAP of the same points (umap's
  ``poincare`` input metric, Euclidean output; its distortion after the best single scale).
- ``fit``: seconds of each projection (one thread) at 1,000, 10,000 and 100,000 points of a
  synthetic 16-D Poincaré hierarchy (8 branches × 8 sub-branches, depth 1–7).
- ``million``: a 1,000,000 × 16 Poincaré ``.npz`` of that hierarchy is uploaded to the
  Explorer in headless Chromium (a real ``streamlit run app.py``); seconds from choosing the
  file to the disk drawn (the density image in the figure and the script idle), then the
  median of 5 zooms (a mouse-wheel step on the disk) from the wheel event to Plotly's
  ``plotly_afterplot``.
Prints the load average: timings are only comparable on a quiet machine.
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

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "mmviz-numba"))

from mmviz.data.embeddings_io import EmbeddingSet, load_embeddings, save_embeddings  # noqa: E402
from mmviz.explorer.projections import project_set  # noqa: E402
from mmviz.metrics.projection import quality, trustworthiness_from_distances  # noqa: E402

OUT = REPO / "assets" / "projections" / "bench.json"
MAMMAL = REPO / "assets" / "projections" / "mammal-poincare-10d.npz"
METHODS = ("radial", "tangent-pca", "horopca", "co-sne", "umap")


def mammal_embeddings() -> EmbeddingSet:
    """The 10-D Poincaré mammal embeddings, trained once (~40 s) and cached in assets/."""
    if MAMMAL.exists():
        return load_embeddings(MAMMAL)
    from mmviz.runs.embeddings import run_embeddings
    from mmviz.runs.loop import train_run
    from mmviz.runs.store import RunStore
    from mmviz.runs.train_config import resolve_config

    store = RunStore(tempfile.mkdtemp(prefix="mmviz-mammal10-"))
    config = resolve_config({"name": "mammals, Poincaré 10-D", "dataset": "wordnet-mammal",
                             "model": "poincare-embed", "model_params": {"dim": 10}, "seed": 0, "device": "cpu"})
    run_id = store.create_run(config, dataset=config["dataset"], model=config["model"], total_steps=config["steps"])
    train_run(store, run_id)
    es = run_embeddings(store, run_id)
    save_embeddings(MAMMAL, es)
    return es


def euclidean_umap(es: EmbeddingSet) -> dict:
    """Euclidean UMAP of the mammals: trustworthiness and distortion against hyperbolic distances."""
    import umap

    from mmviz.geometry import get_geometry

    x = np.asarray(es.points, np.float64)
    start = time.perf_counter()
    xy = umap.UMAP(n_components=2, metric="poincare", random_state=0, n_jobs=1).fit_transform(x.astype(np.float32))
    seconds = time.perf_counter() - start
    d_high = get_geometry("poincare", 1.0).pairwise_dist(torch.as_tensor(x)).numpy()
    d_low = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=-1).astype(np.float64)
    iu = np.triu_indices(len(x), 1)
    hi, lo = d_high[iu], d_low[iu]
    keep = hi > 1e-12
    scale = float(np.median(hi[keep] / np.maximum(lo[keep], 1e-300)))
    return {"trustworthiness": round(trustworthiness_from_distances(d_high, d_low, 10), 4),
            "distortion": round(float(np.mean(np.abs(scale * lo[keep] / hi[keep] - 1.0))), 4),
            "seconds": round(seconds, 1)}


def mammal() -> dict:
    es = mammal_embeddings()
    out: dict = {"points": len(es), "dim": es.dim, "sample": len(es)}
    for method in METHODS:
        proj = project_set(es, method)
        q = quality(es.points, proj, sample=len(es))
        out[method] = {"trustworthiness": round(q["trustworthiness"], 4), "distortion": round(q["distortion"], 4),
                       "radius_spearman": round(q["radius_spearman"], 4), "seconds": round(proj.seconds, 1),
                       "notes": proj.notes}
        print(method, out[method], file=sys.stderr, flush=True)
    out["euclidean-umap"] = euclidean_umap(es)
    print("euclidean-umap", out["euclidean-umap"], file=sys.stderr, flush=True)
    return out


def smalltree(path: str) -> dict:
    """HoroPCA against its authors' own example: their ``smalltree_10_poincare.npy`` (40 nodes in
    10-D Poincaré, from the HoroPCA repository; not shipped here) to 2-D. Their README reports
    distortion 0.19 for HoroPCA and 0.84 for Euclidean PCA; the same metric here (mean
    |d_2D / d - 1| over all pairs, no rescaling)."""
    from mmviz.explorer.projections import project

    x = np.load(path, allow_pickle=False)
    out: dict = {"points": len(x), "dim": x.shape[1], "reference_readme": {"horopca": 0.19, "euclidean-pca": 0.84}}
    for method in ("tangent-pca", "horopca", "radial"):
        proj = project(x, "poincare", 1.0, method)
        q = quality(x, proj, sample=len(x))
        out[method] = {"distortion": round(q["distortion"], 3), "trustworthiness": round(q["trustworthiness"], 3)}
    return out


def hierarchy(n: int, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic Poincaré hierarchy: (n, dim) float32 points and (n,) branch labels. 8 branch
    directions, 8 sub-branches each; a point's depth is uniform in [1, 7] and its direction
    drifts from its branch's towards its sub-branch's as it gets deeper."""
    rng = np.random.default_rng(seed)
    branches = rng.normal(size=(8, dim))
    subs = branches[:, None, :] + 0.8 * rng.normal(size=(8, 8, dim))
    b = rng.integers(0, 8, n)
    s = rng.integers(0, 8, n)
    depth = rng.uniform(1.0, 7.0, n)
    t = ((depth - 1.0) / 6.0)[:, None]
    direction = (1 - t) * branches[b] + t * subs[b, s] + 0.25 * rng.normal(size=(n, dim))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    points = (np.tanh(depth / 2.0)[:, None] * direction).astype(np.float32)
    return points, np.array([f"branch {k}" for k in range(8)])[b]


def fit_times(sizes: tuple[int, ...] = (1_000, 10_000, 100_000)) -> dict:
    import pandas as pd

    torch.set_num_threads(1)
    out: dict = {}
    for n in sizes:
        points, labels = hierarchy(n)
        es = EmbeddingSet(points, pd.DataFrame({"label": labels}), "poincare", 1.0)
        row = {}
        for method in ("radial", "tangent-pca", "horopca", "co-sne"):
            proj = project_set(es, method)
            row[method] = round(proj.seconds, 2)
            print(n, method, row[method], proj.notes, file=sys.stderr, flush=True)
        out[str(n)] = row
    return out


def million(n: int = 1_000_000, zooms: int = 5) -> dict:
    """Upload → drawn and zoom → redrawn for ``n`` × 16 points in the Explorer, in Chromium."""
    import pandas as pd
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(REPO / "tests" / "browser"))
    from conftest import CHROMIUM, CHROMIUM_ARGS, start_app

    home = Path(tempfile.mkdtemp(prefix="mmviz-million-"))
    points, labels = hierarchy(n)
    file = home / "million.npz"
    save_embeddings(file, EmbeddingSet(points, pd.DataFrame({"label": labels}), "poincare", 1.0))
    out: dict = {"points": n, "dim": 16, "file_mb": round(file.stat().st_size / 1e6, 1)}
    with start_app(home) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/explorer?source=file", timeout=120_000)
        page.wait_for_selector("[data-testid=stFileUploaderDropzoneInput]", state="attached", timeout=120_000)
        page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=120_000)
        start = time.perf_counter()
        page.set_input_files("[data-testid=stFileUploaderDropzoneInput]", str(file))
        page.wait_for_selector(".st-key-explorer_disk .js-plotly-plot .imagelayer image", state="attached",
                               timeout=300_000)
        out["upload_to_drawn_s"] = round(time.perf_counter() - start, 2)
        page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=300_000)
        out["upload_to_page_idle_s"] = round(time.perf_counter() - start, 2)
        title = page.locator(".st-key-explorer_disk .gtitle").first.text_content()
        out["title"] = title
        chart = page.locator(".st-key-explorer_disk .js-plotly-plot").first
        box = chart.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
        times = []
        for k in range(zooms):
            page.evaluate("""() => { const gd = document.querySelector('.st-key-explorer_disk .js-plotly-plot');
                window.__drawn = null; gd.once('plotly_afterplot', () => { window.__drawn = performance.now(); });
                window.__wheel = performance.now(); }""")
            page.mouse.wheel(0, -120 if k % 2 == 0 else 120)
            page.wait_for_function("() => window.__drawn !== null", timeout=30_000)
            times.append(page.evaluate("() => window.__drawn - window.__wheel") / 1000.0)
            page.wait_for_timeout(300)
        out["zoom_redraw_s"] = [round(t, 3) for t in times]
        out["zoom_redraw_median_s"] = round(statistics.median(times), 3)
        page.screenshot(path=str(home / "million.png"))
        out["screenshot"] = str(home / "million.png")
        browser.close()
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="mammal,fit,million", help="comma-separated parts: mammal, fit, million")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--smalltree", help="the HoroPCA authors' smalltree_10_poincare.npy, to check against their README")
    args = ap.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    path = Path(args.out)
    result = json.loads(path.read_text()) if path.exists() else {"bench": "projection_targets"}
    result["loadavg_before"] = os.getloadavg()
    for part in parts:
        result[part] = {"mammal": mammal, "fit": fit_times, "million": million}[part]()
    if args.smalltree:
        result["smalltree"] = smalltree(args.smalltree)
    result["loadavg_after"] = os.getloadavg()
    result["cpu_count"] = os.cpu_count()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
