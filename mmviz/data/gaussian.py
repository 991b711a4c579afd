"""Jointly Gaussian bimodal data with a chosen canonical-correlation spectrum.

The population is built in whitened coordinates: with ``S_u = Σuu^{1/2}``, ``S_v = Σvv^{1/2}``
and orthonormal ``U`` (du × k), ``V`` (dv × k),

    Σuv = S_u U diag(ρ) Vᵀ S_v,

so ``Σuu^{-1/2} Σuv Σvv^{-1/2} = U diag(ρ) Vᵀ`` has singular values exactly ρ: the
canonical correlations are the chosen spectrum. Equivalently, the i-th canonical pair
shares a latent ``z_i`` with weight √ρ_i and the rest of each modality is its own.
The marginals are ``Σuu = B_u B_uᵀ + σ² I`` with a random ``B_u`` (and the same for v).
Everything random about the population comes from ``structure_seed``; the samples come
from ``seed`` and the split, so train and test share one population.

With ``n_classes = C > 0`` the data is a mixture of C equally likely Gaussians that
share the covariance above and whose means differ along the shared canonical
directions (the label is shared information). :class:`GaussianModel` then gives the
*total* mean and covariance; its conditionals are the linear-Gaussian ones of that
total covariance (the best linear predictor and its residual covariance), while
:meth:`GaussianModel.log_density_ratio` is the exact one of the mixture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from mmviz.data.base import DatasetInfo, PairedDataset, ParamSpec
from mmviz.data.registry import register, resolve_params
from mmviz.errors import MmvizError

SPLIT_STREAMS = {"train": 0, "test": 1}  # train and test draw from different streams of one seed
SAMPLING_PARAMS = ("n", "n_test", "seed")


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value
class GaussianModel:
    """The exact population of the ``gaussian`` dataset; x = (u, v) with D = du + dv.

    ``mean`` (D,) and ``cov`` (D, D) are the total mean and covariance. ``rhos`` (k,) is
    the chosen canonical-correlation spectrum of each mixture component. With classes,
    ``class_means`` (C, D) are the component means and ``within_cov`` (D, D) their shared
    covariance; without, ``class_means`` is None and ``within_cov`` equals ``cov``.
    """

    du: int
    dv: int
    mean: np.ndarray
    cov: np.ndarray
    rhos: np.ndarray
    within_cov: np.ndarray
    class_means: np.ndarray | None = None

    # ------------------------------------------------------------ blocks

    @property
    def n_classes(self) -> int:
        return 0 if self.class_means is None else len(self.class_means)

    @property
    def mean_u(self) -> np.ndarray:
        return self.mean[: self.du]

    @property
    def mean_v(self) -> np.ndarray:
        return self.mean[self.du :]

    @property
    def cov_uu(self) -> np.ndarray:
        return self.cov[: self.du, : self.du]

    @property
    def cov_uv(self) -> np.ndarray:
        return self.cov[: self.du, self.du :]

    @property
    def cov_vu(self) -> np.ndarray:
        return self.cov[self.du :, : self.du]

    @property
    def cov_vv(self) -> np.ndarray:
        return self.cov[self.du :, self.du :]

    # ------------------------------------------------------------ canonical correlations

    @cached_property
    def _cca(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return canonical_correlation_analysis(self.cov, self.du)

    @property
    def canonical_correlations(self) -> np.ndarray:
        """Canonical correlations of ``cov``, shape (min(du, dv),), decreasing."""
        return self._cca[0].copy()

    @property
    def canonical_directions(self) -> tuple[np.ndarray, np.ndarray]:
        """``(A, B)`` of shapes (du, r), (dv, r), r = min(du, dv): ``a = Aᵀ(u − μu)``, ``b = Bᵀ(v − μv)``
        are unit-variance canonical variates with ``Cov(a_i, b_i) = ρ_i``."""
        _, a, b = self._cca
        return a.copy(), b.copy()

    def canonical_variates(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """u: (N, du), v: (N, dv) → canonical variates (N, r) of each, centred by the total mean."""
        a, b = self.canonical_directions
        return (np.asarray(u) - self.mean_u) @ a, (np.asarray(v) - self.mean_v) @ b

    # ------------------------------------------------------------ conditionals

    @property
    def coef_v_given_u(self) -> np.ndarray:
        """Regression matrix Σvu Σuu⁻¹, shape (dv, du)."""
        return np.linalg.solve(self.cov_uu, self.cov_uv).T

    @property
    def coef_u_given_v(self) -> np.ndarray:
        """Regression matrix Σuv Σvv⁻¹, shape (du, dv)."""
        return np.linalg.solve(self.cov_vv, self.cov_vu).T

    def cond_mean_v_given_u(self, u: np.ndarray) -> np.ndarray:
        """E[v | u] = μv + Σvu Σuu⁻¹ (u − μu). u: (N, du) → (N, dv)."""
        return self.mean_v + (np.asarray(u) - self.mean_u) @ self.coef_v_given_u.T

    def cond_mean_u_given_v(self, v: np.ndarray) -> np.ndarray:
        """E[u | v] = μu + Σuv Σvv⁻¹ (v − μv). v: (N, dv) → (N, du)."""
        return self.mean_u + (np.asarray(v) - self.mean_v) @ self.coef_u_given_v.T

    def cond_cov_v_given_u(self) -> np.ndarray:
        """Cov[v | u] = Σvv − Σvu Σuu⁻¹ Σuv, shape (dv, dv) (the same for every u)."""
        return _symmetric(self.cov_vv - self.coef_v_given_u @ self.cov_uv)

    def cond_cov_u_given_v(self) -> np.ndarray:
        """Cov[u | v] = Σuu − Σuv Σvv⁻¹ Σvu, shape (du, du) (the same for every v)."""
        return _symmetric(self.cov_uu - self.coef_u_given_v @ self.cov_vu)

    # ------------------------------------------------------------ densities

    def log_density_ratio(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """log p(u, v) − log p(u) − log p(v) (pointwise mutual information), shape (N,).

        u: (N, du), v: (N, dv). Without classes this is the closed form in canonical
        variates (a, b): Σ_i −½ log(1 − ρ_i²) − (ρ_i²(a_i² + b_i²) − 2ρ_i a_i b_i) / (2(1 − ρ_i²)).
        With classes it is the exact mixture ratio (log-sum-exp over components).
        """
        u, v = np.atleast_2d(u), np.atleast_2d(v)
        if self.class_means is not None:
            return self._mixture_log_density_ratio(u, v)
        rho = self.canonical_correlations
        a, b = self.canonical_variates(u, v)
        one_minus = 1.0 - rho**2  # > 0: the construction keeps every ρ ≤ rho_max < 1
        return np.sum(
            -0.5 * np.log(one_minus) - (rho**2 * (a**2 + b**2) - 2.0 * rho * a * b) / (2.0 * one_minus), axis=1
        )

    def mutual_information(self) -> float:
        """I(u; v) = −½ Σ log(1 − ρ_i²) in nats (Gaussian population only, no classes)."""
        if self.class_means is not None:
            raise ValueError("the mutual information of the class mixture has no closed form")
        return float(-0.5 * np.sum(np.log1p(-self.canonical_correlations**2)))

    def _mixture_log_density_ratio(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        du, means, cov = self.du, self.class_means, self.within_cov
        log_prior = -np.log(len(means))
        x = np.concatenate([u, v], axis=1)
        blocks = (
            (x, slice(None)),
            (u, slice(0, du)),
            (v, slice(du, None)),
        )
        logs = []
        for data, part in blocks:
            per_class = np.stack(
                [multivariate_normal(m[part], cov[part, part]).logpdf(data) for m in means], axis=-1
            ).reshape(len(data), len(means))
            logs.append(logsumexp(per_class + log_prior, axis=1))
        joint, log_u, log_v = logs
        return joint - log_u - log_v

    # ------------------------------------------------------------ sampling

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """n float64 pairs: u (n, du), v (n, dv), and labels (n,) int64 (None without classes)."""
        dim = self.du + self.dv
        noise = rng.multivariate_normal(np.zeros(dim), self.within_cov, size=n, method="cholesky")
        if self.class_means is None:
            labels, x = None, noise + self.mean
        else:
            labels = rng.integers(0, len(self.class_means), size=n).astype(np.int64)
            x = noise + self.class_means[labels]
        return x[:, : self.du], x[:, self.du :], labels


def canonical_correlation_analysis(cov: np.ndarray, du: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Population CCA of a joint covariance (D, D) whose first ``du`` axes are u.

    Returns ``(rho, A, B)``: rho (r,) decreasing, A (du, r), B (dv, r), r = min(du, dv),
    from the SVD of the whitened cross-covariance Σuu^{-1/2} Σuv Σvv^{-1/2}.
    """
    cov = np.asarray(cov, dtype=np.float64)
    w_u = _inverse_sqrt(cov[:du, :du])
    w_v = _inverse_sqrt(cov[du:, du:])
    left, rho, right_t = np.linalg.svd(w_u @ cov[:du, du:] @ w_v, full_matrices=False)
    return rho, w_u @ left, w_v @ right_t.T


