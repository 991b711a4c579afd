"""Linear probes for redundancy, uniqueness and synergy (R/U/S) on Trifeature pairs (CoMM).

A probe is a scikit-learn logistic regression on standardised frozen features, scored by
balanced accuracy with 5-fold stratified cross-fitting (fit on four fifths, score the rest,
average), so every test pair is scored once and chance is 1/classes whatever the class sizes.

The probe's own sample size caps what it reads (``bench/probe_size.py``): on the unbiased CoMM
reference run, U (texture 1 on the S = 0 pairs) was 64.9% fitted on 516 pairs (2,048 test pairs,
2 folds), 70.0% on 826 (2,048, 5 folds), 73.3% on 1,620 (4,096, 5 folds) and 77.5% on 3,276
(8,192, 5 folds), while R stayed at 99.9–100%. So the models' probes read up to ``probe_pairs``
pairs of the test split, not only the evaluation subset, with :data:`FOLDS` folds.

Probe hygiene (leaks measured while building this; each has a control in the tests):

* **R** = shape (shared by both images), on every test pair.
* **U** = texture of image 1 (``U1``; ``U2`` for image 2), on the test pairs where the mapping
  does *not* hold (S = 0): on S = 1 pairs colour 2 gives texture 1 away.
* **S** = whether ``mapping[texture 1] == colour 2``, on a subset balanced within each
  (shape, colour 2) cell, so no single attribute or cell frequency predicts it.
"""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

FOLDS = 5
"""Cross-fitting folds of every probe (bench/probe_size.py measures what more folds buy)."""

CHANCE = {"R": 0.1, "U": 0.1, "S": 0.5}
"""Chance level of each probe (balanced accuracy): 10 shapes, 10 textures, 2 outcomes."""

PAPER = {
    "Cross": {"R": 100.0, "U": 11.6, "S": 50.0},
    "Cross+Self": {"R": 99.7, "U": 86.9, "S": 50.0},
    "FactorCL": {"R": 99.8, "U": 62.5, "S": 46.5},
    "CoMM": {"R": 99.9, "U": 87.8, "S": 71.9},
}
"""CoMM's Table (bimodal Trifeature, linear probe accuracy in %)."""

ATTRIBUTE_COLUMNS = ("shape1_id", "texture1_id", "color1_id", "texture2_id", "color2_id")
"""The five independent attributes of a pair (image 2 shares image 1's shape)."""


def linear_probe(x: np.ndarray, y: np.ndarray, folds: int = FOLDS, seed: int = 0, c: float = 1.0,
                 max_iter: int = 300) -> float:
    """Balanced accuracy of a logistic-regression probe, cross-fitted over ``folds`` folds.

    x: (N, F) features; y: (N,) integer labels. NaN when a class has fewer than ``folds``
    samples or only one class is present.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2 or counts.min() < folds:
        return float("nan")
    scores = []
    split = StratifiedKFold(folds, shuffle=True, random_state=seed)
    # One BLAS thread: these problems are small, and multi-threaded BLAS on cores shared with
    # training waits on busy cores (measured: 3.4 s with 2 threads vs 0.34 s with 1 at load 7).
    with threadpool_limits(limits=1):
        for train, test in split.split(x, y):
            scores.append(_fit_score(x[train], y[train], x[test], y[test], c, max_iter))
    return float(np.mean(scores))


def _fit_score(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
               c: float, max_iter: int) -> float:
    """Balanced accuracy on the test half of a probe fitted on the train half."""
    scaler = StandardScaler().fit(x_train)
    clf = LogisticRegression(C=c, max_iter=max_iter)
    with warnings.catch_warnings():
        # a few hundred lbfgs iterations are enough for a probe; not converging to the last
        # digit changes nothing that is reported
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(scaler.transform(x_train), y_train)
    return float(balanced_accuracy_score(y_test, clf.predict(scaler.transform(x_test))))


def synergy_balanced_subset(meta: pd.DataFrame, seed: int = 0, label: str = "synergy",
                            cells: tuple[str, str] = ("shape1_id", "color2_id")) -> np.ndarray:
    """Indices of a subset with as many ``label`` = 1 as = 0 rows in every cell of ``cells``
    (by default: S in every (shape, colour 2) cell of the pairs). Returns sorted int64.
    """
    rng = np.random.default_rng(seed)
    keep = []
    for _, cell in meta.groupby(list(cells)).indices.items():
        s = meta[label].to_numpy()[cell]
        pos, neg = cell[s == 1], cell[s == 0]
        k = min(len(pos), len(neg))
        if k:
            keep += [rng.choice(pos, k, replace=False), rng.choice(neg, k, replace=False)]
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, np.int64)


def probe_subsets(meta: pd.DataFrame, seed: int = 0) -> dict[str, np.ndarray]:
    """Which pairs each probe uses: ``R`` all, ``U`` those with S = 0, ``S`` the balanced subset."""
    return {
        "R": np.arange(len(meta)),
        "U": np.flatnonzero(meta["synergy"].to_numpy() == 0),
        "S": synergy_balanced_subset(meta, seed),
    }


def rus_probes(features: np.ndarray, meta: pd.DataFrame, seed: int = 0) -> dict[str, float]:
    """R, U1, U2 and S probe accuracies (fractions) of features (N, F) of the pairs in ``meta``."""
    sub = probe_subsets(meta, seed)
    col = {k: meta[k].to_numpy() for k in ("share", "unique1", "unique2", "synergy")}
    return {
        "R": linear_probe(features[sub["R"]], col["share"][sub["R"]], seed=seed),
        "U1": linear_probe(features[sub["U"]], col["unique1"][sub["U"]], seed=seed),
        "U2": linear_probe(features[sub["U"]], col["unique2"][sub["U"]], seed=seed),
        "S": linear_probe(features[sub["S"]], col["synergy"][sub["S"]], seed=seed),
    }


# --- label controls: what the true labels alone let a probe do -------------------------------

def one_hot(meta: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> np.ndarray:
    """One-hot codes of integer columns (values 0..9), concatenated: (N, 10 · len(columns))."""
    return np.concatenate([np.eye(10)[meta[c].to_numpy()] for c in columns], axis=1)


def pair_products(meta: pd.DataFrame, pairs: list[tuple[str, str]]) -> np.ndarray:
    """One-hot codes of the joint value of each pair of columns: (N, 100 · len(pairs))."""
    return np.concatenate([np.eye(100)[meta[a].to_numpy() * 10 + meta[b].to_numpy()] for a, b in pairs],
                          axis=1)


def leak_pairs() -> list[tuple[str, str]]:
    """Every pair of attributes except texture 1 × colour 2 (the one that *is* the synergy)."""
    return [p for p in combinations(ATTRIBUTE_COLUMNS, 2) if set(p) != {"texture1_id", "color2_id"}]
