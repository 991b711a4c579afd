"""Closed-form references for contrastive learning on jointly Gaussian pairs (issue #9).

Baptista, Stuart & Tran (2025, arXiv 2505.24134) read bimodal contrastive learning as
learning the conditionals p(v | u), p(u | v) by *tilting* the product of the marginals:

    p_θ(v | u) = p(v) exp f(u, v) / Z(u),      Z(u) = E_{v'~p(v)} exp f(u, v'),

with an alignment score f of the two encodings (cosine on the sphere, minus the L2
distance, or a plain inner product). InfoNCE with a batch of N pairs estimates Z(u) by the
mean over the batch's candidates; as N → ∞ its u→v half tends to
E_u KL(p(v | u) ‖ p_θ(v | u)) + const, so symmetric InfoNCE fits both conditionals.

Notation. u ∈ R^du, v ∈ R^dv with means μu, μv and covariance blocks Σuu, Σuv, Σvv;
ũ = u − μu, ṽ = v − μv. The whitened cross-covariance C = Σuu^{-1/2} Σuv Σvv^{-1/2}
has the SVD C = P diag(ρ) Qᵀ: ρ are the canonical correlations, A = Σuu^{-1/2} P and
B = Σvv^{-1/2} Q the canonical directions (a = Aᵀũ, b = Bᵀṽ are unit-variance variates,
independent across pairs, Cov(a_i, b_i) = ρ_i). In these coordinates b_i | a_i ~ N(ρ_i a_i, 1 − ρ_i²).

**Log density ratio.** With one pair (a, b) of correlation ρ,
log p(a, b) / p(a)p(b) = −½ log(1 − ρ²) − (ρ²(a² + b²) − 2ρab) / (2(1 − ρ²)); summing pairs,

    log p(u, v)/(p(u)p(v)) = const + ũᵀ M ṽ − ½ ũᵀ Qu ũ − ½ ṽᵀ Qv ṽ,
    M = A diag(ρ/(1−ρ²)) Bᵀ,  Qu = A diag(ρ²/(1−ρ²)) Aᵀ,  Qv = B diag(ρ²/(1−ρ²)) Bᵀ,

const = −½ Σ log(1 − ρ²) (:func:`pmi_form`). Its cross term M is the bilinear part: of rank
k = #{ρ_i > 0}. The quadratic form [[Qu, −M], [−Mᵀ, Qv]] is indefinite (per pair its
eigenvalues are ρ/(1−ρ) and −ρ/(1+ρ)), so no single tilt of the L2 kind equals the log ratio.

**Linear encoders** G_u (k'×du), G_v (k'×dv) encode z_u = G_u ũ, z_v = G_v ṽ. Tilts:

* ``dot``: f = z_uᵀ z_v. Then p_θ(v | u) = N(μv + Σvv G_vᵀG_u ũ, Σvv): the covariance is the
  marginal's whatever the encoders. E_u KL = ½‖Σuu^{1/2} W Σvv^{1/2} − C‖_F² + const with
  W = G_uᵀG_v, so the optimum (either direction, or both) is the **best rank-k' approximation**
  of C in Frobenius norm (Eckart–Young): W* = A_k' diag(ρ_1..k') B_k'ᵀ — it reproduces the
  conditional mean exactly when k' ≥ k, never the conditional covariance.
* ``l2``: f = −½‖z_u − z_v‖². f is quadratic, so p_θ(v | u) is Gaussian with precision
  Σvv⁻¹ + G_vᵀG_v and mean μv + (Σvv⁻¹ + G_vᵀG_v)⁻¹ G_vᵀG_u ũ. Fitting p(v | u) alone
  (direction ``v|u``) it is **exact** with G_u = diag(1/√(1−ρ²)) Aᵀ, G_v = diag(ρ/√(1−ρ²)) Bᵀ:
  G_vᵀG_v = Qv and G_uᵀG_v = M — the v-part of the log density ratio — so the L2 tilt reproduces
  the true conditional mean *and covariance* (rank-k' truncation keeps the top pairs, each worth
  its mutual information −½ log(1−ρ_i²)). Fitting both conditionals with one f cannot be exact
  (the form above is indefinite). Per pair, with z_u = s a, z_v = t b, the symmetric loss is
  symmetric in (s, t); at s = t = √(1/x − 1) the learned conditional is N((1 − x) a, x) and
  d/dx of the summed KLs vanishes at x² + x − 2(1 − ρ) = 0, i.e. x = (√(9 − 8ρ) − 1)/2: a
  slightly shrunk mean and a variance x ≠ 1 − ρ². That s = t and diagonal encoders are the
  minimiser is checked numerically (float64 L-BFGS on the closed-form loss) in the tests.
* ``cosine``: f = cos(z_u, z_v)/τ. p_θ(v | u) is not Gaussian (it is flat along the norm of
  z_v), so the optimum has **no closed form**: :func:`numerical_reference` minimises full-batch
  InfoNCE on a large float64 sample (``n`` pairs, learnable τ) and says so in its ``note``.
  Its conditionals are evaluated by importance sampling from the marginal
  (:func:`importance_conditional`).

The population loss of the Gaussian tilts, E KL between true and learned conditionals, is
closed form (:func:`population_loss`); so is the exact conditional negative log-likelihood
the probabilistic loss of :mod:`mmviz.losses.tilts` trains on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import subspace_angles

from mmviz.data.gaussian import GaussianModel
from mmviz.errors import MmvizError

TILTS: tuple[str, ...] = ("cosine", "l2", "dot")
DIRECTIONS: tuple[str, ...] = ("both", "v|u", "u|v")
GAUSSIAN_TILTS: tuple[str, ...] = ("l2", "dot")
"""Tilts whose learned conditional is Gaussian (closed-form conditional and loss)."""
RHO_FLOOR = 1e-12  # canonical correlations below this are treated as exactly 0 (no shared signal)


# --- matrix helpers --------------------------------------------------------------------------

def sym_power(matrix: np.ndarray, power: float) -> np.ndarray:
    """Σ^power of a symmetric positive definite (d, d) matrix (eigen-decomposition)."""
    values, vectors = np.linalg.eigh(np.asarray(matrix, dtype=np.float64))
    return (vectors * values**power) @ vectors.T


def _sym(matrix: np.ndarray) -> np.ndarray:
    return 0.5 * (matrix + matrix.T)


# --- the true joint ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Canonical:
    """CCA of the true joint: rho (r,) decreasing, A (du, r), B (dv, r), r = min(du, dv);
    P = Σuu^{1/2} A (du, r) and Q = Σvv^{1/2} B (dv, r) are orthonormal."""

    rho: np.ndarray
    A: np.ndarray
    B: np.ndarray
    P: np.ndarray
    Q: np.ndarray


def canonical(model: GaussianModel) -> Canonical:
    """Canonical correlations and directions of ``model`` (float64)."""
    rho = model.canonical_correlations
    a, b = model.canonical_directions
    return Canonical(rho, a, b, sym_power(model.cov_uu, 0.5) @ a, sym_power(model.cov_vv, 0.5) @ b)


def whitened_cross(model: GaussianModel) -> np.ndarray:
    """C = Σuu^{-1/2} Σuv Σvv^{-1/2}, shape (du, dv); its singular values are the ρ."""
    return sym_power(model.cov_uu, -0.5) @ model.cov_uv @ sym_power(model.cov_vv, -0.5)


@dataclass(frozen=True)
class PmiForm:
    """log p(u,v)/(p(u)p(v)) = const + ũᵀMṽ − ½ũᵀQu ũ − ½ṽᵀQv ṽ. M (du, dv), Qu (du, du), Qv (dv, dv)."""

    M: np.ndarray
    Qu: np.ndarray
    Qv: np.ndarray
    const: float


def pmi_form(model: GaussianModel) -> PmiForm:
    """The log density ratio as a quadratic form (Gaussian population, no classes)."""
    if model.class_means is not None:
        raise MmvizError("the closed-form references need the Gaussian population (n_classes = 0)")
    cc = canonical(model)
    one_minus = 1.0 - cc.rho**2  # > 0: the dataset keeps every ρ below rho_max < 1
    M = cc.A @ np.diag(cc.rho / one_minus) @ cc.B.T
    Qu = _sym(cc.A @ np.diag(cc.rho**2 / one_minus) @ cc.A.T)
    Qv = _sym(cc.B @ np.diag(cc.rho**2 / one_minus) @ cc.B.T)
    return PmiForm(M, Qu, Qv, float(-0.5 * np.sum(np.log(one_minus))))


def pmi(model: GaussianModel, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The log density ratio through :func:`pmi_form`. u (N, du), v (N, dv) → (N,)."""
    form = pmi_form(model)
    uc, vc = np.atleast_2d(u) - model.mean_u, np.atleast_2d(v) - model.mean_v
    return (form.const + np.einsum("ni,ij,nj->n", uc, form.M, vc)
            - 0.5 * np.einsum("ni,ij,nj->n", uc, form.Qu, uc) - 0.5 * np.einsum("ni,ij,nj->n", vc, form.Qv, vc))


