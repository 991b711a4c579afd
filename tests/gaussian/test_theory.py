"""The closed-form references of mmviz.gaussian.theory against Monte Carlo and against
numerical optimisation of the population loss over general encoders."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmviz.data.gaussian import gaussian_model
from mmviz.errors import MmvizError
from mmviz.gaussian import theory as gt
from mmviz.losses.tilts import gaussian_conditional_nll


@pytest.fixture(scope="module")
def small():
    return gaussian_model(du=5, dv=4, k=2, rho_max=0.8, decay=0.6, noise=0.3, mean_scale=0.5, structure_seed=3)


def test_pmi_form_equals_the_density_ratio(small):
    u, v, _ = small.sample(50, np.random.default_rng(0))
    np.testing.assert_allclose(gt.pmi(small, u, v), small.log_density_ratio(u, v), atol=1e-10)
    form = gt.pmi_form(small)
    assert np.linalg.matrix_rank(form.M, tol=1e-9) == 2  # the cross term has rank k


def test_pmi_monte_carlo(small):
    """E_p[pmi] = I(u; v), and E_{p(u)p(v)}[e^pmi] = 1 (the tilt of the product is normalised)."""
    rng = np.random.default_rng(1)
    u, v, _ = small.sample(200_000, rng)
    values = gt.pmi(small, u, v)
    assert values.mean() == pytest.approx(small.mutual_information(), abs=4 * values.std() / np.sqrt(len(u)))
    shuffled = gt.pmi(small, u, v[rng.permutation(len(v))])
    assert np.exp(shuffled).mean() == pytest.approx(1.0, abs=0.03)


def test_conditionals_monte_carlo(small):
    """Regressing v on u in a big sample gives the closed-form coefficient and residual covariance."""
    u, v, _ = small.sample(200_000, np.random.default_rng(2))
    x = np.hstack([u - u.mean(0), np.ones((len(u), 1))])
    beta = np.linalg.lstsq(x, v, rcond=None)[0]
    cond = gt.true_conditional(small, "u")
    assert gt.mean_relative_error(beta[:-1].T, cond.coef, small.cov_uu) < 0.03
    residual = v - x @ beta
    assert gt.cov_relative_error(np.cov(residual, rowvar=False), cond.cov) < 0.02
    cc = gt.canonical(small)
    np.testing.assert_allclose(cc.P.T @ cc.P, np.eye(len(cc.rho)), atol=1e-10)
    np.testing.assert_allclose(gt.implied_correlations(cond.coef, small)[:2], cc.rho[:2], atol=1e-10)


@pytest.mark.parametrize("tilt,direction", [("dot", "v|u"), ("l2", "v|u"), ("l2", "u|v"),
                                            ("l2", "both")])
def test_closed_form_is_the_population_optimum(small, tilt, direction):
    """Float64 L-BFGS over general encoders lands on the closed form (same loss, same form)."""
    ref = gt.reference(small, tilt, direction, 2)
    G_u, G_v, loss = gt.optimise_population(small, tilt, direction, 2, iters=150)
    with torch.no_grad():
        ref_loss = float(gt.population_loss(small, ref.G_u, ref.G_v, tilt, direction))
    assert loss == pytest.approx(ref_loss, abs=1e-8)
    assert gt.form_relative_error(G_u.T @ G_v, ref.W, small) < 1e-4


def test_l2_one_sided_reproduces_the_conditional(small):
    for given, direction in (("u", "v|u"), ("v", "u|v")):
        ref = gt.reference(small, "l2", direction, 2)
        learned = gt.learned_conditional(ref.G_u, ref.G_v, "l2", small.cov_uu, small.cov_vv, given)
        truth = gt.true_conditional(small, given)
        np.testing.assert_allclose(learned.cov, truth.cov, atol=1e-10)
        np.testing.assert_allclose(learned.coef, truth.coef, atol=1e-10)


def test_symmetric_l2_compromise(small):
    """Fitting both conditionals the L2 optimum learns variance x = (√(9−8ρ)−1)/2 per pair."""
    ref = gt.reference(small, "l2", "both", 2)
    learned = gt.learned_conditional(ref.G_u, ref.G_v, "l2", small.cov_uu, small.cov_vv, "u")
    rho = gt.canonical(small).rho[:2]
    x = gt.l2_symmetric_variance(rho)
    np.testing.assert_allclose(gt.implied_correlations(learned.coef, small)[:2], 1 - x, atol=1e-10)
    assert gt.cov_relative_error(learned.cov, gt.true_conditional(small).cov) > 0.01
    assert np.all(x < 1 - rho**2)  # narrower than the truth, around a shrunk mean
    assert np.all(1 - x < rho)


def test_dot_is_the_truncated_svd(small):
    """Rank 1 < k: the whitened form is the best rank-1 approximation of C (Eckart–Young)."""
    ref = gt.reference(small, "dot", "both", 1)
    left, s, right_t = np.linalg.svd(gt.whitened_cross(small))
    np.testing.assert_allclose(gt.whiten_form(ref.W, small), s[0] * np.outer(left[:, 0], right_t[0]), atol=1e-10)
    cond = gt.learned_conditional(ref.G_u, ref.G_v, "dot", small.cov_uu, small.cov_vv)
    np.testing.assert_allclose(cond.cov, small.cov_vv)  # the dot tilt keeps the marginal covariance


def test_probabilistic_loss_is_the_population_kl(small):
    """E[conditional NLL] = E KL(p(v|u) ‖ p_θ(v|u)) − I(u; v), by Monte Carlo, at a random G."""
    rng = np.random.default_rng(4)
    G_u, G_v = 0.5 * rng.standard_normal((2, small.du)), 0.5 * rng.standard_normal((2, small.dv))
    u, v, _ = small.sample(400_000, rng)
    f64 = dict(dtype=torch.float64)
    za = torch.as_tensor((u - small.mean_u) @ G_u.T, **f64)
    zb = torch.as_tensor((v - small.mean_v) @ G_v.T, **f64)
    S_a = torch.as_tensor(G_u @ small.cov_uu @ G_u.T, **f64)
    S_b = torch.as_tensor(G_v @ small.cov_vv @ G_v.T, **f64)
    for tilt in ("l2", "dot"):
        nll = float(gaussian_conditional_nll(za, zb, S_a, S_b, tilt, "v|u"))
        kl = float(gt.population_loss(small, G_u, G_v, tilt, "v|u"))
        assert nll == pytest.approx(kl - small.mutual_information(), abs=0.01)


def test_importance_sampling_matches_the_gaussian_conditional(small):
    ref = gt.reference(small, "l2", "both", 2)
    cond = gt.learned_conditional(ref.G_u, ref.G_v, "l2", small.cov_uu, small.cov_vv)
    rng = np.random.default_rng(5)
    u, _, _ = small.sample(3, rng)
    _, pool, _ = small.sample(200_000, rng)

    def score(a, b):
        za, zb = (a - small.mean_u) @ ref.G_u.T, (b - small.mean_v) @ ref.G_v.T
        return -0.5 * ((za[:, None, :] - zb[None, :, :]) ** 2).sum(-1)

    means, covs, ess = gt.importance_conditional(score, u, pool)
    np.testing.assert_allclose(means, small.mean_v + (u - small.mean_u) @ cond.coef.T, atol=0.02)
    for c in covs:
        assert gt.cov_relative_error(c, cond.cov) < 0.03
    assert np.all(ess > 1000)
    draws = gt.sample_gaussian_conditional(cond, small.mean_v, small.mean_u, u[0], 20_000, rng)
    assert gt.cov_relative_error(np.cov(draws, rowvar=False), cond.cov) < 0.05


def test_angles_and_errors():
    x = np.eye(4)[:, :2]
    assert gt.principal_angles_deg(x, x @ np.array([[1.0, 1.0], [0.0, 2.0]])).max() < 1e-6
    assert gt.principal_angles_deg(x, np.eye(4)[:, 2:]).min() == pytest.approx(90.0)
    assert gt.cov_relative_error(2 * np.eye(3), np.eye(3)) == pytest.approx(1.0)


@pytest.mark.slow
def test_cosine_optimum_lives_in_the_canonical_subspace():
    """Full-space float64 optimisation of the cosine tilt's InfoNCE from a random start ends in
    the canonical subspace, which numerical_reference assumes; and its reference loss is lower
    than that of the dot tilt's optimum it starts from."""
    model = gaussian_model(du=4, dv=4, k=2, rho_max=0.9, decay=0.7, noise=0.5)
    u, v, _ = model.sample(400, np.random.default_rng(8))
    u_t, v_t = (torch.as_tensor(x - x.mean(0)) for x in (u, v))
    gen = torch.Generator().manual_seed(0)
    G_u = torch.randn(2, 4, generator=gen, dtype=torch.float64).requires_grad_()
    G_v = torch.randn(2, 4, generator=gen, dtype=torch.float64).requires_grad_()
    log_tau = torch.tensor(np.log(0.3), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([G_u, G_v, log_tau], max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = gt.cosine_infonce(G_u, G_v, log_tau, u_t, v_t, "both")
        loss.backward()
        return loss

    opt.step(closure)
    su, sv = gt.form_subspaces(G_u.detach().numpy().T @ G_v.detach().numpy(), model, 2)
    cc = gt.canonical(model)
    assert gt.principal_angles_deg(su, cc.A[:, :2]).max() < 15.0
    assert gt.principal_angles_deg(sv, cc.B[:, :2]).max() < 15.0
    ref = gt.numerical_reference(model, "cosine", "both", rank=2, n=400, iters=60)
    assert not ref.closed_form and "numerical" in ref.note and 0.01 < ref.temperature < 10.0
    assert gt.principal_angles_deg(gt.form_subspaces(ref.W, model, 2)[0], cc.A[:, :2]).max() < 1e-6


def test_bad_input():
    model = gaussian_model(du=3, dv=3, k=1)
    with pytest.raises(MmvizError):
        gt.reference(model, "cosine", "both", 1)
    with pytest.raises(MmvizError):
        gt.reference(model, "l2", "sideways", 1)
    with pytest.raises(MmvizError):
        gt.pmi_form(gaussian_model(du=3, dv=3, k=1, n_classes=3))
