"""The baselines a data-assimilation user knows, on the ``ocean-drifters`` data.

Observations: the drifters' finite-difference velocities at the midpoints of their steps
(:func:`mmviz.data.ocean.velocity_observations`), y (K,) with K = 2 · drifters · steps.

* **climatology**: the prior mean, the average training flow on the grid.
* **optimal interpolation (OI)**: the Kalman analysis x_a = x̄ + B Hᵀ (H B Hᵀ + r I)⁻¹ (y − H x̄) with
  x̄ and B the mean and covariance of the *prior ensemble* (the training flows on the grid) and H
  bilinear interpolation of the grid at the observation points. It knows nothing of the flows'
  construction: only the ensemble.
* **exact Gaussian conditional** (an oracle): the flows are linear in their Fourier coefficients,
  and once the observation points are fixed at the measured midpoints (the linearisation) the
  velocities are too, y = H_c c + e. Each regime's prior on c is Gaussian, so the posterior is an
  exact mixture of Gaussians: per regime the Kalman update in coefficient space, weighted by its
  evidence N(y; 0, H_c Σ_r H_cᵀ + r I). It knows the modes, the spectra and the regimes.

The observation error variance r of each is estimated on training flows, as the mean squared
residual of the observations against the truth seen through that method's H (position noise,
finite differencing and, for OI, the interpolation error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from mmviz.data.base import PairedDataset
from mmviz.data.ocean import FlowBasis, basis_of, grid_points, velocity_observations

R_FLOWS = 300  # training flows used to estimate each observation error variance


def gaussian_update(mean: np.ndarray, cov: np.ndarray, H: np.ndarray, y: np.ndarray,
                    r: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The closed-form linear-Gaussian update (the Kalman analysis in observation space).

    Prior x ~ N(mean (D,), cov (D, D)), observation y (K,) = H (K, D) x + e, e ~ N(0, diag r).
    Returns the posterior mean (D,) and covariance (D, D).
    """
    R = np.diag(np.broadcast_to(np.asarray(r, np.float64), (len(y),)))
    S = H @ cov @ H.T + R
    gain = np.linalg.solve(S, H @ cov).T  # cov Hᵀ S⁻¹ (S and cov symmetric)
    return mean + gain @ (y - H @ mean), cov - gain @ H @ cov


def information_update(prior_var: np.ndarray, H: np.ndarray, y: np.ndarray, r: float) -> tuple[np.ndarray, float]:
    """The same update for a zero-mean prior with diagonal covariance diag(prior_var (D,)) and
    r I noise, in information form (a D × D solve, cheap when D ≪ K): the posterior mean (D,)
    and the log evidence log N(y; 0, H diag(prior_var) Hᵀ + r I)."""
    keep = prior_var > 0
    Hk, var = H[:, keep], prior_var[keep]
    scaled = Hk * np.sqrt(var)  # H Σ^{1/2}
    inner = np.eye(len(var)) + scaled.T @ scaled / r  # I + Σ^{1/2} HᵀH Σ^{1/2} / r
    chol = np.linalg.cholesky(inner)
    proj = scaled.T @ y / r
    solved = np.linalg.solve(chol.T, np.linalg.solve(chol, proj))
    mean = np.zeros(len(prior_var))
    mean[keep] = np.sqrt(var) * solved
    quad = (y @ y - proj @ solved * r) / r  # yᵀ (H Σ Hᵀ + r I)⁻¹ y, by Woodbury
    logdet = len(y) * np.log(r) + 2.0 * np.log(np.diag(chol)).sum()
    return mean, float(-0.5 * (quad + logdet + len(y) * np.log(2 * np.pi)))


def interpolation_matrix(points: np.ndarray, size: int) -> np.ndarray:
    """Bilinear interpolation on the periodic G × G grid at points (P, 2), for fields laid out as
    (2, G, G) and flattened: (2P, 2G²), rows u(x_1), v(x_1), u(x_2), ..."""
    h = 2.0 * np.pi / size
    g = np.asarray(points, np.float64) / h
    i0 = np.floor(g).astype(np.int64)
    f = g - i0
    H = np.zeros((2 * len(points), 2 * size * size))
    rows = np.arange(len(points))
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        w = (f[:, 0] if dx else 1 - f[:, 0]) * (f[:, 1] if dy else 1 - f[:, 1])
        cell = ((i0[:, 1] + dy) % size) * size + (i0[:, 0] + dx) % size  # row y, column x
        for comp in (0, 1):
            np.add.at(H, (2 * rows + comp, comp * size * size + cell), w)
    return H