@dataclass(frozen=True)
class Conditional:
    """A Gaussian conditional x | y = N(μx + coef (y − μy), cov): coef (dx, dy), cov (dx, dx)."""

    coef: np.ndarray
    cov: np.ndarray


def true_conditional(model: GaussianModel, given: str = "u") -> Conditional:
    """p(v | u) (``given="u"``) or p(u | v) (``given="v"``)."""
    if given == "u":
        return Conditional(model.coef_v_given_u, model.cond_cov_v_given_u())
    return Conditional(model.coef_u_given_v, model.cond_cov_u_given_v())


# --- learned conditionals of linear encoders ------------------------------------------------------

def learned_conditional(G_u: np.ndarray, G_v: np.ndarray, tilt: str, cov_uu: np.ndarray,
                        cov_vv: np.ndarray, given: str = "u") -> Conditional:
    """The Gaussian conditional p_θ(v | u) (or p_θ(u | v)) of linear encoders under a Gaussian tilt.

    G_u (k', du), G_v (k', dv); cov_uu, cov_vv: the marginal covariances the tilt multiplies.
    dot: coef = Σvv G_vᵀG_u, cov = Σvv. l2: precision Σvv⁻¹ + G_vᵀG_v, coef = cov G_vᵀG_u.
    """
    G_x, G_y, cov_x = (G_v, G_u, cov_vv) if given == "u" else (G_u, G_v, cov_uu)
    G_x, G_y = np.asarray(G_x, np.float64), np.asarray(G_y, np.float64)
    if tilt == "dot":
        return Conditional(cov_x @ G_x.T @ G_y, np.array(cov_x, dtype=np.float64))
    if tilt == "l2":
        cov = np.linalg.inv(np.linalg.inv(cov_x) + G_x.T @ G_x)
        return Conditional(cov @ G_x.T @ G_y, _sym(cov))
    raise MmvizError(f"the {tilt!r} tilt has no Gaussian conditional; use importance_conditional")


