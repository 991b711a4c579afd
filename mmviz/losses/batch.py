"""What the symmetric InfoNCE loss computes on one batch, step by step, in numpy.

A batch is B pairs (a_i, b_i); ``sim`` is the (B, B) raw similarity, row i = a_i against
every b_j (cosine on the sphere, −distance in hyperbolic space). The loss divides by the
temperature τ, takes the softmax of each row (p(b_j | a_i)) and of each column
(p(a_i | b_j)), and scores −log of the diagonal. Each pair meets B − 1 negatives in its row
and B − 1 in its column: N = 2B − 2 negatives per pair.

Everything here takes and returns numpy arrays (float64 maths, float32 where a caller wants
to plot); these functions are what the Similarity page shows. The log-softmax, a million
exponentials at B = 1024, runs in torch (vectorised and multithreaded: ~4× numpy's time on
two cores), so a temperature drag stays interactive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch


def logits(sim: np.ndarray, tau: float) -> np.ndarray:
    """sim / τ. sim: (B, C) raw similarity, τ > 0 → (B, C)."""
    if not tau > 0:
        raise ValueError(f"temperature must be > 0, got {tau}")
    return np.asarray(sim, dtype=np.float64) / tau


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """Numerically stable log softmax along ``axis`` (subtracts the max: exp never overflows),
    in float64."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    return torch.log_softmax(torch.from_numpy(x), dim=axis).numpy()


def row_softmax(lg: np.ndarray) -> np.ndarray:
    """p(b_j | a_i): softmax of each row of the logits (B, C); rows sum to 1."""
    return np.exp(log_softmax(lg, axis=1))


def col_softmax(lg: np.ndarray) -> np.ndarray:
    """p(a_i | b_j): softmax of each column of the logits (B, C); columns sum to 1."""
    return np.exp(log_softmax(lg, axis=0))


def row_losses(lg: np.ndarray) -> np.ndarray:
    """Per-row InfoNCE a→b: −log p(b_i | a_i). lg: (B, B) → (B,)."""
    return -np.diagonal(log_softmax(lg, axis=1)).copy()


def col_losses(lg: np.ndarray) -> np.ndarray:
    """Per-column InfoNCE b→a: −log p(a_j | b_j). lg: (B, B) → (B,)."""
    return -np.diagonal(log_softmax(lg, axis=0)).copy()


def batch_loss(lg: np.ndarray) -> float:
    """CLIP's symmetric InfoNCE of a batch: ½ (mean row loss + mean column loss)."""
    return float(0.5 * (row_losses(lg).mean() + col_losses(lg).mean()))


def negatives_per_pair(batch_size: int) -> int:
    """N = 2B − 2: B − 1 in the pair's row, B − 1 in its column."""
    return 2 * batch_size - 2


def toy_similarity(batch_size: int, s_pos: float, s_neg: float, noise: float = 0.0,
                   seed: int = 0) -> np.ndarray:
    """A synthetic (B, B) batch: s_pos on the diagonal, s_neg off it, plus Gaussian noise of
    standard deviation ``noise``, clipped to the cosine range [−1, 1]."""
    rng = np.random.default_rng(seed)
    sim = np.full((batch_size, batch_size), float(s_neg))
    np.fill_diagonal(sim, float(s_pos))
    if noise > 0:
        sim = sim + rng.normal(0.0, noise, size=sim.shape)
    return np.clip(sim, -1.0, 1.0)


def toy_row_loss(batch_size: int, s_pos: float, s_neg: float, tau: float) -> float:
    """Closed form of every row's loss in a noiseless toy batch:
    log(1 + (B − 1) exp((s_neg − s_pos) / τ))."""
    return float(np.log1p((batch_size - 1) * np.exp((s_neg - s_pos) / tau)))


@dataclass(frozen=True)
class GradientSignal:
    """How the row losses push, per row (means over rows).

    positive_weight: 1 − p_ii, the size of ∂L_i/∂logit_ii (pull on the positive; the
    negatives' pushes p_ij add up to the same); hardest_share: max_{j≠i} p_ij / (1 − p_ii),
    the share of the push that goes to the hardest negative (1/(B − 1) when all are equal).
    """

    positive_weight: float
    hardest_share: float


def gradient_signal(lg: np.ndarray) -> GradientSignal:
    """:class:`GradientSignal` of the a→b rows of a (B, B) logit matrix."""
    p = row_softmax(lg)
    pos = np.diagonal(p).copy()
    off = p.copy()
    np.fill_diagonal(off, 0.0)
    # The negatives' own sum, not 1 − p_ii: when p_ii rounds to 1 the difference is 0 but the
    # (tiny) p_ij still say how the push is shared. The floor only guards exact underflow.
    rest = np.maximum(off.sum(axis=1), 1e-300)
    return GradientSignal(float(np.mean(1.0 - pos)), float(np.mean(off.max(axis=1) / rest)))


def loss_vs_batch_size(sim: np.ndarray, tau: float, sizes: list[int], draws: int = 8,
                       seed: int = 0) -> pd.DataFrame:
    """The loss and its gradient signal at several batch sizes, from one set of pairs.

    sim: (P, P) raw similarity of all P pairs; for each B ≤ P, ``draws`` random batches of B
    pairs (without replacement within a batch; one batch when B = P). Columns: B, negatives (2B − 2), loss (mean
    symmetric InfoNCE), loss_sd, chance (log B: the loss when every logit is equal),
    mi_bound (log B − loss, InfoNCE's lower bound on the mutual information),
    positive_weight, hardest_share (:class:`GradientSignal`).
    """
    sim = np.asarray(sim, dtype=np.float64)
    rng = np.random.default_rng(seed)
    rows = []
    for size in sorted({int(s) for s in sizes if 2 <= s <= len(sim)}):
        losses, weights, shares = [], [], []
        # A batch of every pair is the same batch however it is drawn: one draw is enough.
        for _ in range(1 if size == len(sim) else draws):
            idx = rng.choice(len(sim), size, replace=False)
            lg = logits(sim[np.ix_(idx, idx)], tau)
            losses.append(batch_loss(lg))
            signal = gradient_signal(lg)
            weights.append(signal.positive_weight)
            shares.append(signal.hardest_share)
        loss = float(np.mean(losses))
        rows.append({"B": size, "negatives": negatives_per_pair(size), "loss": loss,
                     "loss_sd": float(np.std(losses)), "chance": float(np.log(size)),
                     "mi_bound": float(np.log(size) - loss), "positive_weight": float(np.mean(weights)),
                     "hardest_share": float(np.mean(shares))})
    return pd.DataFrame(rows)
