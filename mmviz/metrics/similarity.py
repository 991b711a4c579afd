"""Similarity in an embedding's own geometry, and what it says about a set of pairs:
hardest negatives, retrieval both ways, zero-shot confusion, the modality gap and the shift
experiment, and orders of a batch that reveal its block structure.

Inputs are numpy arrays of points in one geometry (``sphere``: any non-zero vectors, read as
directions; ``euclidean``; ``poincare``; ``lorentz`` with the time coordinate first).
Scores are "larger = closer": cosine on the sphere, −distance elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from mmviz import metrics
from mmviz.geometry import HYPERBOLIC, get_geometry
from mmviz.losses import batch as batch_loss_fns

# --- similarity -----------------------------------------------------------------------------

def similarity_name(geometry: str) -> str:
    """What :func:`similarity_matrix` computes in ``geometry``, for titles."""
    return "cosine similarity" if geometry == "sphere" else "−distance"


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length. x: (N, D) non-zero rows → (N, D) float64."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def similarity_matrix(a: np.ndarray, b: np.ndarray, geometry: str, curvature: float = 1.0) -> np.ndarray:
    """Raw similarity of every a_i to every b_j: (N, D), (M, D) → (N, M) float64.

    sphere: cosine of the directions; euclidean: −‖a − b‖; poincare/lorentz: −geodesic
    distance at curvature −c (:meth:`mmviz.geometry.Geometry.pairwise_dist`, float64 inside).
    """
    if geometry == "sphere":
        return normalise(a) @ normalise(b).T
    geo = get_geometry(geometry, curvature)
    dist = geo.pairwise_dist(torch.as_tensor(np.asarray(a, np.float64)), torch.as_tensor(np.asarray(b, np.float64)))
    return -dist.numpy()


# --- metadata read back from files: missing values and flags may be strings ("nan", "False")

MISSING = frozenset({"", "nan", "none", "null", "<na>"})


def is_missing(values: pd.Series) -> np.ndarray:
    """(N,) bool: no value (None, NaN, or the strings "nan"/"None"/"" a saved file may hold)."""
    return (values.isna() | values.astype(str).str.strip().str.lower().isin(MISSING)).to_numpy()


def as_flag(values: pd.Series) -> np.ndarray:
    """(N,) bool of a flag column that may hold bools, numbers or the strings "True"/"False"."""
    return values.astype(str).str.strip().str.lower().isin({"true", "1", "1.0", "yes"}).to_numpy()


# --- hardest negatives and retrieval ----------------------------------------------------------

def hardest_negatives(lg: np.ndarray, k: int = 10, relevant: np.ndarray | None = None) -> pd.DataFrame:
    """The k rows whose hardest negative comes closest to (or beats) their positive.

    lg: (B, B) logits, positives on the diagonal; relevant: (B, B) bool, candidates that are
    also right answers (e.g. the same caption) and so are not negatives. Columns: row,
    negative (column of the hardest negative), positive_logit, negative_logit, margin
    (negative − positive: > 0 means the row retrieves a wrong partner first).
    """
    lg = np.asarray(lg, dtype=np.float64)
    masked = lg.copy()
    np.fill_diagonal(masked, -np.inf)
    if relevant is not None:
        masked[np.asarray(relevant, bool)] = -np.inf
    rows = np.flatnonzero(np.isfinite(masked).any(axis=1))
    neg = masked[rows].argmax(axis=1)
    pos_logit = lg[rows, rows]
    neg_logit = lg[rows, neg]
    frame = pd.DataFrame({"row": rows, "negative": neg, "positive_logit": pos_logit,
                          "negative_logit": neg_logit, "margin": neg_logit - pos_logit})
    return frame.sort_values("margin", ascending=False, kind="stable").head(k).reset_index(drop=True)


def recall_both_ways(scores: np.ndarray, relevant: np.ndarray,
                     ks: Sequence[int] = (1, 5, 10)) -> pd.DataFrame:
    """R@k for a→b (rows of ``scores`` as queries) and b→a (columns as queries).

    scores: (N, M), relevant: (N, M) bool. Returns a frame with index ("a→b", "b→a") and
    columns "R@k"."""
    forward = metrics.recall_at_k(scores, relevant, ks)
    backward = metrics.recall_at_k(np.asarray(scores).T, np.asarray(relevant).T, ks)
    return pd.DataFrame([{f"R@{k}": forward[k] for k in ks}, {f"R@{k}": backward[k] for k in ks}],
                        index=["a→b", "b→a"])


def recall_at_1(scores: np.ndarray, relevant: np.ndarray) -> tuple[float, float]:
    """R@1 a→b and b→a by argmax (no sort: what the shift experiment needs, fast).
    scores, relevant: (N, M). Ties go to the first candidate, as in :func:`metrics.recall_at_k`."""
    rows = np.arange(scores.shape[0])
    cols = np.arange(scores.shape[1])
    forward = relevant[rows, np.argmax(scores, axis=1)].mean()
    backward = relevant[np.argmax(scores, axis=0), cols].mean()
    return float(forward), float(backward)


def pair_relevance(meta_a: pd.DataFrame, meta_b: pd.DataFrame, text_side: int | None = 1) -> np.ndarray:
    """Which b_j are right answers for a_i: (N, M) bool, as the training evaluation counts them.

    With attributes and ``names_<attribute>`` flags (Trifeature captions): caption j is true of
    image i (``text_side`` says which of a, b holds the captions). With a ``label`` column:
    the same label. Otherwise: only the pair itself (the diagonal).
    """
    flags = [f"names_{a}" for a in metrics.ATTRIBUTES]
    cols = flags + list(metrics.ATTRIBUTES)
    if text_side is not None and all(c in meta_a and c in meta_b for c in cols):
        images, texts = (meta_a, meta_b) if text_side == 1 else (meta_b, meta_a)
        named = pd.DataFrame({a: texts[a].astype(object).where(as_flag(texts[f"names_{a}"]), None)
                              for a in metrics.ATTRIBUTES})
        true_of = metrics.attribute_entailment(images.reset_index(drop=True), named)
        return true_of if text_side == 1 else true_of.T
    if "label" in meta_a and "label" in meta_b:
        return meta_a["label"].to_numpy()[:, None] == meta_b["label"].to_numpy()[None, :]
    out = np.zeros((len(meta_a), len(meta_b)), dtype=bool)
    np.fill_diagonal(out, True)
    return out


# --- zero-shot ---------------------------------------------------------------------------------

def zero_shot_prompts(captions: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """The captions that name ``attribute`` and nothing else (e.g. "a star" for shape),
    one per class value, in the order the values first appear. Columns: position (row in
    ``captions``), value, caption."""
    captions = captions.reset_index(drop=True)
    mask = ~is_missing(captions[attribute])
    for other in metrics.ATTRIBUTES:
        if other != attribute and other in captions:
            mask &= is_missing(captions[other])
    picked = captions[mask].drop_duplicates(attribute)
    text = picked["caption"] if "caption" in picked else picked[attribute]
    return pd.DataFrame({"position": picked.index.to_numpy(), "value": picked[attribute].astype(str).to_numpy(),
                         "caption": text.astype(str).to_numpy()})


def confusion(true: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """(K, K) counts: row = true class, column = predicted class, in ``classes`` order."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for t, p in zip(true, predicted):
        if t in index and p in index:
            out[index[t], index[p]] += 1
    return out


