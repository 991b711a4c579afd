"""What the Gaussian lab page shows, computed: the closed-form references and a trained run's
learned conditional, in the canonical coordinates (b₁, b₂) of v, plus the run configs the page
launches and what its live panel reads of a run's logged evaluations. Maths lives in
:mod:`mmviz.gaussian.theory`; this module only evaluates it for the page, with Streamlit caching."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from mmviz.data.gaussian import GaussianModel, gaussian_model
from mmviz.errors import MmvizError
from mmviz.gaussian import theory as gt
from mmviz.gaussian.presets import gaussian_run
from mmviz.runs.loop import load_run_model
from mmviz.runs.store import RunStore

N_QUERIES = 150  # held-out u's in the conditional-mean scatter
N_SAMPLES = 400  # samples per conditional in the generation plot
POOL = 4000  # marginal samples used as importance-sampling proposals
LOSSES: dict[str, tuple[str, dict[str, Any]]] = {
    "probabilistic loss, L2 tilt": ("gauss-prob", {"tilt": "l2"}),
    "InfoNCE, L2 tilt": ("gauss-l2", {}),
    "InfoNCE, cosine tilt (CLIP)": ("gauss-cosine", {}),
    "probabilistic loss, dot tilt": ("gauss-prob", {"tilt": "dot"}),
}
REFERENCES = (("L2 tilt, fits p(v|u)", "l2", "v|u"), ("L2 tilt, fits both", "l2", "both"),
              ("dot tilt", "dot", "both"))


@dataclass(frozen=True)
class LabParams:
    """The page's population (the ``gaussian`` dataset's parameters) and latent dimension."""

    du: int = 16
    dv: int = 16
    k: int = 4
    rho_max: float = 0.95
    decay: float = 0.7
    noise: float = 0.1
    latent: int = 4

    def dataset_params(self, n: int = 100_000, n_test: int = 1000) -> dict[str, Any]:
        out = asdict(self)
        out.pop("latent")
        return {**out, "n": n, "n_test": n_test}

    def check(self) -> None:
        """MmvizError saying what is wrong (k larger than a dimension)."""
        if self.k > min(self.du, self.dv):
            raise MmvizError(f"k = {self.k} shared directions do not fit in du = {self.du}, dv = {self.dv}")


@dataclass
class CondView:
    """One conditional family seen through the page: implied correlations ``rho`` (r,), the mean
    of b₁ for each query u (N,), and for the chosen u its (b₁, b₂) ``centre`` (2,), ``cov`` (2, 2)
    and ``samples`` (n, 2)."""

    rho: np.ndarray
    mean_b1: np.ndarray
    centre: np.ndarray
    cov: np.ndarray
    samples: np.ndarray


@dataclass
class Solved:
    """The truth and the closed-form references for one :class:`LabParams`."""

    true_rho: np.ndarray
    truth: CondView
    references: dict[str, CondView]
    notes: dict[str, str]


def population(params: LabParams) -> GaussianModel:
    params.check()
    return gaussian_model(**params.dataset_params())


def queries(truth: GaussianModel, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Held-out-like u's (N_QUERIES, du) and a marginal pool of v's (POOL, dv), fixed by ``seed``."""
    rng = np.random.default_rng(seed)
    u, _, _ = truth.sample(N_QUERIES, rng)
    _, pool, _ = truth.sample(POOL, rng)
    return u, pool


def _to_b(truth: GaussianModel, v: np.ndarray) -> np.ndarray:
    """Canonical coordinates (b₁, b₂) of v (N, dv) → (N, 2)."""
    B = gt.canonical(truth).B[:, :2]
    return (np.atleast_2d(v) - truth.mean_v) @ B


def gaussian_view(truth: GaussianModel, cond: gt.Conditional, u: np.ndarray, chosen: int,
                  rng: np.random.Generator, mean_u: np.ndarray | None = None,
                  mean_v: np.ndarray | None = None) -> CondView:
    """A Gaussian conditional v | u = N(μv + coef(u − μu), cov) seen in (b₁, b₂)."""
    mean_u = truth.mean_u if mean_u is None else mean_u
    mean_v = truth.mean_v if mean_v is None else mean_v
    means = mean_v + (u - mean_u) @ cond.coef.T
    B = gt.canonical(truth).B[:, :2]
    draws = gt.sample_gaussian_conditional(cond, mean_v, mean_u, u[chosen], N_SAMPLES, rng)
    return CondView(gt.implied_correlations(cond.coef, truth), _to_b(truth, means)[:, 0],
                    _to_b(truth, means[chosen])[0], B.T @ cond.cov @ B, _to_b(truth, draws))


