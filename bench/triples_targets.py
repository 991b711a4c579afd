"""The three-modality R/U/S study on this machine: CoMM n = 3, pairwise and anchor alignment on
biased and unbiased ``trifeature-triples``, plus CoMM's two-view ablation; writes
``assets/triples/bench.json``.

    python bench/triples_targets.py --jobs 2              # the study (seven runs, two at a time)
    python bench/triples_targets.py --step-cost-only      # the step costs only (~1 minute)
    python bench/triples_targets.py --only "CoMM n = 3 · biased"
    python bench/triples_targets.py --cross-views --cross-run RUNS/ID   # why S2 stays at chance

First the step cost of each method (ms per step at batch 128, one thread, measured back to back
in alternating rounds, so the ratio is fair if the load changes), then the runs of
:func:`mmviz.runs.comm3_presets.study_configs` (fixed steps per method, about the same wall
clock) into the run store ``--home``. Protocol (the two-modality study's, CoMM's): R and the U
terms from the run trained on unbiased triples, S1 and S2 from the biased run. ``--package``
copies the finished runs into the gallery (``assets/runs/``) under their entry names, so the
shipped reference runs are exactly the measured ones (``gallery build`` retrains the same config).
Prints the load average before and after: timings are only comparable on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mmviz.metrics.triple_probes import CHANCE, PROBES  # noqa: E402
from mmviz.runs.comm3_presets import METHODS, study_configs  # noqa: E402
from mmviz.runs.loop import train_run  # noqa: E402
from mmviz.runs.store import RunStore  # noqa: E402
from mmviz.runs.train_config import resolve_config  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "assets" / "triples" / "bench.json"
TARGETS = ("comm3: R, U1, U2, U3, S1, S2 well above chance; pairwise3: R kept, U terms and S2 lost; "
           "each run ≤ 15 CPU-minutes (cpu_s: the worker process's CPU time); a comm3 step ≤ 4× a pairwise3 step")


def step_rate(model_name: str, batch: int, steps: int = 4) -> float:
    """Optimiser steps per second of ``model_name`` at ``batch`` triples (after 2 warm-up steps),
    drawing each step's fresh views as the training loop does."""
    from mmviz.data.registry import load, view_renderer
    from mmviz.models.registry import build_model

    data = load("trifeature-triples", "train", n_train=max(batch, 256), n_test=64)
    torch.manual_seed(0)
    model = build_model(model_name, data)
    render = view_renderer("trifeature-triples")
    rng = np.random.default_rng(0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for i in range(steps + 2):
        if i == 2:
            start = time.perf_counter()
        fresh = render(data, rng.permutation(len(data))[:batch], model.rendered_views, rng)
        loss = model(*(torch.from_numpy(fresh[m]) for m in ("image1", "image2", "tone")))["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps / (time.perf_counter() - start)


def step_costs(batch: int, rounds: int = 3) -> dict[str, float]:
    """Milliseconds per step of each method, the median of ``rounds`` alternating rounds."""
    times: dict[str, list[float]] = {m: [] for m in METHODS}
    for _ in range(rounds):
        for m in METHODS:
            times[m].append(1000.0 / step_rate(m, batch))
    return {m: round(float(np.median(t)), 1) for m, t in times.items()}


def final_probes(store: RunStore, run_id: str) -> dict[str, float]:
    """The last logged probe accuracies of a run, in %."""
    latest = store.latest_metrics(run_id)
    return {k: round(100 * float(latest[f"eval/probe_{k}"]["value"]), 1) for k in PROBES
            if f"eval/probe_{k}" in latest}


def probe_history(store: RunStore, run_id: str) -> dict[str, list[float]]:
    """Every evaluation's probes (%), by step."""
    frame = store.metrics(run_id, names=[f"eval/probe_{k}" for k in PROBES])
    wide = frame.pivot_table(index="step", columns="name", values="value")
    return {str(int(step)): {k.removeprefix("eval/probe_"): round(100 * v, 1) for k, v in row.items()}
            for step, row in wide.iterrows()}


def train_one(cfg: dict, home: str) -> dict:
    """Train one study run into the store at ``home``; returns its summary."""
    torch.set_num_threads(cfg["threads"])
    store = RunStore(home)
    config = resolve_config({**cfg, "device": "cpu"})
    run_id = store.create_run(config, dataset=config["dataset"], model=config["model"], total_steps=config["steps"])
    start, cpu_start = time.perf_counter(), time.process_time()
    status = train_run(store, run_id)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    rates = store.metrics(run_id, names=["steps_per_s"])
    return {"run_id": run_id, "name": cfg["name"], "method": cfg["model"], "biased": cfg["dataset_params"]["biased"],
            "masked_terms": cfg["model_params"].get("masked_terms", "1,2,3"),
            "pair_views": bool(cfg["model_params"].get("pair_views", False)), "status": status,
            "steps": cfg["steps"], "steps_per_s": round(float(np.median(rates.value)), 3) if len(rates) else None,
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "probes": final_probes(store, run_id),
            "history": probe_history(store, run_id), "loadavg_after": os.getloadavg()}


def summary(runs: list[dict]) -> dict[str, dict[str, float | None]]:
    """Per method (and variant, and ablation), the protocol: R and U1–U3 from its unbiased run, S1
    and S2 from its biased run (None where that run is missing)."""
    out: dict[str, dict[str, float | None]] = {}
    labels = dict.fromkeys(r["name"].split(" · ")[0] for r in runs)  # method (+ variant or ablation), in order
    for label in labels:
        mine = [r for r in runs if r["name"].split(" · ")[0] == label]
        unbiased = next((r["probes"] for r in mine if not r["biased"]), {})
        biased = next((r["probes"] for r in mine if r["biased"]), {})
        out[label] = {**{k: unbiased.get(k) for k in ("R", "U1", "U2", "U3")},
                      **{k: biased.get(k) for k in ("S1", "S2")}}
    return out


def package(runs: list[dict], home: str) -> list[str]:
    """Copy the finished runs into the gallery under their entries' names (matched by config)."""
    from mmviz.gallery.entries import ENTRIES
    from mmviz.gallery.package import GALLERY_DIR, package_run

    store, done = RunStore(home), []
    for run in runs:
        config = store.get_run(run["run_id"])["config"]
        entry = next((e for e in ENTRIES if e.config.get("name") == config.get("name")
                      and e.config.get("dataset") == "trifeature-triples"), None)
        if entry is None or run["status"] != "finished":
            continue
        meta = {"name": entry.name, "title": entry.title, "caption": entry.caption, "pages": list(entry.pages),
                "wall_s": run["wall_s"]}
        package_run(store, run["run_id"], GALLERY_DIR / entry.name, meta)
        done.append(entry.name)
    return done


def controls(n: int = 4096) -> dict:
    """Probe hygiene on ``n`` test triples: what the true attributes alone let a probe do (each
    figure also a test, ``tests/metrics/test_triple_probes.py``), and the floor of untrained
    models (the probes on each method's randomly initialised representation), in %."""
    from itertools import combinations

    from mmviz.data.registry import load
    from mmviz.metrics import probes as P
    from mmviz.metrics.triple_probes import ATTRIBUTE_COLUMNS, MODALITY_COLUMNS, triple_probe_subsets, triple_probes
    from mmviz.models.registry import build_model

    data = load("trifeature-triples", "test", n_train=16, n_test=n)
    meta = data.metadata
    sub = triple_probe_subsets(meta)
    pct = lambda x: round(100 * x, 1)  # noqa: E731
    s2, y2 = meta.iloc[sub["S2"]], meta.synergy123.to_numpy()[sub["S2"]]
    s2_from_pairs = {}
    for m1, m2 in combinations(MODALITY_COLUMNS, 2):
        seen = sorted(set(MODALITY_COLUMNS[m1]) | set(MODALITY_COLUMNS[m2]))
        s2_from_pairs[f"{m1}+{m2}"] = pct(P.linear_probe(P.pair_products(s2, list(combinations(seen, 2))), y2))
    three = s2.assign(c1_t2=(s2.color1_id + s2.texture2_id) % 10)
    s1, y1 = meta.iloc[sub["S1"]], meta.synergy12.to_numpy()[sub["S1"]]
    leaks = [p for p in combinations(ATTRIBUTE_COLUMNS, 2) if set(p) != {"texture1_id", "color2_id"}]
    image2 = list(MODALITY_COLUMNS["image2"])
    u2 = meta.assign(b_c1=(meta.bass_id - meta.color1_id) % 10)
    out = {
        "test_triples": n,
        "S2_from_every_pairwise_product_of_two_modalities": s2_from_pairs,
        "S2_from_the_three_way_sum": pct(P.linear_probe(P.pair_products(three, [("c1_t2", "bass_id")]), y2)),
        "S1_from_single_attributes": pct(P.linear_probe(P.one_hot(s1, ATTRIBUTE_COLUMNS), y1)),
        "S1_from_every_other_pairwise_product": pct(P.linear_probe(P.pair_products(s1, leaks), y1)),
        "S1_from_texture1_x_colour2": pct(P.linear_probe(P.pair_products(s1, [("texture1_id", "color2_id")]), y1)),
        "U1_from_image2_on_S1_0": pct(P.linear_probe(P.one_hot(meta.iloc[sub["U1"]], image2),
                                                     meta.unique1.to_numpy()[sub["U1"]])),
        "U1_from_image2_on_all": pct(P.linear_probe(P.one_hot(meta, image2), meta.unique1.to_numpy())),
        "U2_from_bass_minus_colour1_on_S2_0": pct(P.linear_probe(P.one_hot(u2.iloc[sub["U2"]], ["b_c1"]),
                                                                 meta.unique2.to_numpy()[sub["U2"]])),
        "U2_from_bass_minus_colour1_on_all": pct(P.linear_probe(P.one_hot(u2, ["b_c1"]), meta.unique2.to_numpy())),
    }
    floor = {}
    x = data.torch_dataset().tensors
    for model in METHODS:
        torch.manual_seed(0)
        feats = build_model(model, data).probe_features(x["image1"], x["image2"], x["tone"])
        floor[METHODS[model]] = {k: pct(v) for k, v in triple_probes(feats, meta).items()}
    out["untrained_floor"] = floor
    return out


SHIPPED_CROSS = ("comm3-biased", "comm3-two-view")
"""The shipped biased CoMM n = 3 runs the cross-view read-out always covers."""


def cross_view_figures(extra: list[str], examples: int = 4096) -> dict:
    """The cross-view read-out (:mod:`mmviz.runs.triple_views`, in %) of the shipped biased CoMM
    n = 3 runs and of the run folders in ``extra`` (inside a run store: their name, steps, wall
    time and probes are read from it), each on ``examples`` test triples. Also saves the page's
    read-out (``CROSS_EXAMPLES`` triples) into each shipped run's folder, as it ships."""
    from mmviz.gallery.package import GALLERY_DIR
    from mmviz.runs.files import load_config
    from mmviz.runs.loop import model_from_checkpoint
    from mmviz.runs.train_config import resolve_stored_config
    from mmviz.runs.triple_views import CROSS_EXAMPLES, cross_view_read_out, save_read_out

    out = []
    for folder in [GALLERY_DIR / name for name in SHIPPED_CROSS] + [Path(p) for p in extra]:
        config = resolve_stored_config(load_config(folder))
        start = time.perf_counter()
        found = cross_view_read_out(model_from_checkpoint(config, folder), config, examples)
        entry = {"run": folder.name, "name": config.get("name"), "steps": config["steps"],
                 "pair_views": bool(config["model_params"].get("pair_views")),
                 "masked_terms": config["model_params"].get("masked_terms", "1,2,3"),
                 "cross_view_percent": {k: round(100 * v, 1) for k, v in found.items()},
                 "read_out_s": round(time.perf_counter() - start, 1)}
        if folder.parent == GALLERY_DIR:  # ship the page's own read-out, so a class does not wait for it
            save_read_out(folder, cross_view_read_out(model_from_checkpoint(config, folder), config), CROSS_EXAMPLES)
        else:
            store = RunStore(folder.parent)
            run = store.get_run(folder.name)
            entry.update({"threads": config.get("threads"), "wall_s": round(run["finished"] - run["started"], 1),
                          "probes": final_probes(store, folder.name), "history": probe_history(store, folder.name)})
        print(json.dumps({k: v for k, v in entry.items() if k != "history"}), file=sys.stderr, flush=True)
        out.append(entry)
    return {"test_triples": examples, "runs": out, "loadavg": os.getloadavg()}


def _add_to_bench(path: Path, key: str, value: dict) -> None:
    whole = json.loads(path.read_text()) if path.exists() else {"bench": "triples_targets"}
    whole[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(whole, indent=1) + "\n")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2, help="runs trained at once (worker processes, one thread each)")
    ap.add_argument("--only", action="append", default=[], help="train only the run with this name (repeatable)")
    ap.add_argument("--step-cost-only", action="store_true")
    ap.add_argument("--controls-only", action="store_true",
                    help="only the probe controls and untrained floors, added to the existing bench.json")
    ap.add_argument("--cross-views", action="store_true",
                    help="only the cross-view read-out of the shipped biased CoMM n = 3 runs (and of --cross-run "
                         "folders), added to the existing bench.json")
    ap.add_argument("--cross-run", action="append", default=[], metavar="RUN_DIR",
                    help="also read out this run folder of a run store (repeatable), e.g. a pair-view run")
    ap.add_argument("--package", action="store_true", help="copy the finished runs into assets/runs/")
    ap.add_argument("--home", default=None, help="run store folder (default $MMVIZ_HOME or ./runs)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)

    if args.home:
        os.environ["MMVIZ_HOME"] = args.home
    if args.controls_only:
        torch.set_num_threads(1)
        found = controls()
        _add_to_bench(Path(args.out), "controls", {**found, "loadavg": os.getloadavg()})
        print(json.dumps(found, indent=1))
        return found
    if args.cross_views:
        torch.set_num_threads(1)
        found = cross_view_figures(args.cross_run)
        _add_to_bench(Path(args.out), "cross_views", found)
        return found
    store = RunStore()
    load_before = os.getloadavg()
    torch.set_num_threads(1)
    costs = step_costs(128)
    ratio = round(costs["comm3"] / costs["pairwise3"], 2)
    print(json.dumps({"ms_per_step": costs, "comm3_vs_pairwise3": ratio}), file=sys.stderr, flush=True)
    out: dict = {"bench": "triples_targets", "targets": TARGETS, "threads_per_run": 1, "batch": 128,
                 "ms_per_step": costs, "comm3_step_cost_vs_pairwise3": ratio, "loadavg_before": load_before,
                 "cpu_count": os.cpu_count(), "chance_percent": {k: 100 * v for k, v in CHANCE.items()}}
    if not args.step_cost_only:
        configs = [c for c in study_configs() if not args.only or c["name"] in args.only]
        runs = []
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(max(1, args.jobs), mp_context=get_context("spawn")) as pool:
            for run in pool.map(train_one, configs, [str(store.home)] * len(configs)):
                runs.append(run)
                print(json.dumps({k: v for k, v in run.items() if k != "history"}), file=sys.stderr, flush=True)
        out.update({"runs": runs, "summary_percent": summary(runs), "jobs": args.jobs})
        if args.package:
            out["packaged"] = package(runs, str(store.home))
    out["loadavg_after"] = os.getloadavg()
    if args.only and Path(args.out).exists():  # add these runs to the study measured before
        before = json.loads(Path(args.out).read_text())
        kept = [r for r in before.get("runs", []) if r["name"] not in args.only]
        before["runs"] = kept + out.get("runs", [])
        before["summary_percent"] = summary(before["runs"])
        before["packaged"] = sorted(set(before.get("packaged", [])) | set(out.get("packaged", [])))
        before.setdefault("added_later", []).append({"runs": args.only, "loadavg_before": load_before,
                                                     "loadavg_after": out["loadavg_after"], "ms_per_step": costs})
        out = before
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "runs"}, indent=1))
    return out


if __name__ == "__main__":
    main()
