"""Calibrating the synthetic ocean before fixing its defaults (issue #25): the baselines alone
(no training) on candidate settings, so that the default is neither trivial nor hopeless.

For each setting and 4 / 16 drifters: retrieval R@1 of the misfit baseline among the held-out
flows, and the RMSE relative to climatology of optimal interpolation and of the exact conditional.
2,000 training flows (the prior ensemble), ``--test`` held-out flows. Prints one JSON line per row.
Usage: ``python bench/ocean_calibration.py [--test 300]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SETTINGS = {
    "first draft (dt 0.15, 8 steps, position noise 0.02, field noise 0.5, 50% masked)":
        dict(dt=0.15, steps=8, pos_noise=0.02, field_noise=0.5, mask=0.5),
    "noisier drifters (position noise 0.1)": dict(dt=0.15, steps=8, pos_noise=0.1, field_noise=0.5, mask=0.5),
    "sparser in time (dt 0.4, 4 steps)": dict(dt=0.4, steps=4, pos_noise=0.02, field_noise=0.5, mask=0.5),
    "noisier, sparser grid (field noise 1.0, 70% masked)": dict(dt=0.15, steps=8, pos_noise=0.02, field_noise=1.0,
                                                                 mask=0.7),
    "default (dt 0.3, 6 steps, position noise 0.05, field noise 1.0, 70% masked)": {},
    "hard (dt 0.6, 3 steps, position noise 0.1, field noise 1.5, 80% masked)":
        dict(dt=0.6, steps=3, pos_noise=0.1, field_noise=1.5, mask=0.8),
}


def main() -> None:
    from mmviz.data import ocean
    from mmviz.metrics import recall_at_k
    from mmviz.ocean.assimilation import Assimilator
    from mmviz.ocean.study import misfit_scores

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=int, default=300)
    args = parser.parse_args()
    for label, setting in SETTINGS.items():
        for drifters in (4, 16):
            params = dict(n=2000, n_test=args.test, drifters=drifters, **setting)
            train, test = ocean.load_ocean("train", **params), ocean.load_ocean("test", **params)
            assim = Assimilator.fit(train)
            truth = test.extras["truth"].astype(np.float64)
            clim = np.sqrt(np.mean((truth - assim.climatology()) ** 2))
            oi = np.array([assim.optimal_interpolation(t) for t in test.modalities["tracks"]])
            exact = np.array([assim.exact_conditional(t) for t in test.modalities["tracks"]])
            r1 = recall_at_k(misfit_scores(test, assim.dt), np.eye(len(test), dtype=bool))[1]
            print(json.dumps({"setting": label, "drifters": drifters, "misfit_r1": round(float(r1), 3),
                              "oi_rel_rmse": round(float(np.sqrt(np.mean((truth - oi) ** 2)) / clim), 3),
                              "exact_rel_rmse": round(float(np.sqrt(np.mean((truth - exact) ** 2)) / clim), 3)}),
                  flush=True)


if __name__ == "__main__":
    main()
