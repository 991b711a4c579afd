"""Contrastive models of the data-assimilation lab: drifter tracks ↔ the gridded flow.

* the **track encoder** is a set encoder (Deep Sets): every observation — a step of a drifter,
  its midpoint x and displacement Δ — is mapped to features φ(x, Δ), averaged over all drifters
  and steps, and the mean goes through an MLP. The average does not depend on the order of the
  drifters (nor on how many there are: a model trained with 16 drifters reads 4 or 64). φ's input
  is the Fourier features of x (sin, cos of k·x for |k_x|, |k_y| ≤ ``fourier``), Δ and their
  products Δ ⊗ features: their mean is what a spectral estimate of the flow would start from.
* the **field encoder** is a small CNN with circular padding (the domain is periodic) over
  (u, v, observed mask), flattened into an MLP (a flow's eddies are where they are: no global
  pooling).

Two registered models:

* ``ocean-clip``: CLIP's InfoNCE on the sphere with a learnable temperature.
* ``ocean-prob``: the lab's probabilistic loss with the L2 tilt f = −½‖z_u − z_v‖²: the likelihood
  of the learned conditional p(v) e^f / Z(u) with Z computed in closed form, as in the Gaussian
  lab, for encodings taken as Gaussian with the batch's mean and covariance (the encoders here
  are not linear, so that is an approximation the Gaussian lab does not need).

Crossmodal generation (the field given the tracks) is :mod:`mmviz.ocean.generation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mmviz.data.registry import load
from mmviz.geometry import Geometry, get_geometry
from mmviz.losses.tilts import gaussian_conditional_nll, tilt_scores
from mmviz.models.base import ContrastiveModel
from mmviz.models.config import param
from mmviz.models.encoders import ModalitySpec
from mmviz.models.registry import ModelInfo, register_model
from mmviz.ocean import generation as gen

TRAIN_DEFAULTS = (("steps", 3000), ("batch_size", 256), ("lr", 2e-3), ("weight_decay", 1e-4),
                  ("warmup_steps", 100), ("eval_every", 250), ("checkpoint_every", 500))


@dataclass(frozen=True)
class OceanConfig:
    """Encoder sizes and the temperature (the probabilistic model has none)."""

    dim: int = param(32, "int", "Embedding dimension.", min=2, max=512)
    hidden: int = param(64, "int", "Width of the track encoder's per-observation MLP and of both heads.",
                        min=8, max=1024)
    fourier: int = param(3, "int", "Fourier features of drifter positions up to this wavenumber.", min=1, max=8)
    cnn_width: int = param(16, "int", "Channels of the field CNN's first block (the second has twice as many).",
                           min=4, max=256)
    init_temperature: float = param(0.1, "float", "Initial temperature τ (ocean-clip).", min=0.01, max=10.0)
    learn_temperature: bool = param(True, "bool", "Learn the temperature (ocean-clip).", advanced=True)
    max_logit_scale: float = param(100.0, "float", "Upper bound of 1/τ.", min=1.0, max=1000.0, advanced=True)
    augment: bool = param(True, "bool", "Train on randomly translated copies of each pair (the periodic ocean "
                          "looks the same shifted: tracks moved by whole grid cells, the field rolled with them).")

    loss = "infonce"


@dataclass(frozen=True)
class OceanProbConfig(OceanConfig):
    """The probabilistic loss (L2 tilt)."""

    loss = "probabilistic"


def fourier_wavevectors(kmax: int) -> np.ndarray:
    """Integer k with |k_x|, |k_y| ≤ kmax, one of each ±k pair: (((2 kmax + 1)² − 1) / 2, 2)."""
    ks = [(kx, ky) for kx in range(0, kmax + 1) for ky in range(-kmax, kmax + 1) if kx > 0 or ky > 0]
    return np.array(ks, dtype=np.float32)


class TrackEncoder(nn.Module):
    """Deep Sets over observations: tracks (B, D, T + 1, 2) → (B, out)."""

    def __init__(self, kmax: int, hidden: int, out: int) -> None:
        super().__init__()
        self.register_buffer("k", torch.from_numpy(fourier_wavevectors(kmax)), persistent=False)
        n_feat = 2 * len(self.k)
        self.phi = nn.Sequential(nn.Linear(n_feat + 2 + 2 * n_feat, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU())
        self.rho = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out))

    def observations(self, tracks: Tensor) -> Tensor:
        """Per-observation inputs of φ: (B, D, T + 1, 2) → (B, D·T, features)."""
        tracks = tracks.float()
        mid = 0.5 * (tracks[:, :, 1:] + tracks[:, :, :-1]).flatten(1, 2)
        step = (tracks[:, :, 1:] - tracks[:, :, :-1]).flatten(1, 2)
        theta = mid @ self.k.T
        feats = torch.cat([theta.sin(), theta.cos()], dim=-1)
        products = torch.cat([step[..., :1] * feats, step[..., 1:] * feats], dim=-1)
        return torch.cat([feats, step, products], dim=-1)

    def forward(self, tracks: Tensor) -> Tensor:
        return self.rho(self.phi(self.observations(tracks)).mean(1))


class FieldEncoder(nn.Module):
    """A small CNN with circular padding: field (B, 3, G, G) → (B, out)."""

    def __init__(self, channels: int, size: int, width: int, hidden: int, out: int) -> None:
        super().__init__()

        def conv(a: int, b: int) -> nn.Conv2d:
            return nn.Conv2d(a, b, 3, padding=1, padding_mode="circular")

        pooled = size // 2
        self.net = nn.Sequential(
            conv(channels, width), nn.ReLU(), conv(width, width), nn.ReLU(), nn.AvgPool2d(2),
            conv(width, 2 * width), nn.ReLU(), nn.Flatten(),
            nn.Linear(2 * width * pooled * pooled, hidden), nn.ReLU(), nn.Linear(hidden, out),
        )

    def forward(self, field: Tensor) -> Tensor:
        return self.net(field.float())


class OceanContrastive(ContrastiveModel):
    """Tracks (side 0) and field (side 1); the cosine tilt with InfoNCE, or the L2 tilt with the
    probabilistic loss."""

    def __init__(self, inputs: tuple[ModalitySpec, ModalitySpec], config: OceanConfig) -> None:
        nn.Module.__init__(self)
        tracks, field = inputs
        if len(tracks.shape) != 3 or tracks.shape[-1] != 2 or len(field.shape) != 3:
            raise ValueError("the ocean models take tracks (drifters, steps + 1, 2) and a field (channels, G, G)")
        self.inputs, self.config = inputs, config
        self.probabilistic = config.loss == "probabilistic"
        self.geometry_name = "euclidean" if self.probabilistic else "sphere"
        self.encoders = nn.ModuleList([
            TrackEncoder(config.fourier, config.hidden, config.dim),
            FieldEncoder(field.shape[0], field.shape[1], config.cnn_width, config.hidden, config.dim),
        ])
        learn = config.learn_temperature and not self.probabilistic
        start = 0.0 if self.probabilistic else math.log(1.0 / config.init_temperature)
        self.logit_scale = nn.Parameter(torch.tensor(start), requires_grad=learn)
        self.gather = None

    def forward(self, a: Tensor, b: Tensor) -> dict[str, Tensor]:
        if self.training and self.config.augment:
            a, b = translate(a, b)
        return super().forward(a, b)

    def project(self, features: Tensor, side: int) -> Tensor:
        if self.probabilistic:
            return features
        return features / features.norm(dim=1, keepdim=True).clamp_min(1e-12)

    def geometry(self) -> Geometry:
        return get_geometry(self.geometry_name)

    def similarity(self, za: Tensor, zb: Tensor) -> Tensor:
        return tilt_scores(za, zb, "l2" if self.probabilistic else "cosine")

    def scale(self) -> Tensor:
        if self.probabilistic:
            return torch.ones((), device=self.logit_scale.device)
        return super().scale()

    def extra_eval(self, ev: Any, za: Tensor, zb: Tensor, device: torch.device) -> dict[str, float]:
        """Generation on the held-out flows: the conditional mean's RMSE relative to climatology
        (``gen_rel_rmse``), regime accuracy (``gen_regime_acc``) and the weights' median
        effective sample size (``gen_ess``), over the training pool."""
        test = ev.data
        if "truth" not in test.extras:
            return {}
        train = load(test.name, "train", **test.params)  # from the dataset cache
        was_device = next(self.parameters()).device
        self.cpu()
        try:
            pool = gen.Pool.from_split(self, train)
            weights = gen.pool_weights(self, za.cpu(), pool)
        finally:
            self.to(was_device)
        n = len(za)
        truth = np.asarray(test.extras["truth"][:n], np.float64)
        clim = pool.truth.mean(0)
        err = np.mean((gen.conditional_mean(weights, pool) - truth) ** 2)
        regimes = test.metadata["regime"].to_numpy()[:n]
        probs = gen.regime_probabilities(weights, pool, int(test.params["regimes"]))
        return {"gen_rel_rmse": float(np.sqrt(err / np.mean((clim - truth) ** 2))),
                "gen_regime_acc": float(np.mean(probs.argmax(1) == regimes)),
                "gen_ess": float(np.median(gen.effective_sample_size(weights)))}

    def loss(self, za: Tensor, zb: Tensor, gather: Any = None) -> dict[str, Tensor]:
        if not self.probabilistic:
            return super().loss(za, zb, gather)
        value = probabilistic_loss(za, zb)
        return {"contrastive": value, "loss": value}


def translate(tracks: Tensor, field: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Each pair moved by its own random whole number of grid cells (i, j): tracks (B, D, T + 1, 2)
    shifted by (i, j)·2π/G, the field (B, C, G, G) rolled by i columns and j rows. The flows' law is
    the same everywhere on the periodic square, so the moved pair is another draw of the data."""
    size = field.shape[-1]
    shift = torch.randint(0, size, (len(field), 2), generator=generator).to(field.device)
    ar = torch.arange(size, device=field.device)
    cols = (ar[None, :] - shift[:, :1]) % size  # new column x reads old column x − i
    rows = (ar[None, :] - shift[:, 1:]) % size
    batch = torch.arange(len(field), device=field.device)[:, None, None, None]
    chan = torch.arange(field.shape[1], device=field.device)[None, :, None, None]
    moved = field[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]
    offset = (2 * math.pi / size) * shift.to(tracks.dtype)
    return tracks + offset[:, None, None, :], moved


