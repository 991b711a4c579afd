"""A synthetic ocean: random incompressible 2-D flows, drifters carried by them (the Lagrangian
modality) and the flow's velocity on a coarse grid (the Eulerian modality).

The flow lives on the periodic square [0, 2π)². Its stream function is a sum of Fourier modes
over the half-plane of integer wavevectors k with 1 ≤ |k| ≤ k_max,

    ψ(x, t) = Σ_m a_m cos(k_m·x − ω_m t) + b_m sin(k_m·x − ω_m t),

and the velocity (u, v) = (∂ψ/∂y, −∂ψ/∂x) is divergence-free by construction. The coefficients
are Gaussian, a_m, b_m ~ N(0, σ²_{r,m}), with a spectrum that depends on the flow's **regime** r:
regime r puts its energy near |k| = r + 1 (r = 0: one or two basin-wide eddies; higher r:
more and smaller eddies). The spectra are normalised so the mean squared speed is 2 (each
velocity component has unit variance). ω_m = ``unsteady`` · |k_m| makes the flow drift slowly
(0, the default, is a steady flow).

A sample is one flow. ``tracks`` (D, T + 1, 2) are the noisy positions of D drifters released at
random and advected with RK4 (``substeps`` RK4 steps per observation interval ``dt``), unwrapped
(not taken modulo 2π). ``field`` (3, G, G) is the velocity on a G × G grid at the middle of the
window, t = T·dt/2, with Gaussian noise, some cells masked (set to 0), and a third channel that is
1 where a cell is observed. The noiseless field (``extras["truth"]``, (n, 2, G, G)) and the
coefficients (``extras["coef"]``) are kept for scoring reconstructions; nothing a model sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from mmviz.data.base import DatasetInfo, PairedDataset, ParamSpec
from mmviz.data.registry import register, resolve_params
from mmviz.errors import MmvizError

TWO_PI = 2.0 * np.pi
SPLIT_STREAMS = {"train": 0, "test": 1}
SPECTRAL_WIDTH = 0.5  # width of each regime's energy peak in |k|
FLOW_CHUNK = 512  # flows evaluated at once (bounds the (flows, points, modes) temporaries)


@dataclass(frozen=True, eq=False)
class FlowBasis:
    """The Fourier modes of the flows and each regime's coefficient variances.

    ``k`` (M, 2) integer wavevectors (one of each ±k pair); ``variances`` (R, M): σ² of a_m and of
    b_m in regime r; ``unsteady``: ω_m = unsteady · |k_m|. A flow's coefficients are (2M,):
    a_1..a_M then b_1..b_M.
    """

    k: np.ndarray
    variances: np.ndarray
    unsteady: float = 0.0

    @property
    def n_modes(self) -> int:
        return len(self.k)

    @cached_property
    def omega(self) -> np.ndarray:
        return self.unsteady * np.linalg.norm(self.k, axis=1)

    def sample(self, regimes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Coefficients of one flow per regime label: (n,) → (n, 2M) float64."""
        std = np.sqrt(self.variances[np.asarray(regimes)])
        return np.concatenate([std, std], axis=1) * rng.standard_normal((len(regimes), 2 * self.n_modes))

    def modes(self, xy: np.ndarray, t: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Each mode's velocity at points xy (..., 2): the (..., 2, M) responses to a_m and to b_m.

        u = Σ a_m (−k_y sin θ_m) + b_m (k_y cos θ_m), v = Σ a_m (k_x sin θ_m) + b_m (−k_x cos θ_m),
        θ_m = k_m·x − ω_m t.
        """
        phase = self._phases(xy, t)
        s, c = phase.imag, phase.real
        kx, ky = self.k[:, 0].astype(np.float64), self.k[:, 1].astype(np.float64)
        resp_a = np.stack([-ky * s, kx * s], axis=-2)
        resp_b = np.stack([ky * c, -kx * c], axis=-2)
        return resp_a, resp_b

    def operator(self, xy: np.ndarray, t: float = 0.0) -> np.ndarray:
        """The linear map from coefficients (2M,) to the velocities at points xy (P, 2): (2P, 2M),
        rows u(x_1), v(x_1), u(x_2), ..."""
        resp_a, resp_b = self.modes(np.asarray(xy, np.float64), t)
        return np.concatenate([resp_a, resp_b], axis=-1).reshape(-1, 2 * self.n_modes)

    def velocity(self, coef: np.ndarray, xy: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Velocity of flows coef (F, 2M) at their own points xy (F, P, 2) → (F, P, 2)."""
        m = self.n_modes
        phase = self._phases(xy, t)
        s, c = phase.imag, phase.real
        kx, ky = self.k[:, 0].astype(np.float64), self.k[:, 1].astype(np.float64)
        a, b = coef[:, None, :m], coef[:, None, m:]
        # batched (P, M) @ (M, 2) products: u = s·(−k_y a) + c·(k_y b), v = s·(k_x a) + c·(−k_x b)
        ws = np.concatenate([-ky * a, kx * a], axis=1).transpose(0, 2, 1)
        wc = np.concatenate([ky * b, -kx * b], axis=1).transpose(0, 2, 1)
        return s @ ws + c @ wc

    def _phases(self, xy: np.ndarray, t: float) -> np.ndarray:
        """e^{iθ_m} at points xy (..., 2) → (..., M) complex, from powers of e^{ix} and e^{iy}
        (a few complex products instead of M sines and cosines per point)."""
        kmax = int(np.abs(self.k).max())
        ex, ey = np.exp(1j * xy[..., 0]), np.exp(1j * xy[..., 1])
        px, py = _powers(ex, kmax), _powers(ey, kmax)
        phase = px[..., self.k[:, 0] + kmax] * py[..., self.k[:, 1] + kmax]
        if self.unsteady and t:
            phase = phase * np.exp(-1j * self.omega * t)
        return phase

    def stream_function(self, coef: np.ndarray, xy: np.ndarray, t: float = 0.0) -> np.ndarray:
        """ψ of flows coef (F, 2M) at points xy (P, 2) shared by all → (F, P)."""
        phase = self._phases(np.asarray(xy, np.float64), t)
        m = self.n_modes
        return coef[:, :m] @ phase.real.T + coef[:, m:] @ phase.imag.T


def _powers(z: np.ndarray, kmax: int) -> np.ndarray:
    """z^j for j = −kmax..kmax of unit complex z (...,) → (..., 2 kmax + 1), by repeated products."""
    up = np.cumprod(np.repeat(z[..., None], kmax, axis=-1), axis=-1)
    return np.concatenate([np.conj(up[..., ::-1]), np.ones((*z.shape, 1), complex), up], axis=-1)


def flow_basis(regimes: int, unsteady: float = 0.0) -> FlowBasis:
    """The modes up to |k| = regimes + 1 and each regime's spectrum (peaked at |k| = r + 1,
    normalised to a mean squared speed of 2)."""
    k_max = regimes + 1
    ks = [(kx, ky) for kx in range(0, k_max + 1) for ky in range(-k_max, k_max + 1)
          if (kx > 0 or ky > 0) and 0 < kx * kx + ky * ky <= k_max * k_max]
    k = np.array(ks, dtype=np.int64)
    norm = np.linalg.norm(k, axis=1)
    variances = []
    for r in range(regimes):
        energy = np.exp(-0.5 * ((norm - (r + 1)) / SPECTRAL_WIDTH) ** 2)
        var = energy / norm**2  # the mode's kinetic energy is |k|² σ²
        variances.append(var * 2.0 / np.sum(var * norm**2))
    return FlowBasis(k, np.array(variances), float(unsteady))


def rk4(velocity: Callable[[np.ndarray, float], np.ndarray], x0: np.ndarray, t0: float, dt: float,
        steps: int) -> np.ndarray:
    """Classic fourth-order Runge–Kutta for dx/dt = velocity(x, t): x0 (..., 2) → (steps + 1, ..., 2)."""
    out = [np.asarray(x0, np.float64)]
    x, t = out[0], t0
    for _ in range(steps):
        k1 = velocity(x, t)
        k2 = velocity(x + 0.5 * dt * k1, t + 0.5 * dt)
        k3 = velocity(x + 0.5 * dt * k2, t + 0.5 * dt)
        k4 = velocity(x + dt * k3, t + dt)
        x = x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        t += dt
        out.append(x)
    return np.stack(out)


def grid_points(size: int) -> np.ndarray:
    """The G × G grid's points, row-major with y along rows: (G·G, 2); x_i = 2π i / G."""
    axis = TWO_PI * np.arange(size) / size
    gx, gy = np.meshgrid(axis, axis)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def grid_velocity(basis: FlowBasis, coef: np.ndarray, size: int, t: float = 0.0) -> np.ndarray:
    """Velocities of flows coef (F, 2M) on the G × G grid → (F, 2, G, G) float64 (exact)."""
    pts = grid_points(size)
    out = np.empty((len(coef), 2, size, size))
    for lo in range(0, len(coef), FLOW_CHUNK):
        part = coef[lo:lo + FLOW_CHUNK]
        vel = basis.velocity(part, np.broadcast_to(pts, (len(part), *pts.shape)), t)
        out[lo:lo + FLOW_CHUNK] = vel.transpose(0, 2, 1).reshape(len(part), 2, size, size)
    return out


def advect(basis: FlowBasis, coef: np.ndarray, x0: np.ndarray, dt: float, steps: int,
           substeps: int) -> np.ndarray:
    """Drifters of flows coef (F, 2M) from x0 (F, D, 2), observed every dt for ``steps`` steps →
    (F, D, steps + 1, 2) true positions (unwrapped)."""
    out = np.empty((len(coef), x0.shape[1], steps + 1, 2))
    h = dt / substeps
    for lo in range(0, len(coef), FLOW_CHUNK):
        part = coef[lo:lo + FLOW_CHUNK]
        path = rk4(lambda x, t, part=part: basis.velocity(part, x, t), x0[lo:lo + FLOW_CHUNK], 0.0, h, steps * substeps)
        out[lo:lo + FLOW_CHUNK] = path[::substeps].transpose(1, 2, 0, 3)
    return out


def velocity_observations(tracks: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """What a data-assimilation user reads off drifter tracks: finite-difference velocities at the
    midpoints of each step. tracks (..., T + 1, 2) → midpoints (..., T, 2), velocities (..., T, 2)."""
    return 0.5 * (tracks[..., 1:, :] + tracks[..., :-1, :]), (tracks[..., 1:, :] - tracks[..., :-1, :]) / dt


def _train_size(params: dict[str, Any]) -> int:
    return int(params["n"])


INFO = DatasetInfo(
    name="ocean-drifters",
    description=(
        "A synthetic ocean: random incompressible flows on a periodic square (Fourier-mode stream "
        "functions, one of a few regimes of eddy size); drifter tracks (advected with RK4) paired with "
        "the flow's noisy, partly masked velocity on a coarse grid."
    ),
    kind="pairs",
    modalities=("tracks", "field"),
    version=1,
    cacheable=True,
    train_size=_train_size,
    params=(
        ParamSpec("n", "int", 10_000, "training flows (pairs)", min=10, max=50_000),
        ParamSpec("n_test", "int", 1000, "test flows", min=10, max=10_000),
        ParamSpec("drifters", "int", 16, "drifters per flow (the observation density)", min=1, max=128),
        ParamSpec("steps", "int", 6, "observations per drifter after its release (T)", min=1, max=64),
        ParamSpec("dt", "float", 0.3, "time between observations (a unit-speed drifter crosses the "
                  "2π domain in about 6.3)", min=0.01, max=2.0),
        ParamSpec("pos_noise", "float", 0.05, "std of the drifter position errors", min=0.0, max=1.0),
        ParamSpec("grid", "int", 12, "the Eulerian grid is grid × grid cells", min=4, max=64),
        ParamSpec("field_noise", "float", 1.0, "std of the gridded velocity errors (velocities have unit std)",
                  min=0.0, max=5.0),
        ParamSpec("mask", "float", 0.7, "fraction of grid cells not observed (masked)", min=0.0, max=0.95),
        ParamSpec("regimes", "int", 3, "flow regimes: regime r has its eddies at wavenumber r + 1",
                  min=1, max=6),
        ParamSpec("unsteady", "float", 0.0, "slow time dependence: mode m drifts in phase at "
                  "unsteady · |k_m| (0 = steady)", min=0.0, max=2.0, advanced=True),
        ParamSpec("substeps", "int", 4, "RK4 steps per observation interval", min=1, max=64, advanced=True),
        ParamSpec("seed", "int", 0, "seed of the flows and observations", min=0),
    ),
)


@register(INFO)
def load_ocean(split: str = "train", **params: Any) -> PairedDataset:
    """Flows, tracks (n, D, T + 1, 2) float32 and fields (n, 3, G, G) float32 of one split.
    Metadata: ``index``, ``regime`` (the label) and ``speed`` (the flow's rms speed on the grid)."""
    if split not in SPLIT_STREAMS:
        raise MmvizError(f"dataset 'ocean-drifters' has no split {split!r}; splits: train, test")
    params = resolve_params(INFO.name, params)
    n = params["n"] if split == "train" else params["n_test"]
    basis = flow_basis(params["regimes"], params["unsteady"])
    rng = np.random.default_rng([params["seed"], SPLIT_STREAMS[split]])
    regimes = rng.integers(0, params["regimes"], n)
    coef = basis.sample(regimes, rng)
    size, dt, steps = params["grid"], params["dt"], params["steps"]
    x0 = rng.uniform(0.0, TWO_PI, (n, params["drifters"], 2))
    true_tracks = advect(basis, coef, x0, dt, steps, params["substeps"])
    tracks = true_tracks + params["pos_noise"] * rng.standard_normal(true_tracks.shape)
    t_mid = 0.5 * steps * dt
    truth = grid_velocity(basis, coef, size, t_mid)
    observed = rng.random((n, 1, size, size)) >= params["mask"]
    noisy = truth + params["field_noise"] * rng.standard_normal(truth.shape)
    field = np.concatenate([noisy * observed, observed.astype(np.float64)], axis=1)
    metadata = pd.DataFrame({
        "index": np.arange(n, dtype=np.int64),
        "regime": regimes.astype(np.int64),
        "speed": np.sqrt((truth**2).sum(1).mean((1, 2))),
    })
    extras = {
        "truth": truth.astype(np.float32),
        "coef": coef,
        "wavevectors": basis.k,
        "variances": basis.variances,
        "t_mid": t_mid,
    }
    return PairedDataset(INFO.name, split, params,
                         {"tracks": tracks.astype(np.float32), "field": field.astype(np.float32)},
                         metadata, extras)


def stream_on_grid(data: PairedDataset, index: int, size: int = 48) -> np.ndarray:
    """ψ of flow ``index`` of a loaded split on a size × size grid (rows = y) at the field's time."""
    pts = grid_points(size)
    coef = np.asarray(data.extras["coef"][index:index + 1])
    return basis_of(data).stream_function(coef, pts, float(data.extras["t_mid"]))[0].reshape(size, size)


def basis_of(data: PairedDataset) -> FlowBasis:
    """The :class:`FlowBasis` a loaded (or cached) ``ocean-drifters`` split was drawn from."""
    return FlowBasis(np.asarray(data.extras["wavevectors"]), np.asarray(data.extras["variances"]),
                     float(data.params["unsteady"]))