def spectrum(k: int, rho_max: float, decay: float, rhos: str | Sequence[float] = "") -> np.ndarray:
    """The k canonical correlations: ``rho_max · decay^(i−1)``, or the explicit ``rhos``, decreasing."""
    if isinstance(rhos, str):
        text = rhos.strip()
        try:
            values = [float(part) for part in text.split(",")] if text else []
        except ValueError:
            raise MmvizError(f"rhos must be comma-separated numbers, got {rhos!r}") from None
    else:
        values = [float(r) for r in rhos]
    if not values:
        return rho_max * decay ** np.arange(k, dtype=np.float64)
    if len(values) != k:
        raise MmvizError(f"rhos lists {len(values)} correlations but k = {k}; give k values or set k = {len(values)}")
    if not all(0.0 <= r < 1.0 for r in values):
        raise MmvizError(f"every canonical correlation must be in [0, 1), got {rhos!r}")
    return np.sort(np.asarray(values, dtype=np.float64))[::-1]


def gaussian_model(
    du: int = 8,
    dv: int = 8,
    k: int = 3,
    rho_max: float = 0.95,
    decay: float = 0.7,
    rhos: str | Sequence[float] = "",
    noise: float = 0.1,
    n_classes: int = 0,
    class_sep: float = 2.0,
    mean_scale: float = 0.0,
    structure_seed: int = 0,
    **sampling: Any,
) -> GaussianModel:
    """The population of the ``gaussian`` dataset for these parameters.

    Takes the dataset's parameters; the sampling ones (``n``, ``n_test``, ``seed``) are ignored.
    """
    unknown = sorted(set(sampling) - set(SAMPLING_PARAMS))
    if unknown:
        raise TypeError(f"gaussian_model() got unexpected parameters {unknown}")
    if k > min(du, dv):
        raise MmvizError(f"k = {k} shared directions do not fit in du = {du}, dv = {dv}; need k ≤ min(du, dv)")
    if not rho_max < 1.0:
        raise MmvizError(f"rho_max must be below 1 (a correlation of 1 makes the covariance singular), got {rho_max}")
    rho = spectrum(k, rho_max, decay, rhos)
    rng = np.random.default_rng(structure_seed)
    cov_uu = _marginal_cov(du, noise, rng)
    cov_vv = _marginal_cov(dv, noise, rng)
    basis_u = np.linalg.qr(rng.standard_normal((du, k)))[0]  # orthonormal columns
    basis_v = np.linalg.qr(rng.standard_normal((dv, k)))[0]
    shared_u = _sqrt_psd(cov_uu) @ basis_u  # (du, k): how a unit of shared latent shows in u
    shared_v = _sqrt_psd(cov_vv) @ basis_v
    cov_uv = shared_u @ np.diag(rho) @ shared_v.T
    within = np.block([[cov_uu, cov_uv], [cov_uv.T, cov_vv]])
    mean = mean_scale * rng.standard_normal(du + dv)
    if n_classes == 0:
        return GaussianModel(du, dv, mean, within, rho, within)
    centres = class_sep * rng.standard_normal((n_classes, k))
    centres -= centres.mean(axis=0)  # so the total mean stays ``mean``
    offsets = np.concatenate([centres @ shared_u.T, centres @ shared_v.T], axis=1)  # (C, D)
    total = within + offsets.T @ offsets / n_classes
    return GaussianModel(du, dv, mean, _symmetric(total), rho, within, mean + offsets)


