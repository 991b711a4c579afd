"""R/U/S probes of the three-modality study (``trifeature-triples``): one redundancy, three
uniquenesses, a two-modality synergy S1 and a three-modality synergy S2.

The probes are :func:`mmviz.metrics.probes.linear_probe` (balanced accuracy, 5-fold
cross-fitting). Probe hygiene, as for pairs (each has a control in the tests):

* **R** = shape (= pitch), on every test example.
* **U1** = texture of image 1 on the examples where S1 does *not* hold: on S1 = 1, colour 2 gives
  it away. **U2** = texture of image 2 where S2 does not hold: on S2 = 1, bass − colour 1 does.
  **U3** = rhythm, in no relation, on every example.
* **S1** on a subset balanced within each (shape, colour 2) cell; **S2** balanced within each
  (shape, bass) cell, so no single attribute or cell frequency predicts either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmviz.metrics.probes import linear_probe, synergy_balanced_subset

PROBES = ("R", "U1", "U2", "U3", "S1", "S2")
CHANCE = {"R": 0.1, "U1": 0.1, "U2": 0.1, "U3": 0.1, "S1": 0.5, "S2": 0.5}
LABELS = {"R": "share", "U1": "unique1", "U2": "unique2", "U3": "unique3", "S1": "synergy12", "S2": "synergy123"}
ATTRIBUTE_COLUMNS = ("shape1_id", "texture1_id", "color1_id", "texture2_id", "color2_id", "rhythm_id", "bass_id")
"""The seven independent attributes of a triple (image 2 and the tone share image 1's shape)."""
MODALITY_COLUMNS = {
    "image1": ("shape1_id", "texture1_id", "color1_id"),
    "image2": ("shape1_id", "texture2_id", "color2_id"),
    "tone": ("shape1_id", "rhythm_id", "bass_id"),
}
"""What each modality shows."""


def triple_probe_subsets(meta: pd.DataFrame, seed: int = 0) -> dict[str, np.ndarray]:
    """Which test examples each probe reads (sorted int64 indices), as in the module doc."""
    everything = np.arange(len(meta))
    return {
        "R": everything,
        "U1": np.flatnonzero(meta["synergy12"].to_numpy() == 0),
        "U2": np.flatnonzero(meta["synergy123"].to_numpy() == 0),
        "U3": everything,
        "S1": synergy_balanced_subset(meta, seed, "synergy12", ("shape1_id", "color2_id")),
        "S2": synergy_balanced_subset(meta, seed, "synergy123", ("shape1_id", "bass_id")),
    }


def triple_probes(features: np.ndarray, meta: pd.DataFrame, seed: int = 0) -> dict[str, float]:
    """Probe accuracies (fractions) R, U1, U2, U3, S1, S2 of features (N, F) of the examples in ``meta``."""
    subsets = triple_probe_subsets(meta, seed)
    return {name: linear_probe(features[idx], meta[LABELS[name]].to_numpy()[idx], seed=seed)
            for name, idx in subsets.items()}
