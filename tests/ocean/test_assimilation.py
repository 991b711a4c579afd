"""The data-assimilation baselines against closed forms."""

from __future__ import annotations

import numpy as np
from scipy.stats import multivariate_normal

from mmviz.data import ocean
from mmviz.ocean.assimilation import Assimilator, gaussian_update, information_update, interpolation_matrix


def test_information_form_equals_the_closed_form_gaussian_update():
    rng = np.random.default_rng(0)
    D, K, r = 7, 11, 0.3
    var = rng.uniform(0.1, 2.0, D)
    H = rng.standard_normal((K, D))
    x = rng.standard_normal(D) * np.sqrt(var)
    y = H @ x + np.sqrt(r) * rng.standard_normal(K)
    mean_closed, _ = gaussian_update(np.zeros(D), np.diag(var), H, y, r)
    mean_info, log_ev = information_update(var, H, y, r)
    np.testing.assert_allclose(mean_info, mean_closed, atol=1e-12)
    expected = multivariate_normal(np.zeros(K), H @ np.diag(var) @ H.T + r * np.eye(K)).logpdf(y)
    assert abs(log_ev - expected) < 1e-9


def test_gaussian_update_is_the_textbook_posterior():
    # Scalar case by hand: prior N(1, 4), y = 2x + e, e ~ N(0, 1), y = 5: posterior precision
    # 1/4 + 4 = 4.25, mean (1/4 · 1 + 2 · 5) / 4.25.
    mean, cov = gaussian_update(np.array([1.0]), np.array([[4.0]]), np.array([[2.0]]), np.array([5.0]), 1.0)
    assert np.isclose(cov[0, 0], 1 / 4.25)
    assert np.isclose(mean[0], (0.25 + 10.0) / 4.25)


def test_optimal_interpolation_equals_the_closed_form_update_with_the_ensemble_covariance():
    train = ocean.load_ocean("train", n=400, n_test=10, drifters=3, steps=3, grid=6, regimes=1, seed=1)
    test = ocean.load_ocean("test", n=400, n_test=10, drifters=3, steps=3, grid=6, regimes=1, seed=1)
    assim = Assimilator.fit(train)
    truth = train.extras["truth"].reshape(400, -1).astype(np.float64)
    mean, cov = truth.mean(0), np.cov(truth, rowvar=False)
    tracks = test.modalities["tracks"][0]
    pts, y = ocean.velocity_observations(tracks.astype(np.float64), assim.dt)
    H = interpolation_matrix(pts.reshape(-1, 2) % (2 * np.pi), 6)
    closed, _ = gaussian_update(mean, cov, H, y.reshape(-1), assim.r_oi)
    np.testing.assert_allclose(assim.optimal_interpolation(tracks).ravel(), closed, atol=1e-6)


def test_interpolation_is_exact_at_grid_points_and_sums_to_one():
    H = interpolation_matrix(np.array([[0.0, 0.0], [2 * np.pi / 4 * 1.5, 2 * np.pi / 4 * 3.25]]), 4)
    assert np.allclose(H.sum(1), 1.0)
    field = np.arange(32, dtype=float).reshape(2, 4, 4)
    assert np.allclose(H[:2] @ field.ravel(), [field[0, 0, 0], field[1, 0, 0]])
    # x between columns 1 and 2, y a quarter of the way from row 3 to row 0 (periodic)
    row3, row0 = 0.5 * field[0, 3, 1] + 0.5 * field[0, 3, 2], 0.5 * field[0, 0, 1] + 0.5 * field[0, 0, 2]
    expected = 0.75 * row3 + 0.25 * row0
    assert np.isclose(H[2] @ field.ravel(), expected)


def test_the_exact_conditional_beats_climatology_and_finds_the_regime():
    params = dict(n=300, n_test=40, drifters=8, steps=6, grid=8, regimes=3, seed=3)
    train, test = ocean.load_ocean("train", **params), ocean.load_ocean("test", **params)
    assim = Assimilator.fit(train)
    truth = test.extras["truth"].astype(np.float64)
    post = [assim.exact_posterior(t) for t in test.modalities["tracks"]]
    exact = np.array([assim.coef_to_grid(c) for c, _ in post])
    oi = np.array([assim.optimal_interpolation(t) for t in test.modalities["tracks"]])
    clim = np.sqrt(np.mean((truth - assim.climatology()) ** 2))
    assert np.sqrt(np.mean((truth - exact) ** 2)) < 0.5 * clim
    assert np.sqrt(np.mean((truth - oi) ** 2)) < 0.8 * clim
    assert np.mean([p.argmax() == r for (_, p), r in zip(post, test.metadata["regime"])]) > 0.8
    # with the truth's own coefficients the grid map is exact
    np.testing.assert_allclose(assim.coef_to_grid(test.extras["coef"][0]), truth[0], atol=1e-5)


def test_the_analog_bound_averages_the_nearest_training_flows():
    from mmviz.ocean.study import analog_bound

    pool = np.arange(5, dtype=float)[:, None, None, None] * np.ones((5, 2, 2, 2))
    truth = np.full((2, 2, 2, 2), 3.2)
    truth[1] = 0.1
    out = analog_bound(truth, pool, k=2)
    np.testing.assert_allclose(out[0], 3.5)  # members 3 and 4
    np.testing.assert_allclose(out[1], 0.5)  # members 0 and 1
