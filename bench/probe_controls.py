"""The R/U/S probes' controls (issue #13's probe hygiene), with the probes as the models use them.

    python bench/probe_controls.py                # 2,048 unbiased test pairs (as the tests)
    python bench/probe_controls.py --pairs 8192   # the study runs' test split

Prints one JSON object, accuracies in %:

* ``S_from_single_attributes``, ``S_from_pairwise_products``: a probe on the true labels (one-hot
  attributes; every pairwise product except texture 1 × colour 2) on the S subset: ~50 if the
  subset gives nothing away; ``S_from_texture1_x_colour2`` is the real thing (~100).
* ``U1_from_image2_on_S0`` (~10: image 2 says nothing of texture 1 where the mapping fails) and
  ``U1_from_image2_on_all_pairs`` (the leak that restriction removes).
* ``untrained``: R / U1 / S of untrained cross, cross-self and comm models at 32 px (the floor).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from mmviz.data.registry import load  # noqa: E402
from mmviz.data.trifeature_datasets import load_trifeature_pairs  # noqa: E402
from mmviz.metrics import probes as P  # noqa: E402
from mmviz.models.registry import build_model, model_inputs  # noqa: E402


def pct(x: float) -> float:
    return round(100 * float(x), 1)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=2048, help="unbiased test pairs")
    ap.add_argument("--untrained-pairs", type=int, default=2048, help="test pairs for the untrained models")
    args = ap.parse_args(argv)
    load_before = os.getloadavg()
    # the labels only: tiny images are rendered faster than the registry's 16 px minimum
    meta = load_trifeature_pairs("test", n_train=16, n_test=args.pairs, size=8, seed=0, biased=True,
                                 synergy_fraction=0.5, mapping_seed=0).metadata
    sub = P.probe_subsets(meta)
    s_meta, s_y = meta.iloc[sub["S"]], meta.synergy.to_numpy()[sub["S"]]
    image2 = ["shape1_id", "texture2_id", "color2_id"]
    u = sub["U"]
    out = {
        "bench": "probe_controls", "pairs": args.pairs, "folds": P.FOLDS,
        "S_from_single_attributes": pct(P.linear_probe(P.one_hot(s_meta, P.ATTRIBUTE_COLUMNS), s_y)),
        "S_from_pairwise_products": pct(P.linear_probe(P.pair_products(s_meta, P.leak_pairs()), s_y)),
        "S_from_texture1_x_colour2": pct(P.linear_probe(
            P.pair_products(s_meta, [("texture1_id", "color2_id")]), s_y)),
        "U1_from_image2_on_S0": pct(P.linear_probe(P.one_hot(meta.iloc[u], image2), meta.unique1.to_numpy()[u])),
        "U1_from_image2_on_all_pairs": pct(P.linear_probe(P.one_hot(meta, image2), meta.unique1.to_numpy())),
    }
    data = load("trifeature-pairs", "test", n_test=args.untrained_pairs)
    x = data.torch_dataset().tensors
    out["untrained"] = {}
    for name in ("cross", "cross-self", "comm"):
        torch.manual_seed(0)
        model = build_model(name, model_inputs(data))
        probes = P.rus_probes(model.probe_features(x["image1"], x["image2"]), data.metadata)
        out["untrained"][name] = {k: pct(probes[k]) for k in ("R", "U1", "S")}
    out.update({"loadavg_before": load_before, "loadavg_after": os.getloadavg()})
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
