"""The Beyond-pairs targets (#26): unlearning a concept, negation, composition.

    python bench/beyond_targets.py [--home DIR] [--adopt]

* Unlearning: from the reference CLIP and MERU runs, forget ``color:red`` with each method
  (runs.unlearn_params.UNLEARN_PROTOCOL: 150 steps, half forget / half retain pairs), timed
  on this machine. Target: forget accuracy within 5 points of the gold standard (the same
  model retrained without red: ref-clip-no-red / ref-meru-no-red), retain accuracy within 5
  points of the original, in at most 120 s. Plus the membership-inference AUC.
* Negation: the reference runs and their negation fine-tunes (30% negated captions, 400
  steps) on the ranking questions; target: the fine-tune ≥ 90% (balanced) on held-out negations.
* Composition: held-out-combination runs (ref-*-heldout) against the reference runs on
  seen and unseen attribute triples, parents' cones and depths, attribute offsets.

Writes assets/beyond/bench.json. ``--adopt`` packages the shipped children (the first
passing unlearning method per model, and the negation fine-tunes) as gallery runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmviz.beyond import composition, negation, unlearning  # noqa: E402
from mmviz.beyond.common import STUDY_IMAGES, study_images  # noqa: E402
from mmviz.data.registry import load  # noqa: E402
from mmviz.gallery.build import adopt_run  # noqa: E402
from mmviz.gallery.entries import FORGET_CONCEPT, get_entry  # noqa: E402
from mmviz.gallery.install import install_references  # noqa: E402
from mmviz.paths import ASSETS  # noqa: E402
from mmviz.runs.lineage import child_config, negation_changes, negation_name  # noqa: E402
from mmviz.runs.loop import load_run_model, train_run  # noqa: E402
from mmviz.runs.store import RunStore  # noqa: E402
from mmviz.runs.train_config import resolve_config  # noqa: E402
from mmviz.runs.unlearn import unlearn_config  # noqa: E402
from mmviz.runs.unlearn_params import METHODS  # noqa: E402

OUT = ASSETS / "beyond" / "bench.json"
BUDGET_S = 120.0
TOLERANCE = 0.05
MODELS = ("clip", "meru")


def _train(store: RunStore, config: dict) -> tuple[str, float]:
    config = resolve_config({**config, "device": "cpu"})
    run_id = store.create_run(config, dataset=config["dataset"], model=config["model"],
                              total_steps=config["steps"], status="running")
    start = time.perf_counter()
    status = train_run(store, run_id)
    wall = time.perf_counter() - start
    if status != "finished":
        raise SystemExit(f"error: run {run_id} {status}: {store.get_run(run_id).get('error')}")
    return run_id, wall


def _round(obj):
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="run store (default: a temporary folder)")
    parser.add_argument("--adopt", action="store_true", help="package the shipped children as gallery runs")
    args = parser.parse_args()
    home = args.home or tempfile.mkdtemp(prefix="mmviz-beyond-")
    store = RunStore(home)
    install_references(store)
    test = study_images()
    train = load("trifeature-captions", "train", **{**STUDY_IMAGES, "n": 50_000})
    result: dict = {"machine": {"cores": os.cpu_count(), "load": os.getloadavg()[0]},
                    "concept": FORGET_CONCEPT, "study_images": len(test)}

    # --- unlearning
    unlearn_rows, chosen = [], {}
    for model_name in MODELS:
        original, _ = load_run_model(store, f"ref-{model_name}")
        gold, _ = load_run_model(store, f"ref-{model_name}-no-red")
        base = unlearning.unlearning_summary(original, test, FORGET_CONCEPT, train)
        gold_summary = unlearning.unlearning_summary(gold, test, FORGET_CONCEPT, train)
        unlearn_rows += [{"model": model_name, "method": "original", **base},
                         {"model": model_name, "method": "gold standard (retrained)", **gold_summary}]
        for method, until_chance in ((m, u) for u in (True, False) for m in METHODS):
            run_id, wall = _train(store, unlearn_config(store, f"ref-{model_name}", concept=FORGET_CONCEPT,
                                                        method=method, until_chance=until_chance))
            child, _ = load_run_model(store, run_id)
            summary = unlearning.unlearning_summary(child, test, FORGET_CONCEPT, train)
            forget_gap = abs(summary["forget_acc"] - gold_summary["forget_acc"])
            retain_drop = base["retain_acc"] - summary["retain_acc"]
            passed = forget_gap <= TOLERANCE and abs(retain_drop) <= TOLERANCE and wall <= BUDGET_S
            unlearn_rows.append({"model": model_name, "method": method, "until_chance": until_chance,
                                 "run": run_id, "wall_s": wall,
                                 "forget_gap_to_gold": forget_gap, "retain_drop": retain_drop,
                                 "passes": passed, **summary})
            if passed and model_name not in chosen:
                chosen[model_name] = (method, until_chance, run_id)
            stops = "until chance" if until_chance else "to the end"
            print(f"unlearn {model_name} {method} ({stops}): forget {summary['forget_acc']:.3f} (gold "
                  f"{gold_summary['forget_acc']:.3f}), retain {summary['retain_acc']:.3f} (original "
                  f"{base['retain_acc']:.3f}), MIA AUC {summary['mia_auc']:.3f}, {wall:.0f} s "
                  f"{'PASS' if passed else 'miss'}", flush=True)
    result["unlearning"] = unlearn_rows

    # --- negation
    negation_rows, depth_rows, negation_runs = [], [], {}
    for model_name in MODELS:
        run_id, wall = _train(store, child_config(store, f"ref-{model_name}", name=negation_name(f"ref-{model_name}"),
                                                  **negation_changes()))
        negation_runs[model_name] = run_id
        for label, rid in (("reference", f"ref-{model_name}"), ("fine-tuned with negations", run_id)):
            model, _ = load_run_model(store, rid)
            summary = negation.negation_summary(negation.negation_questions(model, test))
            for row in summary.to_dict("records"):
                negation_rows.append({"model": model_name, "variant": label, **row,
                                      **({"wall_s": wall} if rid == run_id else {})})
            for row in negation.negation_depths(model).to_dict("records"):
                depth_rows.append({"model": model_name, "variant": label, **row})
        held = [r for r in negation_rows if r["model"] == model_name and r["negations"] == "held-out"]
        print(f"negation {model_name}: held-out balanced {held[0]['balanced']:.3f} → {held[1]['balanced']:.3f} "
              f"({wall:.0f} s)", flush=True)
    result["negation"] = negation_rows
    result["negation_depths"] = depth_rows

    # --- composition
    comp_rows, struct_rows, offset_rows = [], [], []
    for model_name in MODELS:
        for label, rid in (("all triples", f"ref-{model_name}"), ("80% of triples", f"ref-{model_name}-heldout")):
            model, _ = load_run_model(store, rid)
            for row in composition.combination_accuracy(model, test).to_dict("records"):
                comp_rows.append({"model": model_name, "trained on": label, **row})
            for row in composition.structure_summary(composition.parent_structure(model)).to_dict("records"):
                struct_rows.append({"model": model_name, "trained on": label, **row})
            offset_rows.append({"model": model_name, "trained on": label, **composition.offset_transfer(model)})
        unseen = [r for r in comp_rows if r["model"] == model_name and r["trained on"] == "80% of triples"]
        print(f"composition {model_name}: triple accuracy seen {unseen[0]['triple']:.3f} unseen "
              f"{unseen[1]['triple']:.3f}", flush=True)
    result["composition"] = comp_rows
    result["structure"] = struct_rows
    result["offsets"] = offset_rows

    OUT.parent.mkdir(parents=True, exist_ok=True)
    def plain(o):
        return o.item() if isinstance(o, np.generic) else str(o)

    OUT.write_text(json.dumps(_round(result), indent=1, default=plain))
    print(f"wrote {OUT}")
    if args.adopt:
        for model_name, (method, until_chance, run_id) in chosen.items():
            entry = get_entry(f"{model_name}-unlearn-red")
            shipped = entry.config["unlearn"]
            if (shipped["method"], shipped.get("until_chance", True)) != (method, until_chance):
                print(f"note: {entry.name} ships {shipped['method']}, the bench's first pass was {method} "
                      f"(until chance: {until_chance})")
                continue
            adopt_run(entry, store, run_id)
            print(f"adopted {run_id} as {entry.name}")
        for model_name, run_id in negation_runs.items():
            adopt_run(get_entry(f"{model_name}-negation"), store, run_id)
            print(f"adopted {run_id} as {model_name}-negation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