def observations(tracks: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One flow's tracks (D, T + 1, 2) → midpoints (D·T, 2), their times (D·T,) and y (2·D·T,)."""
    mid, vel = velocity_observations(np.asarray(tracks, np.float64), dt)
    steps = mid.shape[1]
    times = np.broadcast_to((np.arange(steps) + 0.5) * dt, mid.shape[:2]).ravel()
    return mid.reshape(-1, 2), times, vel.reshape(-1)


@dataclass
class Assimilator:
    """The three baselines, fitted on a training split of ``ocean-drifters``."""

    basis: FlowBasis
    size: int
    dt: float
    t_mid: float
    prior_mean: np.ndarray  # (2G²,) climatology
    ens_basis: np.ndarray  # (2G², q): the ensemble covariance's eigenvectors
    ens_var: np.ndarray  # (q,): its eigenvalues
    regime_weights: np.ndarray  # (R,) prior probabilities of the regimes
    r_oi: float
    r_exact: float

    @classmethod
    def fit(cls, train: PairedDataset) -> Assimilator:
        truth = np.asarray(train.extras["truth"], np.float64).reshape(len(train), -1)
        mean = truth.mean(0)
        cov = np.cov(truth - mean, rowvar=False)
        lam, vec = np.linalg.eigh(cov)
        keep = lam > 1e-9 * lam.max()
        basis = basis_of(train)
        regimes = np.bincount(train.metadata["regime"].to_numpy(), minlength=len(basis.variances))
        out = cls(basis, int(train.params["grid"]), float(train.params["dt"]), float(train.extras["t_mid"]),
                  mean, vec[:, keep], lam[keep], regimes / regimes.sum(), 1.0, 1.0)
        out.r_oi, out.r_exact = out._error_variances(train)
        return out

    def _error_variances(self, train: PairedDataset) -> tuple[float, float]:
        tracks, truth = train.modalities["tracks"], np.asarray(train.extras["truth"], np.float64)
        coef = np.asarray(train.extras["coef"])
        oi, exact = [], []
        for i in range(min(R_FLOWS, len(train))):
            pts, times, y = observations(tracks[i], self.dt)
            H = interpolation_matrix(pts % (2 * np.pi), self.size)
            oi.append(np.mean((y - H @ truth[i].ravel()) ** 2))
            exact.append(np.mean((y - self._coef_operator(pts, times) @ coef[i]) ** 2))
        return float(np.mean(oi)), float(np.mean(exact))

    def _coef_operator(self, pts: np.ndarray, times: np.ndarray) -> np.ndarray:
        if not self.basis.unsteady:
            return self.basis.operator(pts)
        return np.concatenate([self.basis.operator(p[None], t) for p, t in zip(pts, times)])

    # --- the analyses, one flow at a time: tracks (D, T + 1, 2) → field (2, G, G) ---------------

    def climatology(self) -> np.ndarray:
        return self.prior_mean.reshape(2, self.size, self.size)

    def optimal_interpolation(self, tracks: np.ndarray) -> np.ndarray:
        pts, _, y = observations(tracks, self.dt)
        H = interpolation_matrix(pts % (2 * np.pi), self.size)
        alpha, _ = information_update(self.ens_var, H @ self.ens_basis, y - H @ self.prior_mean, self.r_oi)
        return (self.prior_mean + self.ens_basis @ alpha).reshape(2, self.size, self.size)

    def exact_posterior(self, tracks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The exact mixture posterior's mean coefficients (2M,) and regime probabilities (R,)."""
        pts, times, y = observations(tracks, self.dt)
        Hc = self._coef_operator(pts, times)
        means, logs = [], []
        for r, var in enumerate(self.basis.variances):
            mean, log_ev = information_update(np.concatenate([var, var]), Hc, y, self.r_exact)
            means.append(mean)
            logs.append(log_ev + np.log(max(self.regime_weights[r], 1e-300)))
        logs = np.array(logs)
        probs = np.exp(logs - logsumexp(logs))
        return probs @ np.array(means), probs

    def exact_conditional(self, tracks: np.ndarray) -> np.ndarray:
        coef, _ = self.exact_posterior(tracks)
        return self.coef_to_grid(coef)

    def coef_to_grid(self, coef: np.ndarray) -> np.ndarray:
        """Coefficients (2M,) → the velocity on the grid at the field's time, (2, G, G)."""
        vel = self.basis.operator(grid_points(self.size), self.t_mid) @ coef
        return vel.reshape(-1, 2).T.reshape(2, self.size, self.size)
