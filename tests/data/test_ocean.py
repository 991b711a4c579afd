"""The synthetic ocean: incompressible flows, RK4 advection, the dataset's shapes and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from mmviz.data import ocean


def _spectral_divergence(field: np.ndarray) -> np.ndarray:
    """∂u/∂x + ∂v/∂y of a periodic (2, G, G) field (rows = y, columns = x), by FFT."""
    size = field.shape[-1]
    k = np.fft.fftfreq(size, d=1.0 / size)  # integer wavenumbers on [0, 2π)
    du = np.fft.ifft(1j * k[None, :] * np.fft.fft(field[0], axis=1), axis=1).real
    dv = np.fft.ifft(1j * k[:, None] * np.fft.fft(field[1], axis=0), axis=0).real
    return du + dv


@pytest.mark.parametrize("regimes, unsteady", [(1, 0.0), (3, 0.0), (4, 0.5)])
def test_the_gridded_flow_is_divergence_free(regimes, unsteady):
    basis = ocean.flow_basis(regimes, unsteady)
    rng = np.random.default_rng(0)
    coef = basis.sample(rng.integers(0, regimes, 5), rng)
    fields = ocean.grid_velocity(basis, coef, 16, t=0.7)
    for f in fields:
        speed = np.sqrt((f**2).sum(0)).mean()
        assert speed > 0.3  # a real flow, not zeros
        assert np.abs(_spectral_divergence(f)).max() < 1e-10 * speed


def test_spectra_are_normalised_to_unit_velocity_variance():
    basis = ocean.flow_basis(3)
    norm2 = (basis.k**2).sum(1)
    for var in basis.variances:
        assert np.isclose(np.sum(var * norm2), 2.0)  # E(u² + v²) = 2
    rng = np.random.default_rng(1)
    coef = basis.sample(np.full(4000, 1), rng)
    vel = ocean.grid_velocity(basis, coef, 8)
    assert np.isclose(vel.var(axis=(0, 2, 3)), 1.0, rtol=0.08).all()


def test_rk4_converges_at_fourth_order_on_a_rotation():
    # Solid-body rotation (u, v) = (−ω y, ω x): the exact trajectory is a rotation by ω t.
    omega, x0, t_end = 1.3, np.array([[0.8, -0.3]]), 2.0

    def velocity(x, t):
        return np.stack([-omega * x[..., 1], omega * x[..., 0]], axis=-1)

    angle = omega * t_end
    exact = x0 @ np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    errors = []
    for steps in (10, 20, 40, 80):
        path = ocean.rk4(velocity, x0, 0.0, t_end / steps, steps)
        errors.append(np.linalg.norm(path[-1] - exact))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 4.0) < 0.15), orders


def test_drifters_follow_the_flow_they_were_advected_by():
    basis = ocean.flow_basis(2)
    rng = np.random.default_rng(2)
    coef = basis.sample(np.array([0, 1]), rng)
    x0 = rng.uniform(0, 2 * np.pi, (2, 5, 2))
    coarse = ocean.advect(basis, coef, x0, 0.2, 6, 2)
    fine = ocean.advect(basis, coef, x0, 0.2, 6, 32)
    assert coarse.shape == (2, 5, 7, 2)
    assert np.abs(coarse - fine).max() < 1e-3
    # the finite-difference velocities match the flow at the midpoints to O(dt²)
    mid, vel = ocean.velocity_observations(fine, 0.2)
    true = basis.velocity(coef, mid.reshape(2, -1, 2)).reshape(vel.shape)
    assert np.abs(vel - true).max() < 0.1


def test_the_dataset_is_deterministic_and_shaped():
    params = dict(n=20, n_test=10, drifters=3, steps=4, grid=8, seed=5)
    a = ocean.load_ocean("train", **params)
    b = ocean.load_ocean("train", **params)
    assert a.modalities["tracks"].shape == (20, 3, 5, 2)
    assert a.modalities["field"].shape == (20, 3, 8, 8)
    assert a.extras["truth"].shape == (20, 2, 8, 8)
    np.testing.assert_array_equal(a.modalities["tracks"], b.modalities["tracks"])
    test = ocean.load_ocean("test", **params)
    assert not np.allclose(test.modalities["tracks"][:10], a.modalities["tracks"][:10])
    observed = a.modalities["field"][:, 2]
    assert set(np.unique(observed)) <= {0.0, 1.0}
    assert np.all(a.modalities["field"][:, :2][np.broadcast_to(observed[:, None] == 0, (20, 2, 8, 8))] == 0)
    assert set(a.metadata["regime"]) <= {0, 1, 2}
