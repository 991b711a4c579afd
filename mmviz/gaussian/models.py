"""Gaussian lab models: linear encoders with cosine, L2 and dot tilts, trained with InfoNCE or
with the probabilistic (exact conditional likelihood) loss, compared at every evaluation with
the closed-form references of :mod:`mmviz.gaussian.theory` (issue #9).

Four registered models, all on the ``gaussian`` dataset:

* ``gauss-cosine`` — CLIP-style: z/‖z‖ on the sphere, logits cos/τ with a learnable τ, InfoNCE.
* ``gauss-l2`` — logits −½‖z_u − z_v‖², InfoNCE (the scale is absorbed in G_u, G_v).
* ``gauss-dot`` — logits z_u·z_v, InfoNCE: the low-rank-approximation (mode-seeking) tilt.
* ``gauss-prob`` — the probabilistic loss: exact NLL of the learned conditional (l2 or dot tilt).

Encoders are ``G (x − μ̂)`` with the training mean μ̂ (a buffer); the training marginal
covariances Σ̂uu, Σ̂vv are buffers too (the learned conditional p(v) e^f / Z multiplies them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mmviz.data.gaussian import GaussianModel
from mmviz.gaussian import theory as gt
from mmviz.geometry import Geometry, get_geometry
from mmviz.losses.tilts import DIRECTIONS, gaussian_conditional_nll, tilt_scores, tilted_info_nce
from mmviz.models.base import ContrastiveModel
from mmviz.models.config import ContrastiveConfig, param
from mmviz.models.encoders import ModalitySpec
from mmviz.models.registry import ModelInfo, register_model

IS_QUERIES = 200  # held-out u's whose learned conditional is estimated by importance sampling
GIVEN = {"both": "u", "v|u": "u", "u|v": "v"}  # the conditional the comparisons look at


@dataclass(frozen=True)
class GaussLinearConfig:
    """Encoders and which conditional the loss fits."""

    dim: int = param(4, "int", "Latent dimension k' of the encoders G_u (k'×du), G_v (k'×dv).", min=1, max=256)
    direction: str = param("both", "choice", "Which conditional the loss fits: both (symmetric, as CLIP), "
                           "v|u or u|v.", choices=DIRECTIONS)
    encoder: str = param("linear", "choice", "linear (z = G x) or mlp (a small ReLU MLP: only the "
                         "conditionals are compared, not the forms).", choices=("linear", "mlp"), advanced=True)
    mlp_hidden: int = param(32, "int", "Hidden width of the MLP encoders.", min=2, max=1024, advanced=True)
    init_scale: float = param(0.3, "float", "Initial weights ~ N(0, init_scale²/input dim).", min=0.0,
                              max=10.0, advanced=True)

    tilt = "l2"
    loss = "infonce"


@dataclass(frozen=True)
class GaussCosineConfig(GaussLinearConfig):
    """CLIP-style cosine tilt with a learnable temperature."""

    init_temperature: float = param(0.2, "float", "Initial temperature τ (logits cos/τ).", min=0.01, max=10.0)
    learn_temperature: bool = param(True, "bool", "Learn the temperature.", advanced=True)
    max_logit_scale: float = param(100.0, "float", "Upper bound of 1/τ.", min=1.0, max=1000.0, advanced=True)

    tilt = "cosine"

    def __post_init__(self) -> None:
        if 1.0 / self.init_temperature > self.max_logit_scale:
            raise ValueError(f"init_temperature {self.init_temperature:g} gives a logit scale above "
                             f"max_logit_scale {self.max_logit_scale:g}")


@dataclass(frozen=True)
class GaussL2Config(GaussLinearConfig):
    """L2-distance tilt, InfoNCE."""

    tilt = "l2"


@dataclass(frozen=True)
class GaussDotConfig(GaussLinearConfig):
    """Inner-product tilt, InfoNCE."""

    tilt = "dot"


@dataclass(frozen=True)
class GaussProbConfig(GaussLinearConfig):
    """The probabilistic loss: exact likelihood of the learned Gaussian conditional."""

    tilt: str = param("l2", "choice", "Tilt: l2 (reproduces the conditional covariance) or dot "
                      "(reproduces the conditional mean only).", choices=("l2", "dot"))

    loss = "conditional"

    def __post_init__(self) -> None:
        if self.encoder != "linear":
            raise ValueError("the probabilistic loss needs linear encoders (its normaliser is "
                             "closed form only for Gaussian encodings)")


def _encoder(d_in: int, config: GaussLinearConfig) -> nn.Module:
    if config.encoder == "mlp":
        return nn.Sequential(nn.Linear(d_in, config.mlp_hidden), nn.ReLU(), nn.Linear(config.mlp_hidden, config.dim))
    layer = nn.Linear(d_in, config.dim, bias=False)
    nn.init.normal_(layer.weight, std=config.init_scale / math.sqrt(d_in))
    return layer


class GaussLinear(ContrastiveModel):
    """Two linear (or MLP) encoders and a tilt; :meth:`loss` is InfoNCE or the exact NLL."""

    def __init__(self, inputs: tuple[ModalitySpec, ModalitySpec], config: GaussLinearConfig) -> None:
        nn.Module.__init__(self)
        if any(spec.kind != "vector" for spec in inputs):
            raise ValueError("the Gaussian lab models take two vector modalities")
        self.inputs, self.config = inputs, config
        self.tilt, self.loss_kind = config.tilt, config.loss
        self.geometry_name = "sphere" if self.tilt == "cosine" else "euclidean"
        self.dims = (int(inputs[0].shape[0]), int(inputs[1].shape[0]))
        self.encoders = nn.ModuleList(_encoder(d, config) for d in self.dims)
        for side, d in enumerate(self.dims):
            self.register_buffer(f"mean_{side}", torch.zeros(d))
            self.register_buffer(f"cov_{side}", torch.eye(d))
        learn = isinstance(config, GaussCosineConfig) and config.learn_temperature
        start = math.log(1.0 / config.init_temperature) if isinstance(config, GaussCosineConfig) else 0.0
        self.logit_scale = nn.Parameter(torch.tensor(start), requires_grad=learn)
        self.gather = None
        self._refs: dict[int, gt.Reference | None] = {}

    # --- data statistics ---------------------------------------------------------------------

    @torch.no_grad()
    def set_marginals(self, u: Tensor, v: Tensor) -> None:
        """Store the training means and covariances (float32 buffers) of u (N, du), v (N, dv)."""
        for side, x in enumerate((u, v)):
            x = x.double()
            mean = x.mean(0)
            centred = x - mean
            cov = centred.T @ centred / max(1, len(x) - 1)
            getattr(self, f"mean_{side}").copy_(mean)
            getattr(self, f"cov_{side}").copy_(cov)

    def see_training_data(self, inputs: list[Tensor]) -> None:
        """The training marginals, from the whole training split (the loop calls this once)."""
        self.set_marginals(*inputs)

    def marginals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(μ̂u, μ̂v, Σ̂uu, Σ̂vv) as float64 numpy arrays."""
        return tuple(getattr(self, n).detach().double().cpu().numpy()  # type: ignore[return-value]
                     for n in ("mean_0", "mean_1", "cov_0", "cov_1"))

    # --- embedding ---------------------------------------------------------------------------

    def features(self, x: Tensor, side: int) -> Tensor:
        return self.encoders[side](x.float() - getattr(self, f"mean_{side}"))

    def project(self, features: Tensor, side: int) -> Tensor:
        """Unit vectors for the cosine tilt; the features themselves otherwise."""
        if self.tilt == "cosine":
            return features / features.norm(dim=1, keepdim=True).clamp_min(1e-12)  # 0 stays 0, no NaN
        return features

    def geometry(self) -> Geometry:
        return get_geometry(self.geometry_name)

    def similarity(self, za: Tensor, zb: Tensor) -> Tensor:
        return tilt_scores(za, zb, self.tilt)

    def scale(self) -> Tensor:
        if self.tilt != "cosine":
            return torch.ones((), device=self.logit_scale.device)
        return self.logit_scale.clamp(max=math.log(self.config.max_logit_scale)).exp()

    @torch.no_grad()
    def constrain_(self) -> None:
        if self.tilt == "cosine":
            self.logit_scale.clamp_(max=math.log(self.config.max_logit_scale))

    # --- loss --------------------------------------------------------------------------------

    def encoder_matrices(self) -> tuple[Tensor, Tensor] | None:
        """(G_u (k', du), G_v (k', dv)) of linear encoders, else None."""
        if self.config.encoder != "linear":
            return None
        return self.encoders[0].weight, self.encoders[1].weight

    def loss(self, za: Tensor, zb: Tensor, gather: Any = None) -> dict[str, Tensor]:
        direction = self.config.direction
        if self.loss_kind == "conditional":
            G_u, G_v = self.encoder_matrices()  # type: ignore[misc]
            S_a = G_u @ self.cov_0 @ G_u.T
            S_b = G_v @ self.cov_1 @ G_v.T
            value = gaussian_conditional_nll(za, zb, S_a, S_b, self.tilt, direction)
            return {"contrastive": value, "loss": value}
        logits_a, logits_b, offset = self.scaled_logits(za, zb, gather)
        value = tilted_info_nce(logits_a, logits_b, direction, offset)
        return {"contrastive": value, "loss": value}

    # --- the learned conditional ------------------------------------------------------------

    @torch.no_grad()
    def score(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Scaled tilt f(u_i, v_j) for data u (m, du), v (M, dv) → (m, M) float64."""
        za = self.embed(torch.as_tensor(u, dtype=torch.float32), 0)
        zb = self.embed(torch.as_tensor(v, dtype=torch.float32), 1)
        return (self.scale() * self.similarity(za, zb)).double().numpy()

    def gaussian_conditional(self, given: str = "u") -> gt.Conditional | None:
        """The learned conditional in closed form (linear encoders, l2/dot tilt), else None."""
        mats = self.encoder_matrices()
        if mats is None or self.tilt not in gt.GAUSSIAN_TILTS:
            return None
        _, _, cov_u, cov_v = self.marginals()
        G_u, G_v = (m.detach().double().cpu().numpy() for m in mats)
        return gt.learned_conditional(G_u, G_v, self.tilt, cov_u, cov_v, given)

    def generate(self, u: np.ndarray, n: int, rng: np.random.Generator, pool: np.ndarray) -> np.ndarray:
        """n samples of the learned p_θ(v | u) for one u (du,): closed form where Gaussian, else
        importance resampling of ``pool`` (M, dv), samples of the marginal p(v). → (n, dv)."""
        cond = self.gaussian_conditional("u")
        if cond is not None:
            mean_u, mean_v, _, _ = self.marginals()
            return gt.sample_gaussian_conditional(cond, mean_v, mean_u, u, n, rng)
        return gt.importance_resample(self.score, u, pool, n, rng)

    def reference(self, truth: GaussianModel) -> gt.Reference | None:
        """The closed-form reference of this model's tilt and direction (None for the cosine tilt:
        its numerical optimum takes seconds; the bench computes it)."""
        key = id(truth)
        if key not in self._refs:
            self._refs[key] = (gt.reference(truth, self.tilt, self.config.direction, self.config.dim)
                               if self.tilt in gt.GAUSSIAN_TILTS else None)
        return self._refs[key]

    @torch.no_grad()
    def extra_eval(self, ev: Any, za: Tensor, zb: Tensor, device: torch.device) -> dict[str, float]:
        """Comparisons with the truth: principal angles (deg) of the learned form's subspaces vs
        the canonical ones, the form's relative error vs the reference, the learned conditional's
        mean/covariance errors and implied canonical correlations ``rho_i``."""
        truth = ev.data.extras.get("model")
        if not isinstance(truth, GaussianModel) or truth.class_means is not None:
            return {}
        was_device = next(self.parameters()).device
        self.cpu()
        try:
            return compare(self, truth, ev.data.modalities["u"], ev.data.modalities["v"])
        finally:
            self.to(was_device)


def compare(model: GaussLinear, truth: GaussianModel, u: np.ndarray, v: np.ndarray) -> dict[str, float]:
    """The comparisons of :meth:`GaussLinear.extra_eval` on held-out u (N, du), v (N, dv)."""
    out: dict[str, float] = {}
    given = GIVEN[model.config.direction]
    rank = min(model.config.dim, max(1, gt.shared_rank(truth)))
    cc = gt.canonical(truth)
    mats = model.encoder_matrices()
    if mats is not None:
        G_u, G_v = (m.detach().double().cpu().numpy() for m in mats)
        W = G_u.T @ G_v
        su, sv = gt.form_subspaces(W, truth, rank)
        out["angle_u_max"] = float(gt.principal_angles_deg(su, cc.A[:, :rank]).max())
        out["angle_v_max"] = float(gt.principal_angles_deg(sv, cc.B[:, :rank]).max())
        ref = model.reference(truth)
        if ref is not None:
            out["form_rel_err"] = gt.form_relative_error(W, ref.W, truth)
    true_cond = gt.true_conditional(truth, given)
    cov_given = truth.cov_uu if given == "u" else truth.cov_vv
    cond = model.gaussian_conditional(given)
    if cond is not None:
        coef, covs = cond.coef, cond.cov[None]
    else:
        coef, covs = _importance_moments(model, np.asarray(u, np.float64), np.asarray(v, np.float64), given)
    out["cond_mean_rel_err"] = gt.mean_relative_error(coef, true_cond.coef, cov_given)
    out["cond_cov_rel_err"] = float(np.mean([gt.shared_cov_relative_error(c, truth, given) for c in covs]))
    rhos = gt.implied_correlations(coef, truth, given)
    for i, value in enumerate(rhos[:rank]):
        out[f"rho_{i + 1}"] = float(value)
    return out


def _importance_moments(model: GaussLinear, u: np.ndarray, v: np.ndarray, given: str) -> tuple[np.ndarray, np.ndarray]:
    """Regression matrix of the importance-sampled conditional means on the queries, and the
    conditional covariances: (dx, dy), (m, dx, dx). Queries: the first IS_QUERIES rows; the
    proposal pool: the other rows' partner modality (so no query sees its own pair)."""
    m = min(IS_QUERIES, len(u) // 2)
    queries, pool = (u[:m], v[m:]) if given == "u" else (v[:m], u[m:])
    score = model.score if given == "u" else (lambda a, b: model.score(b, a).T)
    means, covs, _ = gt.importance_conditional(score, queries, pool)
    mean_u, mean_v, _, _ = model.marginals()
    mx, my = (mean_v, mean_u) if given == "u" else (mean_u, mean_v)
    coef = np.linalg.lstsq(queries - my, means - mx, rcond=None)[0].T
    return coef, covs


# --- the same tilts on real data: digits images ↔ their label captions --------------------------

@dataclass(frozen=True)
class TiltConfig(ContrastiveConfig):
    """A CLIP-style two-tower model (CNN + text encoder) with a choice of tilt."""

    tilt: str = param("cosine", "choice", "Alignment score: cosine (CLIP, on the sphere), l2 (−½‖z_u − z_v‖²/τ) "
                      "or dot (z_u·z_v/τ).", choices=("cosine", "l2", "dot"))
    direction: str = param("both", "choice", "Which conditional InfoNCE fits: both, v|u (text given image) "
                           "or u|v.", choices=DIRECTIONS)


class TiltContrastive(ContrastiveModel):
    """The tilts of the Gaussian lab on images and captions: retrieval is the mode of the learned
    conditional, zero-shot classification the retrieval of the label's captions."""

    def __init__(self, inputs: tuple[ModalitySpec, ModalitySpec], config: TiltConfig) -> None:
        super().__init__(inputs, config)
        self.geometry_name = "sphere" if config.tilt == "cosine" else "euclidean"

    def geometry(self) -> Geometry:
        return get_geometry(self.geometry_name)

    def project(self, features: Tensor, side: int) -> Tensor:
        if self.config.tilt == "cosine":
            return features / features.norm(dim=1, keepdim=True).clamp_min(1e-12)  # 0 stays 0, no NaN
        return features

    def similarity(self, za: Tensor, zb: Tensor) -> Tensor:
        return tilt_scores(za, zb, self.config.tilt)

    def loss(self, za: Tensor, zb: Tensor, gather: Any = None) -> dict[str, Tensor]:
        logits_a, logits_b, offset = self.scaled_logits(za, zb, gather)
        value = tilted_info_nce(logits_a, logits_b, self.config.direction, offset)
        return {"contrastive": value, "loss": value}


def class_scores(model: ContrastiveModel, images: Tensor, prompts: Tensor) -> Tensor:
    """Classification as retrieval: scaled tilt of each image (B, C, H, W) against each class's
    captions, averaged over the T templates of ``prompts`` (T, K, L) → (B, K)."""
    za = model.embed(images, 0)
    total = sum(model.scale() * model.similarity(za, model.embed(prompts[t], 1)) for t in range(len(prompts)))
    return total / len(prompts)


def finetune_classifier(model: ContrastiveModel, images: Tensor, labels: Tensor, prompts: Tensor,
                        steps: int = 100, lr: float = 2e-4, batch: int = 128, seed: int = 0) -> list[float]:
    """The fine-tuning step of crossmodal classification: a few Adam steps of cross-entropy over the
    K class captions (the retrieval candidates restricted to the task). Trains ``model`` in place;
    returns the losses."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, len(images), (batch,), generator=gen)
        loss = torch.nn.functional.cross_entropy(class_scores(model, images[idx], prompts), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


@torch.no_grad()
def classification_accuracy(model: ContrastiveModel, images: Tensor, labels: Tensor, prompts: Tensor) -> float:
    """Accuracy of argmax over :func:`class_scores`."""
    model.eval()
    return float((class_scores(model, images, prompts).argmax(1) == labels).float().mean())


register_model(ModelInfo("tilt", "Tilt lab on digits: CNN + caption encoder with a cosine, L2 or dot tilt "
                         "(Baptista, Stuart & Tran); zero-shot accuracy = classification as retrieval.",
                         "euclidean", TiltConfig, TiltContrastive, datasets=("digits",)))


for _name, _desc, _geom, _cfg in (
    ("gauss-cosine", "Gaussian lab: linear encoders, cosine tilt on the sphere (CLIP-style InfoNCE, learnable τ).",
     "sphere", GaussCosineConfig),
    ("gauss-l2", "Gaussian lab: linear encoders, L2-distance tilt −½‖z_u − z_v‖², InfoNCE.",
     "euclidean", GaussL2Config),
    ("gauss-dot", "Gaussian lab: linear encoders, inner-product tilt z_u·z_v, InfoNCE (a low-rank approximation).",
     "euclidean", GaussDotConfig),
    ("gauss-prob", "Gaussian lab: the probabilistic loss — exact likelihood of the learned conditional "
     "(L2 or dot tilt).", "euclidean", GaussProbConfig),
):
    # Linear encoders on whitened data: a large step, and no weight decay (it shrinks the learned
    # forms away from the closed-form reference).
    register_model(ModelInfo(_name, _desc, _geom, _cfg, GaussLinear, datasets=("gaussian",),
                             train_defaults=(("lr", 0.1), ("weight_decay", 0.0), ("warmup_steps", 50),
                                             ("steps", 1500), ("batch_size", 512), ("eval_every", 150))))
