"""Crossmodal generation as Baptista, Stuart & Tran frame it: the learned conditional of the field
given the tracks is p_θ(field | tracks) ∝ p(field) e^{f(tracks, field)}, so with the training flows
as samples of p(field) it is the training pool reweighted by w_j ∝ e^{scale · f(z_tracks, z_j)}.

* the **conditional mean** is Σ_j w_j truth_j (the pool's noiseless fields);
* **samples** are pool members drawn with probabilities w (importance resampling).

The pool is embedded from the fields a model sees (noisy, masked); what it returns are those
flows' noiseless fields, the archive a forecaster would reconstruct from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mmviz.data.base import PairedDataset
from mmviz.models.base import ContrastiveModel
from mmviz.runs.evaluate import embed_all


@torch.no_grad()
def embed(model: ContrastiveModel, x: np.ndarray, side: int) -> torch.Tensor:
    """A modality's array (N, ...) → its points (N, E) float32, in batches, on the CPU (eval mode)."""
    model.eval()
    return embed_all(model, torch.as_tensor(x), side, torch.device("cpu"))[0]


@dataclass
class Pool:
    """The training flows as samples of p(field): their embedded fields (Np, E), noiseless
    fields (Np, 2, G, G) and regimes (Np,)."""

    z: torch.Tensor
    truth: np.ndarray
    regimes: np.ndarray

    @classmethod
    def from_split(cls, model: ContrastiveModel, train: PairedDataset) -> Pool:
        return cls(embed(model, train.modalities["field"], 1), np.asarray(train.extras["truth"], np.float32),
                   train.metadata["regime"].to_numpy())


@torch.no_grad()
def pool_weights(model: ContrastiveModel, z_tracks: torch.Tensor, pool: Pool) -> np.ndarray:
    """w (n, Np): each query's importance weights over the pool (rows sum to 1)."""
    logits = model.scale() * model.similarity(z_tracks, pool.z)
    return torch.softmax(logits.double(), dim=1).numpy()


def conditional_mean(weights: np.ndarray, pool: Pool) -> np.ndarray:
    """(n, Np) weights → (n, 2, G, G) conditional-mean fields."""
    flat = pool.truth.reshape(len(pool.truth), -1).astype(np.float64)
    return (weights @ flat).reshape(len(weights), *pool.truth.shape[1:])


def sample_indices(weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k pool indices per query drawn with probabilities ``weights`` (n, Np) → (n, k)."""
    cdf = np.cumsum(weights, axis=1)
    u = rng.random((len(weights), k))
    return np.minimum((cdf[:, None, :] < u[..., None] * cdf[:, -1:, None]).sum(-1), weights.shape[1] - 1)


def effective_sample_size(weights: np.ndarray) -> np.ndarray:
    """1 / Σ w² per query (n,): how many pool members the conditional really rests on."""
    return 1.0 / np.square(weights).sum(1)


def regime_probabilities(weights: np.ndarray, pool: Pool, regimes: int) -> np.ndarray:
    """Classification as generation: the weighted share of each regime in the pool (n, R)."""
    onehot = np.eye(regimes)[pool.regimes]
    return weights @ onehot
