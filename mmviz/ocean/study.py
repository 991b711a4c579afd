"""One evaluation of the data-assimilation lab on a test split: retrieval, reconstruction,
regime classification and spread against skill, for a contrastive model and the baselines.
The bench, the page and the training loop's held-out metrics all read it from here.

Methods, and what each one's figures use:

* ``contrastive``: the model's conditional mean over the training pool (:mod:`~mmviz.ocean.generation`);
* ``oi``: optimal interpolation with the training ensemble's covariance;
* ``exact``: the exact (Gaussian-mixture) conditional of the linearised problem, an oracle;
* ``climatology``: the prior mean;
* ``analog``: an oracle bound on any generator that reweights the training flows (the analog
  method of data assimilation): the mean of the ``ANALOGS`` training flows nearest the truth.

Retrieval ("which flow produced these tracks") among the test split's observed fields: the model
ranks by its similarity; the baseline ``misfit`` ranks by ‖y − H f_j‖², the drifter velocities
against each candidate's observed field interpolated at the drifters (masked cells read as the
climatological 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from mmviz.data.base import PairedDataset
from mmviz.metrics import recall_at_k
from mmviz.models.base import ContrastiveModel
from mmviz.ocean import generation as gen
from mmviz.ocean.assimilation import Assimilator, interpolation_matrix, observations

SAMPLES = 16  # generated fields per query for spread and skill
ANALOGS = 8  # training flows nearest the truth that the analog bound averages


def rmse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-flow RMSE of fields (n, 2, G, G) → (n,)."""
    return np.sqrt(np.mean((np.asarray(a, np.float64) - b) ** 2, axis=(1, 2, 3)))


def analog_bound(truth: np.ndarray, pool_truth: np.ndarray, k: int = ANALOGS) -> np.ndarray:
    """The mean of the k pool fields nearest each true field: (n, 2, G, G), (Np, 2, G, G) → (n, 2, G, G)."""
    t = truth.reshape(len(truth), -1).astype(np.float64)
    p = pool_truth.reshape(len(pool_truth), -1).astype(np.float64)
    out = np.empty_like(t)
    for lo in range(0, len(t), 256):
        part = t[lo:lo + 256]
        d = (part**2).sum(1)[:, None] - 2.0 * part @ p.T + (p**2).sum(1)[None, :]
        nearest = np.argpartition(d, min(k, len(p) - 1), axis=1)[:, :k]
        out[lo:lo + 256] = p[nearest].mean(1)
    return out.reshape(truth.shape)


def misfit_scores(test: PairedDataset, dt: float) -> np.ndarray:
    """(n, n) −‖y_i − H_i f_j‖² of query tracks i against candidate observed fields j."""
    tracks, fields = test.modalities["tracks"], test.modalities["field"][:, :2]
    n, size = len(test), fields.shape[-1]
    flat = fields.reshape(n, -1).astype(np.float64)
    scores = np.empty((n, n))
    for i in range(n):
        pts, _, y = observations(tracks[i], dt)
        pred = flat @ interpolation_matrix(pts % (2 * np.pi), size).T  # (n, K)
        scores[i] = -np.square(pred - y).sum(1)
    return scores


@dataclass
class Evaluation:
    """Figures of one model and the baselines on a test split (every array is per test flow)."""

    r1: dict[str, float]
    rel_rmse: dict[str, float]
    regime_acc: dict[str, float]
    errors: dict[str, np.ndarray]  # method → (n,) RMSE
    spread: np.ndarray  # (n,) contrastive ensemble spread
    ess: np.ndarray  # (n,) effective sample size of the importance weights
    fields: dict[str, np.ndarray] = field(default_factory=dict)  # method → (n, 2, G, G)
    top5: np.ndarray | None = None  # (n, 5) the model's retrieved test flows per query
    top5_scores: np.ndarray | None = None  # (n, 5) their scaled similarities


def evaluate_lab(model: ContrastiveModel, train: PairedDataset, test: PairedDataset, *,
                 assimilator: Assimilator | None = None, with_misfit: bool = True,
                 seed: int = 0) -> Evaluation:
    """Everything the lab reports for ``model`` on ``test`` (fields kept for the page's maps)."""
    assim = assimilator or Assimilator.fit(train)
    truth = np.asarray(test.extras["truth"], np.float64)
    tracks = test.modalities["tracks"]
    z_tracks = gen.embed(model, tracks, 0)
    z_fields = gen.embed(model, test.modalities["field"], 1)
    with torch.no_grad():
        scores = (model.scale() * model.similarity(z_tracks, z_fields)).numpy()
    relevant = np.eye(len(test), dtype=bool)
    r1 = {"contrastive": float(recall_at_k(scores, relevant)[1])}
    if with_misfit:
        r1["misfit"] = float(recall_at_k(misfit_scores(test, assim.dt), relevant)[1])
    pool = gen.Pool.from_split(model, train)
    weights = gen.pool_weights(model, z_tracks, pool)
    fields = {
        "contrastive": gen.conditional_mean(weights, pool),
        "oi": np.array([assim.optimal_interpolation(t) for t in tracks]),
        "climatology": np.broadcast_to(assim.climatology(), truth.shape),
        "analog": analog_bound(truth, pool.truth),
    }
    posteriors = [assim.exact_posterior(t) for t in tracks]
    fields["exact"] = np.array([assim.coef_to_grid(c) for c, _ in posteriors])
    errors = {m: rmse(f, truth) for m, f in fields.items()}
    clim = np.sqrt(np.mean(errors["climatology"] ** 2))
    rel = {m: float(np.sqrt(np.mean(e**2)) / clim) for m, e in errors.items()}
    regimes = test.metadata["regime"].to_numpy()
    n_regimes = len(assim.basis.variances)
    regime_acc = {
        "contrastive": float(np.mean(gen.regime_probabilities(weights, pool, n_regimes).argmax(1) == regimes)),
        "exact": float(np.mean(np.array([p.argmax() for _, p in posteriors]) == regimes)),
    }
    rng = np.random.default_rng(seed)
    idx = gen.sample_indices(weights, SAMPLES, rng)
    samples = pool.truth[idx].astype(np.float64)  # (n, S, 2, G, G)
    spread = np.sqrt(np.mean((samples - fields["contrastive"][:, None]) ** 2, axis=(1, 2, 3, 4)))
    top5 = np.argsort(-scores, axis=1)[:, :5]
    return Evaluation(r1, rel, regime_acc, errors, spread, gen.effective_sample_size(weights), fields, top5,
                      np.take_along_axis(scores, top5, axis=1))


def spread_skill_bins(spread: np.ndarray, skill: np.ndarray, bins: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Mean spread and mean RMSE in ``bins`` equal-count bins of spread: (bins,), (bins,)."""
    order = np.argsort(spread)
    parts = np.array_split(order, bins)
    return (np.array([spread[p].mean() for p in parts if len(p)]),
            np.array([np.sqrt(np.mean(skill[p] ** 2)) for p in parts if len(p)]))