def _batch_cov(z: Tensor) -> Tensor:
    centred = z - z.mean(0)
    return centred.T @ centred / max(1, len(z) - 1)


def probabilistic_loss(za: Tensor, zb: Tensor) -> Tensor:
    """The symmetric probabilistic loss of paired encodings za, zb (B, k) under the L2 tilt, each
    side's encodings taken as N(batch mean, batch covariance); a scalar."""
    cov_a, cov_b = _batch_cov(za), _batch_cov(zb)
    mean_a, mean_b = za.mean(0), zb.mean(0)
    # The L2 tilt is shift-invariant: centring both sides on the partner's mean puts the
    # partner's encodings at N(0, S), the form gaussian_conditional_nll is written for.
    v_given_u = gaussian_conditional_nll(za - mean_b, zb - mean_b, cov_a, cov_b, "l2", "v|u")
    u_given_v = gaussian_conditional_nll(za - mean_a, zb - mean_a, cov_a, cov_b, "l2", "u|v")
    return 0.5 * (v_given_u + u_given_v)


register_model(ModelInfo(
    "ocean-clip", "Data-assimilation lab: drifter tracks (set encoder) ↔ gridded flow (CNN), CLIP's InfoNCE "
    "on the sphere.", "sphere", OceanConfig, OceanContrastive, datasets=("ocean-drifters",),
    train_defaults=TRAIN_DEFAULTS))
register_model(ModelInfo(
    "ocean-prob", "Data-assimilation lab: the same encoders trained with the probabilistic loss (L2 tilt, "
    "closed-form normaliser for Gaussian encodings).", "euclidean", OceanProbConfig, OceanContrastive,
    datasets=("ocean-drifters",), train_defaults=TRAIN_DEFAULTS))
