"""The CoMM study as shipped: R / U / S of each reference run, its form of the loss, its step count and
wall time, and how often the gradient clip at 1.0 acted (the share of logged steps whose gradient norm,
before clipping, was above 1). Reads ``assets/runs/<name>/`` (or ``--root``), trains nothing.

    python bench/comm_study_table.py [--root DIR] [--json]

Protocol (CoMM's): R and U from the run trained on unbiased pairs, S from the one on biased pairs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mmviz.models.registry import with_legacy_params  # noqa: E402

METHODS = {"cross": "Cross", "cross-self": "Cross+Self", "comm": "CoMM"}


def run_figures(folder: Path) -> dict:
    """One shipped run: its final probes, form of the loss, steps, wall time and clip share."""
    meta = json.loads((folder / "run.json").read_text())
    config = json.loads((folder / "config.json").read_text())
    params = with_legacy_params(config["model"], config.get("model_params") or {})
    metrics = pd.read_csv(folder / "metrics.csv.gz")
    grad = metrics.loc[metrics.name == "train/grad_norm", "value"]
    final = meta["final"]
    return {
        "run": folder.name, "model": config["model"], "biased": bool(config["dataset_params"].get("biased", True)),
        "R": 100 * final["probe_R"], "U1": 100 * final["probe_U1"], "U2": 100 * final["probe_U2"],
        "S": 100 * final["probe_S"], "steps": meta["steps"], "wall_min": meta["wall_s"] / 60,
        "loss_reduction": params.get("loss_reduction"), "cross_loss": params.get("cross_loss"),
        "modality_terms": params.get("modality_terms", True),
        "clip_share": float((grad > 1.0).mean()) if len(grad) else None,
        "grad_norm_median": float(grad.median()) if len(grad) else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent / "assets" / "runs"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = Path(args.root)
    rows = [run_figures(d) for d in sorted(root.iterdir())
            if (d / "config.json").exists() and json.loads((d / "config.json").read_text())["model"] in METHODS]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        form = {"comm": f"terms {row['loss_reduction']}", "cross-self": f"cross term {row['cross_loss']}"}.get(
            row["model"], "clip")
        print(f"{row['run']:22s} {form:22s} R {row['R']:5.1f} U1 {row['U1']:5.1f} U2 {row['U2']:5.1f} "
              f"S {row['S']:5.1f}  steps {row['steps']:5d}  wall {row['wall_min']:4.1f} min  "
              f"clip acted on {100 * (row['clip_share'] or 0):5.1f}% of logged steps "
              f"(median grad norm {row['grad_norm_median'] or 0:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