def zero_shot(scores: np.ndarray, true: Sequence[str], classes: Sequence[str]) -> tuple[float, np.ndarray]:
    """Zero-shot classification by the best-scoring class prompt.

    scores: (N, K) similarity of N images to K class prompts; true: (N,) class names.
    Returns (accuracy, (K, K) confusion counts)."""
    predicted = np.asarray(classes)[np.argmax(scores, axis=1)]
    matrix = confusion(list(true), list(predicted), classes)
    return float(np.mean(predicted == np.asarray(true))), matrix


# --- modality gap and the shift experiment (Liang et al. 2022) -------------------------------

def gap_space(x: np.ndarray, geometry: str, curvature: float = 1.0) -> np.ndarray:
    """Where the gap is measured: unit directions on the sphere (Liang et al. normalise), the
    points themselves in Euclidean space, the tangent space at the origin (logmap0) in
    hyperbolic space. x: (N, D) → (N, D') float64."""
    if geometry == "sphere":
        return normalise(x)
    if geometry in HYPERBOLIC:
        geo = get_geometry(geometry, curvature)
        return geo.logmap0(torch.as_tensor(np.asarray(x, np.float64))).numpy()
    return np.asarray(x, dtype=np.float64)


def from_gap_space(u: np.ndarray, geometry: str, curvature: float = 1.0) -> np.ndarray:
    """Inverse of :func:`gap_space` (re-normalising on the sphere)."""
    if geometry == "sphere":
        return normalise(u)
    if geometry in HYPERBOLIC:
        geo = get_geometry(geometry, curvature)
        return geo.expmap0(torch.as_tensor(np.asarray(u, np.float64))).numpy()
    return np.asarray(u, dtype=np.float64)