def solve(params: LabParams, chosen: int) -> Solved:
    """The truth and the references of every Gaussian tilt for the chosen query u (index)."""
    truth = population(params)
    u, _ = queries(truth)
    rng = np.random.default_rng(5)
    true_view = gaussian_view(truth, gt.true_conditional(truth), u, chosen, rng)
    refs, notes = {}, {}
    for label, tilt, direction in REFERENCES:
        ref = gt.reference(truth, tilt, direction, params.latent)
        cond = gt.learned_conditional(ref.G_u, ref.G_v, tilt, truth.cov_uu, truth.cov_vv)
        refs[label] = gaussian_view(truth, cond, u, chosen, rng)
        notes[label] = ref.note
    return Solved(truth.canonical_correlations[:max(params.k, params.latent)], true_view, refs, notes)


def learned_view(model: Any, truth: GaussianModel, chosen: int) -> CondView:
    """A trained model's learned p_θ(v | u): closed form where Gaussian, else importance sampling
    (moments) and importance resampling (samples) from a marginal pool."""
    u, pool = queries(truth)
    rng = np.random.default_rng(6)
    cond = model.gaussian_conditional("u")
    if cond is not None:
        mean_u, mean_v, _, _ = model.marginals()
        return gaussian_view(truth, cond, u, chosen, rng, mean_u, mean_v)
    means, covs, _ = gt.importance_conditional(model.score, u, pool)
    coef = np.linalg.lstsq(u - truth.mean_u, means - truth.mean_v, rcond=None)[0].T
    B = gt.canonical(truth).B[:, :2]
    draws = gt.importance_resample(model.score, u[chosen], pool, N_SAMPLES, rng)
    return CondView(gt.implied_correlations(coef, truth), _to_b(truth, means)[:, 0], _to_b(truth, means[chosen])[0],
                    B.T @ covs[chosen] @ B, _to_b(truth, draws))


def run_config(params: LabParams, loss: str, direction: str, steps: int) -> dict[str, Any]:
    """The run the page launches: the lab's population, the chosen loss, ``steps`` steps."""
    model, extra = LOSSES[loss]
    config = gaussian_run(f"{loss}, {direction}", model, steps=steps, batch_size=512, **extra, direction=direction)
    config["model_params"]["dim"] = params.latent
    config["dataset_params"] = params.dataset_params()
    config["eval_every"] = max(10, steps // 15)
    config["checkpoint_every"] = steps
    return config


def gauss_runs(runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs of the lab's linear models on the ``gaussian`` dataset, in the order given."""
    return [r for r in runs if str(r["model"]).startswith("gauss-") and r["dataset"] == "gaussian"]


def run_params(config: dict[str, Any]) -> LabParams:
    """The :class:`LabParams` a run was trained with."""
    data = config["dataset_params"]
    return LabParams(int(data["du"]), int(data["dv"]), int(data["k"]), float(data["rho_max"]), float(data["decay"]),
                     float(data["noise"]), int(config["model_params"]["dim"]))


# --- a run's logged evaluations -------------------------------------------------------------------

LIVE_METRICS = ("eval/angle_u_max", "eval/angle_v_max", "eval/form_rel_err", "eval/cond_cov_rel_err",
                "eval/cond_mean_rel_err")
"""What the live panel reads of a run: the largest principal angles and the relative errors."""
ANGLE_CURVES = (("eval/angle_u_max", "u side"), ("eval/angle_v_max", "v side"))
READOUTS = (("eval/angle_u_max", "largest angle (u)"), ("eval/form_rel_err", "form error vs reference"),
            ("eval/cond_mean_rel_err", "conditional mean error"),
            ("eval/cond_cov_rel_err", "conditional covariance error"))


def angle_curves(frame: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Legend label → (steps, degrees) of the largest principal angle on each side, from a
    metrics frame (columns name, step, value); sides never logged are left out."""
    curves = {}
    for name, label in ANGLE_CURVES:
        rows = frame[frame.name == name]
        if len(rows):
            curves[label] = (rows.step.to_numpy(), rows.value.to_numpy())
    return curves


def readouts(frame: pd.DataFrame) -> dict[str, str]:
    """Read-out label → the last logged value as shown: degrees for angles, percent for the
    relative errors, "—" when never logged."""
    last = frame.groupby("name").value.last() if len(frame) else {}
    out = {}
    for name, label in READOUTS:
        value = last.get(name)
        out[label] = "—" if value is None else (f"{value:.2f}°" if "angle" in name else f"{100 * value:.1f}%")
    return out


# --- cached wrappers for the page -----------------------------------------------------------------

@st.cache_data(max_entries=32, show_spinner=False)
def cached_solve(params: LabParams, chosen: int) -> Solved:
    return solve(params, chosen)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_learned(home: str, run_id: str, step: int, chosen: int) -> tuple[CondView, LabParams]:
    """The learned view of a run at its checkpoint ``step`` (the step only keys the cache)."""
    model, config = load_run_model(RunStore(home), run_id)
    params = run_params(config)
    return learned_view(model, population(params), chosen), params
