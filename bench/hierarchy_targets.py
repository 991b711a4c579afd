"""Hierarchy lab targets (issue #10), printed as one JSON object.

    python bench/hierarchy_targets.py            # construction sweep + trained 2, 5, 10 dims
    python bench/hierarchy_targets.py --quick    # construction sweep + trained 2-D only

1. The combinatorial construction of WordNet mammals in 2-D: MAP on the direct edges against τ,
   in float64 and in high precision (mpmath). Target: ≥ 0.99 (Sala et al. 2018: 0.989 on WordNet).
2. Trained embeddings through the engine (``train_run`` on a temporary store, one thread, the
   models' default settings): closure MAP of Poincaré vs Euclidean at each dimension, the wall
   time of the 2-D mammal run and the step where its closure MAP reached 95 % of its final value.
   Reference: Nickel & Kiela 2017 Table 1 (WordNet *nouns*, 82k synsets, not the mammal subtree).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from mmviz.data.registry import load  # noqa: E402
from mmviz.runs.loop import train_run  # noqa: E402
from mmviz.runs.store import RunStore  # noqa: E402
from mmviz.runs.train_config import resolve_config  # noqa: E402
from mmviz.trees.lab import precision_sweep  # noqa: E402

NICKEL_KIELA_2017_NOUNS = {  # Table 1, WordNet nouns reconstruction: MAP (mean rank)
    "poincare": {5: (0.823, 4.9), 10: (0.851, 4.02)},
    "euclidean": {5: (0.024, 3542.3), 10: (0.059, 2286.9)},
}
SALA_2018_WORDNET_2D_MAP = 0.989


def construction(dataset: str) -> dict:
    h = load(dataset)
    sweep = precision_sweep(h, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0])
    best = {p: part.loc[part["map_edges"].idxmax()] for p, part in sweep.groupby("precision")}
    return {
        "dataset": dataset, "nodes": len(h),
        "sweep": sweep.round(4).to_dict("records"),
        "best_float64": {"tau": float(best["float64"]["tau"]), "map_edges": float(best["float64"]["map_edges"])},
        "best_high_precision": {"tau": float(best["high (mpmath)"]["tau"]),
                                "map_edges": float(best["high (mpmath)"]["map_edges"]),
                                "bits": int(best["high (mpmath)"]["bits"])},
        "target_map_edges": 0.99, "sala_2018_wordnet_2d": SALA_2018_WORDNET_2D_MAP,
    }


def trained(dataset: str, model: str, dim: int, steps: int | None) -> dict:
    with tempfile.TemporaryDirectory() as home:
        store = RunStore(home)
        config = {"dataset": dataset, "model": model, "model_params": {"dim": dim}, "threads": 1, "device": "cpu"}
        if steps:
            config["steps"] = steps
        config = resolve_config(config)
        run_id = store.create_run(config, dataset=dataset, model=model, total_steps=config["steps"])
        start = time.perf_counter()
        status = train_run(store, run_id)
        seconds = time.perf_counter() - start
        curve = store.metrics(run_id, names=["eval/map_closure"])
        latest = {k: v["value"] for k, v in store.latest_metrics(run_id).items()}
        final = latest.get("eval/map_closure", float("nan"))
        plateau = curve[curve["value"] >= 0.95 * final]["step"].min() if len(curve) else None
        store.close()
    return {"model": model, "dim": dim, "status": status, "steps": config["steps"], "seconds": round(seconds, 1),
            "steps_to_95pct_of_final_map": int(plateau) if plateau is not None else None,
            **{k.split("/", 1)[1]: round(v, 4) for k, v in latest.items() if k.startswith("eval/")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="trained runs in 2-D only")
    parser.add_argument("--dataset", default="wordnet-mammal")
    parser.add_argument("--steps", type=int, default=None, help="override the models' default steps")
    parser.add_argument("--skip-construction", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out: dict = {"bench": "hierarchy_targets", "loadavg_start": os.getloadavg()}
    if not args.skip_construction:
        out["construction"] = construction(args.dataset)
    dims = [2] if args.quick else [2, 5, 10]
    runs = [trained(args.dataset, model, dim, args.steps)
            for dim in dims for model in ("poincare-embed", "euclid-embed")]
    out["trained"] = runs
    out["nickel_kiela_2017_table1_nouns"] = NICKEL_KIELA_2017_NOUNS
    out["loadavg_end"] = os.getloadavg()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