def gap_vector(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Δ = mean(a) − mean(b) of points already in the gap space. a: (N, D), b: (M, D) → (D,)."""
    return np.asarray(a, np.float64).mean(axis=0) - np.asarray(b, np.float64).mean(axis=0)


def shift_modalities(a: np.ndarray, b: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Move both modalities toward each other by λ·Δ in total: a − λΔ/2 and b + λΔ/2
    (Δ = :func:`gap_vector`). λ = 1 makes the means meet, λ < 0 widens the gap.
    a: (N, D), b: (M, D) in the gap space → shifted copies (not re-normalised)."""
    delta = gap_vector(a, b)
    return np.asarray(a, np.float64) - 0.5 * lam * delta, np.asarray(b, np.float64) + 0.5 * lam * delta


def mean_batch_loss(sim: np.ndarray, tau: float, batch_size: int) -> float:
    """Symmetric InfoNCE averaged over consecutive batches of the pairs (as evaluation does).
    sim: (P, P) raw similarity of P pairs."""
    size = max(2, min(batch_size, len(sim)))
    losses = [batch_loss_fns.batch_loss(batch_loss_fns.logits(sim[s:s + size, s:s + size], tau))
              for s in range(0, len(sim) - size + 1, size)]
    return float(np.mean(losses))


def shift_experiment(a: np.ndarray, b: np.ndarray, lambdas: Sequence[float], tau: float,
                     relevant: np.ndarray, geometry: str, curvature: float = 1.0,
                     batch_size: int = 256) -> pd.DataFrame:
    """Liang et al.'s experiment: shift the paired points a, b (N, D) toward each other by λ·gap
    (in :func:`gap_space`), map back, and re-measure. Columns: lambda, gap (‖Δ‖ after the
    shift, in the gap space), r1_a_to_b, r1_b_to_a, loss (:func:`mean_batch_loss` at τ)."""
    ua, ub = gap_space(a, geometry, curvature), gap_space(b, geometry, curvature)
    rows = []
    for lam in lambdas:
        sa, sb = shift_modalities(ua, ub, float(lam))
        pa, pb = from_gap_space(sa, geometry, curvature), from_gap_space(sb, geometry, curvature)
        sim = similarity_matrix(pa, pb, geometry, curvature)
        r1_ab, r1_ba = recall_at_1(sim, relevant)
        rows.append({"lambda": float(lam),
                     "gap": float(np.linalg.norm(gap_vector(gap_space(pa, geometry, curvature),
                                                            gap_space(pb, geometry, curvature)))),
                     "r1_a_to_b": r1_ab, "r1_b_to_a": r1_ba,
                     "loss": mean_batch_loss(sim, tau, batch_size)})
    return pd.DataFrame(rows)


# --- orders that reveal block structure -------------------------------------------------------

def order_by(meta: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Stable order of the rows by the given metadata columns (first column most significant).
    meta: B rows → (B,) permutation."""
    keys = [meta[c].astype(str).to_numpy() for c in reversed(list(columns))]
    return np.lexsort(keys) if keys else np.arange(len(meta))


def cluster_order(sim: np.ndarray) -> np.ndarray:
    """Leaf order of an average-linkage clustering of the rows of a (B, B) similarity (made
    symmetric), so similar pairs sit together. → (B,) permutation."""
    from scipy.cluster.hierarchy import leaves_list, linkage

    sim = np.asarray(sim, dtype=np.float64)
    if len(sim) < 3:
        return np.arange(len(sim))
    sym = 0.5 * (sim + sim.T)
    return leaves_list(linkage(sym, method="average", metric="euclidean"))
