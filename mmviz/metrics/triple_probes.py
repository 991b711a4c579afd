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

from dataclasses import dataclass

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


# --- what one masked view predicts of the other modalities (why S1 is captured and S2 is not) ---

@dataclass(frozen=True)
class CrossPrediction:
    """One cell of the cross-view read-out: a linear probe of ``attribute`` (another modality's side
    of ``relation``) from the fused output of the masked view that keeps only ``view`` (sides
    0 = image 1, 1 = image 2, 2 = tone), on the test examples where the relation holds."""

    key: str
    title: str
    view: tuple[int, ...]
    attribute: str
    relation: str


CROSS_PREDICTIONS = (
    CrossPrediction("1→c2", "image 1 → colour 2 (S1)", (0,), "color2_id", "synergy12"),
    CrossPrediction("1→bass", "image 1 → bass (S2)", (0,), "bass_id", "synergy123"),
    CrossPrediction("2→bass", "image 2 → bass (S2)", (1,), "bass_id", "synergy123"),
    CrossPrediction("12→bass", "images 1 + 2 → bass (S2)", (0, 1), "bass_id", "synergy123"),
    CrossPrediction("3→bass", "tone → bass (its own)", (2,), "bass_id", "synergy123"),
)
"""S1's other side is one attribute relabelled (colour 2 = mapping[texture 1]), so image 1's view
alone can carry it, and CoMM's image-1 term asks it to. S2's (the bass = colour 1 + texture 2
mod 10) is uniform given either image, so no single-modality view can; only a view of both images
can compute it, and CoMM's loss has no such view. The tone's own bass is the ceiling. (Image 2 →
texture 1 is left out: it is colour 2 relabelled, which any view of image 2 reads perfectly.)"""
CROSS_CHANCE = 0.1
"""Every cell reads a 10-class attribute."""


def cross_views() -> tuple[tuple[int, ...], ...]:
    """The masked views :data:`CROSS_PREDICTIONS` read, each once, in order."""
    return tuple(dict.fromkeys(cell.view for cell in CROSS_PREDICTIONS))


def cross_view_predictions(features: dict[tuple[int, ...], np.ndarray], meta: pd.DataFrame,
                           seed: int = 0) -> dict[str, float]:
    """Probe accuracy (fraction) of each :data:`CROSS_PREDICTIONS` cell.

    features: masked view (sides) → (N, F) fused features of the N test examples in ``meta``
    (every view of :func:`cross_views`)."""
    out = {}
    for cell in CROSS_PREDICTIONS:
        idx = np.flatnonzero(meta[cell.relation].to_numpy() == 1)
        out[cell.key] = linear_probe(features[cell.view][idx], meta[cell.attribute].to_numpy()[idx], seed=seed)
    return out
