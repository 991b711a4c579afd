"""How much the R/U/S probes' own sample size caps what they read, on one stored run.

    python bench/probe_size.py                          # the shipped unbiased CoMM run
    python bench/probe_size.py --run runs/20261204-…    # any trifeature-pairs run folder

Embeds ``--pairs`` unbiased test pairs (default 8,192, a new test split of the run's dataset
with more pairs) with the run's checkpoint, then fits the U probe (texture of image 1, on the
S = 0 pairs) and the R probe (shape) on the first n of them with 2 and 5 cross-fitting folds.
Prints one JSON object: accuracies in %, the load average and the seconds each probe took.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from mmviz.data.registry import load  # noqa: E402
from mmviz.metrics.probes import linear_probe, probe_subsets  # noqa: E402
from mmviz.runs.loop import model_from_checkpoint  # noqa: E402

DEFAULT_RUN = Path(__file__).resolve().parent.parent / "assets" / "runs" / "comm-unbiased"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=DEFAULT_RUN, help="a run folder (config.json + checkpoint)")
    ap.add_argument("--pairs", type=int, default=8192, help="unbiased test pairs to embed")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all cores)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    config = json.loads((args.run / "config.json").read_text())
    model = model_from_checkpoint(config, args.run)
    data = load("trifeature-pairs", "test", **{**config["dataset_params"], "n_test": args.pairs})
    tensors = data.torch_dataset().tensors
    start = time.perf_counter()
    feats = model.probe_features(tensors["image1"], tensors["image2"])
    embed_s = time.perf_counter() - start
    meta = data.metadata
    u, texture1, shape = probe_subsets(meta)["U"], meta.unique1.to_numpy(), meta.share.to_numpy()
    rows = []
    for pairs in (2048, 4096, args.pairs):
        if pairs > args.pairs:
            continue
        s0 = u[u < pairs]  # the S = 0 pairs among the first ``pairs``
        for folds in (2, 5):
            start = time.perf_counter()
            acc_u = linear_probe(feats[s0], texture1[s0], folds=folds)
            acc_r = linear_probe(feats[:pairs], shape[:pairs], folds=folds)
            rows.append({"test_pairs": pairs, "u_pairs": len(s0), "folds": folds,
                         "u_fitted_on": len(s0) * (folds - 1) // folds,
                         "U1": round(100 * acc_u, 1), "R": round(100 * acc_r, 1),
                         "seconds": round(time.perf_counter() - start, 2)})
    out = {"bench": "probe_size", "run": str(args.run), "model": config["model"],
           "biased": config["dataset_params"].get("biased"), "embed_seconds": round(embed_s, 1),
           "probes": rows, "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