def _marginal_cov(dim: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """B Bᵀ + σ² I with B (dim, dim) of N(0, 1/dim) entries."""
    mixing = rng.standard_normal((dim, dim)) / np.sqrt(dim)
    return _symmetric(mixing @ mixing.T + noise**2 * np.eye(dim))


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive definite matrix."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(values)) @ vectors.T


def _inverse_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric inverse square root of a symmetric positive definite matrix."""
    values, vectors = np.linalg.eigh(matrix)  # values ≥ noise² > 0 for the marginals built here
    return (vectors / np.sqrt(values)) @ vectors.T


def _symmetric(matrix: np.ndarray) -> np.ndarray:
    """(M + Mᵀ) / 2: removes the rounding asymmetry of products like B Bᵀ."""
    return 0.5 * (matrix + matrix.T)


INFO = DatasetInfo(
    name="gaussian",
    description=(
        "Jointly Gaussian pairs (u, v) with a chosen canonical-correlation spectrum; "
        "the population (covariance, conditionals, density ratio) is known exactly."
    ),
    kind="pairs",
    modalities=("u", "v"),
    train_size=lambda p: p["n"],
    params=(
        ParamSpec("du", "int", 8, "dimension of modality u", min=1, max=512),
        ParamSpec("dv", "int", 8, "dimension of modality v", min=1, max=512),
        ParamSpec("k", "int", 3, "number of shared (correlated) directions, at most min(du, dv)", min=1, max=512),
        # ρ < 1 keeps Σ positive definite and 1 − ρ² away from 0 in the density ratio.
        ParamSpec("rho_max", "float", 0.95, "largest canonical correlation ρ₁", min=0.0, max=0.999),
        ParamSpec("decay", "float", 0.7, "ρ_i = rho_max · decay^(i−1)", min=0.0, max=1.0),
        ParamSpec("rhos", "str", "", "explicit canonical correlations, comma-separated (k values, each in [0, 1)); "
                  "overrides rho_max and decay", advanced=True),
        # σ ≥ 0.001 bounds Σuu, Σvv below by 1e-6·I, so whitening them stays well defined.
        ParamSpec("noise", "float", 0.1, "isotropic noise σ: σ²I is added to each modality's covariance "
                  "(the canonical correlations stay exactly the chosen ones)", min=0.001, max=10.0),
        ParamSpec("n", "int", 5000, "training pairs", min=1, max=1_000_000),
        ParamSpec("n_test", "int", 1000, "test pairs", min=1, max=1_000_000),
        ParamSpec("n_classes", "int", 0, "classes (0 = none): a mixture with class means along the shared directions",
                  min=0, max=1000),
        ParamSpec("class_sep", "float", 2.0, "spread of the class means, in units of the shared latent's std",
                  min=0.0, max=100.0, advanced=True),
        ParamSpec("mean_scale", "float", 0.0, "scale of the random modality means (0 = centred data)",
                  min=0.0, max=100.0, advanced=True),
        ParamSpec("seed", "int", 0, "seed of the samples", min=0),
        ParamSpec("structure_seed", "int", 0, "seed of the population (shared by train and test)",
                  min=0, advanced=True),
    ),
)


@register(INFO)
def load_gaussian(split: str = "train", **params: Any) -> PairedDataset:
    """Samples of the population: u (N, du) and v (N, dv) float32; ``extras["model"]`` is the
    :class:`GaussianModel`. Metadata: ``index`` and, with classes, ``label``."""
    if split not in SPLIT_STREAMS:
        raise MmvizError(f"dataset 'gaussian' has no split {split!r}; splits: train, test")
    params = resolve_params(INFO.name, params)
    model = gaussian_model(**params)
    n = params["n"] if split == "train" else params["n_test"]
    rng = np.random.default_rng([params["seed"], SPLIT_STREAMS[split]])
    u, v, labels = model.sample(n, rng)
    metadata = pd.DataFrame({"index": np.arange(n, dtype=np.int64)})
    if labels is not None:
        metadata["label"] = labels
    extras = {
        "model": model,
        "rhos": model.rhos,
        "canonical_correlations": model.canonical_correlations,
    }
    modalities = {"u": u.astype(np.float32), "v": v.astype(np.float32)}
    return PairedDataset(INFO.name, split, params, modalities, metadata, extras)


def sample_canonical_correlations(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Canonical correlations of a sample: u (N, du), v (N, dv) → (min(du, dv),), decreasing."""
    cov = np.cov(np.hstack([u, v]).astype(np.float64), rowvar=False)
    return canonical_correlation_analysis(cov, u.shape[1])[0]
