"""Evaluation metrics on embeddings: retrieval, zero-shot accuracy, alignment/uniformity,
modality gap, and the hierarchy metrics of MERU (distance from the origin per caption
level, the entailment chain, Spearman of level against that distance with its ceiling).

Inputs are numpy arrays; scores are "larger = closer" (cosine, or −distance). A caption's
*depth* is whatever measures specificity in the model's geometry: the distance from the
origin for hyperbolic embeddings, the raw pre-normalisation norm for CLIP.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

ATTRIBUTES: tuple[str, ...] = ("shape", "texture", "color")


# --- retrieval and classification ------------------------------------------------------------

def recall_at_k(scores: np.ndarray, relevant: np.ndarray, ks: Sequence[int] = (1, 5)) -> dict[int, float]:
    """Fraction of queries with a relevant candidate among their top k.

    scores: (Q, C) query-by-candidate scores; relevant: (Q, C) bool, which candidates are
    correct answers (the paired item and any item equivalent to it). Ties are broken by
    candidate order. Returns {k: recall}.
    """
    order = np.argsort(-scores, axis=1, kind="stable")
    hits = np.take_along_axis(relevant, order, axis=1)
    first_hit = np.where(hits.any(axis=1), hits.argmax(axis=1), scores.shape[1])
    return {k: float(np.mean(first_hit < k)) for k in ks}


def zero_shot_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of predicting ``argmax`` over classes. scores: (N, K), labels: (N,) in [0, K)."""
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def attribute_entailment(images: pd.DataFrame, captions: pd.DataFrame,
                         attributes: Sequence[str] = ATTRIBUTES) -> np.ndarray:
    """Which captions are true of which images: (N_images, N_captions) bool.

    A caption names an attribute where its column holds a value (None/NaN = not named) and is
    true of an image iff every attribute it names equals the image's.
    """
    out = np.ones((len(images), len(captions)), dtype=bool)
    for attr in attributes:
        named = captions[attr].notna().to_numpy()
        match = images[attr].to_numpy()[:, None] == captions[attr].to_numpy()[None, :]
        out &= match | ~named[None, :]
    return out


# --- sphere geometry (Wang & Isola 2020; Liang et al. 2022) -----------------------------------

def alignment(x: np.ndarray, y: np.ndarray, alpha: float = 2.0) -> float:
    """Mean ‖x_i − y_i‖^α over positive pairs. x, y: (N, D) unit vectors."""
    return float(np.mean(np.linalg.norm(x - y, axis=1) ** alpha))


def uniformity(x: np.ndarray, t: float = 2.0) -> float:
    """log mean over pairs i < j of exp(−t ‖x_i − x_j‖²). x: (N, D) unit vectors, N ≥ 2."""
    x = np.asarray(x, dtype=np.float64)
    sq = np.maximum(2.0 - 2.0 * (x @ x.T), 0.0)  # ‖a − b‖² = 2 − 2⟨a, b⟩ for unit vectors
    values = -t * sq[np.triu_indices(len(x), k=1)]
    peak = values.max()
    return float(peak + np.log(np.mean(np.exp(values - peak))))  # log-mean-exp, no underflow


def modality_gap(x: np.ndarray, y: np.ndarray) -> float:
    """‖mean(x) − mean(y)‖ (Liang et al.'s modality gap). x: (N, D), y: (M, D)."""
    return float(np.linalg.norm(x.mean(axis=0) - y.mean(axis=0)))


# --- hierarchy: depth per level, the chain, Spearman -----------------------------------------

def mean_by_level(depth: np.ndarray, levels: np.ndarray) -> dict[int, float]:
    """Mean depth per level. depth, levels: (M,). Returns {level: mean}."""
    return {int(lv): float(depth[levels == lv].mean()) for lv in np.unique(levels)}


def chain_fraction(image_depth: np.ndarray, caption_depth: np.ndarray, caption_levels: np.ndarray,
                   entails: np.ndarray, levels: Sequence[int] = (1, 2, 3)) -> float:
    """Fraction of images whose entailing captions get deeper level by level, then the image.

    For image i: m_l = mean depth of the captions of level l that are true of it; the chain
    holds if m_1 < m_2 < ... < depth(image i). Images without an entailing caption at some
    level do not satisfy it. image_depth: (N,), caption_depth/caption_levels: (M,),
    entails: (N, M) bool from :func:`attribute_entailment`.
    """
    means = []
    for lv in levels:
        mask = entails & (caption_levels == lv)[None, :]
        count = mask.sum(axis=1)
        total = (mask * caption_depth[None, :]).sum(axis=1)
        means.append(np.where(count > 0, total / np.maximum(count, 1), np.nan))
    chain = np.stack(means + [image_depth], axis=1)
    ok = np.all(np.diff(chain, axis=1) > 0, axis=1) & ~np.isnan(chain).any(axis=1)
    return float(ok.mean())


def spearman_with_ceiling(levels: np.ndarray, depth: np.ndarray) -> tuple[float, float]:
    """Spearman ρ(level, depth) and its ceiling: ρ of a perfectly ordered embedding
    (every item of a level deeper than every item of the levels below, no other ties) on
    the same levels. With ties in ``levels`` the ceiling is below 1: ~0.968 for four equal
    groups. levels, depth: (M,)."""
    rho = spearmanr(levels, depth).statistic
    perfect = np.argsort(np.argsort(levels, kind="stable"), kind="stable")  # distinct ranks, level-ordered
    return float(rho), float(spearmanr(levels, perfect).statistic)


def balanced_sample(levels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of an equal number of items of each level (the size of the smallest level),
    drawn without replacement. levels: (M,) → (L · n_min,) sorted indices."""
    values, counts = np.unique(levels, return_counts=True)
    size = counts.min()
    picks = [rng.choice(np.flatnonzero(levels == v), size, replace=False) for v in values]
    return np.sort(np.concatenate(picks))


def balanced_spearman(levels: np.ndarray, depth: np.ndarray, draws: int = 10,
                      seed: int = 0) -> tuple[float, float]:
    """Mean of :func:`spearman_with_ceiling` over ``draws`` level-balanced samples."""
    rng = np.random.default_rng(seed)
    results = [spearman_with_ceiling(levels[idx], depth[idx])
               for idx in (balanced_sample(levels, rng) for _ in range(draws))]
    rho, ceiling = np.mean(results, axis=0)
    return float(rho), float(ceiling)