# --- references --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    """The population optimum of a tilt + direction with latent dimension ``rank``.

    G_u (rank, du), G_v (rank, dv): optimal encoders (unique up to a rotation of the latent
    space); W = G_uᵀG_v (du, dv) the bilinear form; subspace_u (du, r), subspace_v (dv, r): the
    reference subspaces (canonical directions of the r = min(rank, k) strongest pairs).
    ``closed_form`` False when computed numerically (``note`` says how).
    """

    tilt: str
    direction: str
    rank: int
    G_u: np.ndarray
    G_v: np.ndarray
    subspace_u: np.ndarray
    subspace_v: np.ndarray
    closed_form: bool
    note: str
    temperature: float = 1.0

    @property
    def W(self) -> np.ndarray:
        return self.G_u.T @ self.G_v


def l2_symmetric_variance(rho: np.ndarray) -> np.ndarray:
    """Per pair, the conditional variance x = (√(9 − 8ρ) − 1)/2 the symmetric L2 optimum learns
    (the truth is 1 − ρ²); its conditional mean coefficient is 1 − x (the truth: ρ)."""
    return 0.5 * (np.sqrt(9.0 - 8.0 * np.asarray(rho, dtype=np.float64)) - 1.0)


def pair_scales(rho: np.ndarray, tilt: str, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """Per canonical pair, the optimal encoder scales (s on a, t on b) of a Gaussian tilt."""
    rho = np.asarray(rho, dtype=np.float64)
    live = rho > RHO_FLOOR
    if tilt == "dot":
        s = np.sqrt(rho)
        return s, s.copy()
    if tilt != "l2":
        raise MmvizError(f"no closed-form reference for the {tilt!r} tilt")
    if direction == "both":
        x = l2_symmetric_variance(rho)
        s = np.sqrt(np.clip(1.0 / x - 1.0, 0.0, None))
        return s, s.copy()
    strong = np.where(live, 1.0 / np.sqrt(1.0 - rho**2), 0.0)  # any scale is optimal when ρ = 0: use 0
    weak = rho / np.sqrt(1.0 - rho**2)
    return (strong, weak) if direction == "v|u" else (weak, strong)


def shared_rank(model: GaussianModel) -> int:
    """k: the number of canonical correlations above 0."""
    return int(np.sum(model.canonical_correlations > RHO_FLOOR))


def reference(model: GaussianModel, tilt: str, direction: str, rank: int) -> Reference:
    """The closed-form population optimum of the ``dot`` or ``l2`` tilt (see the module text).

    Rank ``rank`` < k keeps the ``rank`` strongest canonical pairs (the best rank-``rank``
    approximation: each pair's contribution to the loss is separate and grows with ρ).
    """
    _check(tilt, direction)
    if tilt not in GAUSSIAN_TILTS:
        raise MmvizError("the cosine tilt has no closed-form optimum; use numerical_reference")
    cc = canonical(model)
    s, t = pair_scales(cc.rho, tilt, direction)
    keep = min(rank, len(cc.rho))
    G_u = np.zeros((rank, model.du))
    G_v = np.zeros((rank, model.dv))
    G_u[:keep] = (cc.A[:, :keep] * s[:keep]).T
    G_v[:keep] = (cc.B[:, :keep] * t[:keep]).T
    r = min(rank, max(1, shared_rank(model)))
    note = {"dot": "closed form: truncated SVD of the whitened cross-covariance (Eckart–Young)",
            "l2": ("closed form: the v-part of the log density ratio (exact conditional)" if direction == "v|u"
                   else "closed form: the u-part of the log density ratio (exact conditional)" if direction == "u|v"
                   else "closed form: per pair s = t = √(1/x − 1), x = (√(9 − 8ρ) − 1)/2")}[tilt]
    return Reference(tilt, direction, rank, G_u, G_v, cc.A[:, :r], cc.B[:, :r], True, note)


def _check(tilt: str, direction: str) -> None:
    if tilt not in TILTS:
        raise MmvizError(f"unknown tilt {tilt!r}; choose one of {', '.join(TILTS)}")
    if direction not in DIRECTIONS:
        raise MmvizError(f"unknown direction {direction!r}; choose one of {', '.join(DIRECTIONS)}")


# --- population loss (Gaussian tilts) and numerical optima -----------------------------------------

def _kl_term(G_x: torch.Tensor, G_y: torch.Tensor, tilt: str, cov_x: torch.Tensor, cov_yy: torch.Tensor,
             coef: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    """E_y KL(N(coef y, cond) ‖ learned x | y) for centred data; differentiable in G (float64)."""
    dx = cov_x.shape[0]
    if tilt == "dot":
        cov_l = cov_x
        prec_l = torch.linalg.inv(cov_x)
        coef_l = cov_x @ G_x.T @ G_y
    else:
        prec_l = torch.linalg.inv(cov_x) + G_x.T @ G_x
        cov_l = torch.linalg.inv(prec_l)
        coef_l = cov_l @ G_x.T @ G_y
    diff = coef - coef_l
    return 0.5 * (torch.trace(prec_l @ cond) + torch.trace(prec_l @ diff @ cov_yy @ diff.T) - dx
                  + torch.logdet(cov_l) - torch.logdet(cond))


def population_loss(model: GaussianModel, G_u: torch.Tensor | np.ndarray, G_v: torch.Tensor | np.ndarray,
                    tilt: str, direction: str) -> torch.Tensor:
    """E KL(true ‖ learned conditional) of a Gaussian tilt, summed over the fitted directions
    (the infinite-batch InfoNCE loss up to a constant). G_u (k', du), G_v (k', dv) → 0-d float64."""
    _check(tilt, direction)
    if tilt not in GAUSSIAN_TILTS:
        raise MmvizError(f"the {tilt!r} tilt has no closed-form population loss")
    f64 = dict(dtype=torch.float64)
    G_u, G_v = torch.as_tensor(G_u, **f64), torch.as_tensor(G_v, **f64)
    suu, svv = torch.as_tensor(model.cov_uu, **f64), torch.as_tensor(model.cov_vv, **f64)
    total = torch.zeros((), **f64)
    if direction in ("both", "v|u"):
        c = true_conditional(model, "u")
        total = total + _kl_term(G_v, G_u, tilt, svv, suu,
                                 torch.as_tensor(c.coef, **f64), torch.as_tensor(c.cov, **f64))
    if direction in ("both", "u|v"):
        c = true_conditional(model, "v")
        total = total + _kl_term(G_u, G_v, tilt, suu, svv,
                                 torch.as_tensor(c.coef, **f64), torch.as_tensor(c.cov, **f64))
    return total


def optimise_population(model: GaussianModel, tilt: str, direction: str, rank: int, seed: int = 0,
                        iters: int = 500) -> tuple[np.ndarray, np.ndarray, float]:
    """Minimise :func:`population_loss` over *general* encoders (float64 L-BFGS from a random
    start): a numerical check of the closed forms. Returns (G_u, G_v, loss)."""
    gen = torch.Generator().manual_seed(seed)
    G_u = (0.3 * torch.randn(rank, model.du, generator=gen, dtype=torch.float64)).requires_grad_()
    G_v = (0.3 * torch.randn(rank, model.dv, generator=gen, dtype=torch.float64)).requires_grad_()
    opt = torch.optim.LBFGS([G_u, G_v], lr=1.0, max_iter=iters, tolerance_grad=1e-12,
                            tolerance_change=1e-15, history_size=50, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = population_loss(model, G_u, G_v, tilt, direction)
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        loss = float(population_loss(model, G_u, G_v, tilt, direction))
    return G_u.detach().numpy(), G_v.detach().numpy(), loss


def cosine_infonce(G_u: torch.Tensor, G_v: torch.Tensor, log_tau: torch.Tensor, u: torch.Tensor,
                   v: torch.Tensor, direction: str) -> torch.Tensor:
    """Full-batch InfoNCE of the cosine tilt on centred samples u (N, du), v (N, dv)."""
    zu = torch.nn.functional.normalize(u @ G_u.T, dim=1)
    zv = torch.nn.functional.normalize(v @ G_v.T, dim=1)
    logits = zu @ zv.T / log_tau.exp()
    target = torch.arange(len(u))
    losses = []
    if direction in ("both", "v|u"):
        losses.append(torch.nn.functional.cross_entropy(logits, target))
    if direction in ("both", "u|v"):
        losses.append(torch.nn.functional.cross_entropy(logits.T, target))
    return sum(losses) / len(losses)


def numerical_reference(model: GaussianModel, tilt: str = "cosine", direction: str = "both", rank: int = 4,
                        n: int = 2000, seed: int = 0, iters: int = 300) -> Reference:
    """The cosine tilt's population optimum, computed numerically: full-batch InfoNCE on ``n``
    float64 samples of the k correlated canonical pairs (a, b), over G̃_u, G̃_v (rank × k) and
    log τ, by L-BFGS from the dot tilt's closed form; G_u = G̃_u A_kᵀ, G_v = G̃_v B_kᵀ. Working in
    the canonical pairs assumes the optimum ignores the uncorrelated directions (they only add
    independent noise to the encodings; the tests check it with the full optimisation on a small
    population). It is a large-batch estimate (bias O(1/n), sampling error O(1/√n)), not a closed form."""
    _check(tilt, direction)
    if tilt != "cosine":
        return reference(model, tilt, direction, rank)
    cc = canonical(model)
    k = max(1, shared_rank(model))
    rng = np.random.default_rng([seed, 7])
    rho = cc.rho[:k]
    a = rng.standard_normal((n, k))
    b = rho * a + np.sqrt(1.0 - rho**2) * rng.standard_normal((n, k))  # b_i | a_i ~ N(ρ_i a_i, 1 − ρ_i²)
    u_t = torch.as_tensor(a, dtype=torch.float64)
    v_t = torch.as_tensor(b, dtype=torch.float64)
    keep = min(rank, k)
    gen = torch.Generator().manual_seed(seed)
    G_u = torch.zeros(rank, k, dtype=torch.float64)
    G_u[:keep, :keep] = torch.diag(torch.as_tensor(np.sqrt(rho[:keep])))  # start: the dot tilt's optimum
    G_v = G_u.clone()
    G_u += 1e-3 * torch.randn(G_u.shape, generator=gen, dtype=torch.float64)  # rows of 0 would stall
    G_v += 1e-3 * torch.randn(G_v.shape, generator=gen, dtype=torch.float64)
    G_u.requires_grad_()
    G_v.requires_grad_()
    log_tau = torch.tensor(np.log(0.2), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([G_u, G_v, log_tau], lr=1.0, max_iter=iters, tolerance_grad=1e-10,
                            tolerance_change=1e-14, history_size=30, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = cosine_infonce(G_u, G_v, log_tau, u_t, v_t, direction)
        loss.backward()
        return loss

    opt.step(closure)
    G_u_full = G_u.detach().numpy() @ cc.A[:, :k].T  # encoders of a = A_kᵀũ are G̃ A_kᵀ on u
    G_v_full = G_v.detach().numpy() @ cc.B[:, :k].T
    return Reference("cosine", direction, rank, G_u_full, G_v_full, cc.A[:, :keep], cc.B[:, :keep], False,
                     f"numerical: full-batch InfoNCE on {n} float64 samples of the k canonical pairs, "
                     "L-BFGS (no closed form)", float(log_tau.detach().exp()))


# --- comparisons ------------------------------------------------------------------------------------

def whiten_form(W: np.ndarray, model: GaussianModel) -> np.ndarray:
    """Σuu^{1/2} W Σvv^{1/2}: the form in canonical (whitened) coordinates, (du, dv)."""
    return sym_power(model.cov_uu, 0.5) @ np.asarray(W, np.float64) @ sym_power(model.cov_vv, 0.5)


def form_relative_error(W: np.ndarray, W_ref: np.ndarray, model: GaussianModel, normalise: bool = False) -> float:
    """‖W̃ − W̃_ref‖_F / ‖W̃_ref‖_F of the whitened forms (the norm the loss measures them in).
    ``normalise``: compare W̃/‖W̃‖ (the cosine tilt's form is defined up to scale)."""
    a, b = whiten_form(W, model), whiten_form(W_ref, model)
    if normalise:
        a = a / max(np.linalg.norm(a), 1e-300)
        b = b / max(np.linalg.norm(b), 1e-300)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def form_subspaces(W: np.ndarray, model: GaussianModel, r: int) -> tuple[np.ndarray, np.ndarray]:
    """The u and v subspaces (du, r), (dv, r) of the r strongest whitened singular pairs of W,
    mapped back to data coordinates (Σ^{-1/2} times the singular vectors)."""
    left, _, right_t = np.linalg.svd(whiten_form(W, model))
    return sym_power(model.cov_uu, -0.5) @ left[:, :r], sym_power(model.cov_vv, -0.5) @ right_t[:r].T


def principal_angles_deg(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Principal angles (degrees, decreasing) between the column spans of X (d, p) and Y (d, q)."""
    return np.degrees(subspace_angles(np.asarray(X, np.float64), np.asarray(Y, np.float64)))


def implied_correlations(coef: np.ndarray, model: GaussianModel, given: str = "u") -> np.ndarray:
    """Singular values of the whitened regression matrix of a conditional mean: for the truth
    they are the canonical correlations. coef (dv, du) for v | u."""
    if given == "u":
        whitened = sym_power(model.cov_vv, -0.5) @ coef @ sym_power(model.cov_uu, 0.5)
    else:
        whitened = sym_power(model.cov_uu, -0.5) @ coef @ sym_power(model.cov_vv, 0.5)
    return np.linalg.svd(whitened, compute_uv=False)


def mean_relative_error(coef: np.ndarray, true_coef: np.ndarray, cov_given: np.ndarray) -> float:
    """RMS over the population of ‖learned − true conditional mean‖ relative to the RMS of the
    true (centred) mean: ‖(K − K*) Σ^{1/2}‖_F / ‖K* Σ^{1/2}‖_F."""
    root = sym_power(cov_given, 0.5)
    return float(np.linalg.norm((coef - true_coef) @ root) / max(np.linalg.norm(true_coef @ root), 1e-300))


def cov_relative_error(cov: np.ndarray, true_cov: np.ndarray) -> float:
    """‖C − C*‖_F / ‖C*‖_F."""
    return float(np.linalg.norm(np.asarray(cov) - true_cov) / np.linalg.norm(true_cov))


def shared_cov_relative_error(cov: np.ndarray, model: GaussianModel, given: str = "u") -> float:
    """Relative error of a conditional covariance (dv, dv) (or (du, du) given v) in the whitened
    shared subspace: ‖TᵀCT − diag(1 − ρ²)‖_F / ‖diag(1 − ρ²)‖_F with T = B_k (A_k given v), the
    canonical directions of the k correlated pairs. There the truth is diag(1 − ρ_i²) and the
    tilts differ; outside it every Gaussian tilt keeps the (exact) marginal covariance, which
    would only dilute a plain Frobenius error."""
    cc = canonical(model)
    k = max(1, shared_rank(model))
    T = (cc.B if given == "u" else cc.A)[:, :k]
    truth = np.diag(1.0 - cc.rho[:k] ** 2)
    return float(np.linalg.norm(T.T @ np.asarray(cov) @ T - truth) / np.linalg.norm(truth))


# --- conditionals of any tilt: importance sampling from the marginal --------------------------------

Score = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""f(u, v): u (m, du), v (M, dv) → (m, M) tilt scores."""


def importance_conditional(score: Score, u: np.ndarray, pool: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moments of p_θ(v | u) ∝ p(v) e^{f(u, v)} by self-normalised importance sampling with
    proposal p(v) (``pool`` (M, dv): samples of the marginal). u (m, du) →
    (means (m, dv), covs (m, dv, dv), effective sample sizes (m,))."""
    logits = np.asarray(score(u, pool), dtype=np.float64)
    logits -= logits.max(axis=1, keepdims=True)  # exp of the shifted scores cannot overflow
    w = np.exp(logits)
    w /= w.sum(axis=1, keepdims=True)
    means = w @ pool
    centred = pool[None, :, :] - means[:, None, :]
    covs = np.einsum("mj,mjd,mje->mde", w, centred, centred)
    ess = 1.0 / np.sum(w**2, axis=1)
    return means, covs, ess


def importance_resample(score: Score, u: np.ndarray, pool: np.ndarray, n: int,
                        rng: np.random.Generator) -> np.ndarray:
    """n draws of p_θ(v | u) for one u (du,) by resampling ``pool`` (M, dv) with weights e^{f}: (n, dv)."""
    logits = np.asarray(score(np.atleast_2d(u), pool), dtype=np.float64)[0]
    w = np.exp(logits - logits.max())
    return pool[rng.choice(len(pool), size=n, p=w / w.sum())]


def sample_gaussian_conditional(cond: Conditional, mean_x: np.ndarray, mean_y: np.ndarray, y: np.ndarray,
                                n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of N(μx + coef (y − μy), cov) for one y (dy,): (n, dx)."""
    centre = mean_x + cond.coef @ (np.asarray(y) - mean_y)
    return rng.multivariate_normal(centre, cond.cov, size=n, method="cholesky")
