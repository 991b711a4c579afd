"""The Gaussian dataset: its population is exact, and its samples agree with it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from mmviz.data.gaussian import INFO, GaussianModel, gaussian_model, load_gaussian
from mmviz.data.registry import load
from mmviz.errors import MmvizError

SHAPES = [
    dict(du=8, dv=8, k=3),
    dict(du=5, dv=3, k=2, rho_max=0.9, decay=0.5),
    dict(du=3, dv=6, k=3, rhos="0.3,0.99,0.6"),
    dict(du=1, dv=1, k=1, rho_max=0.5),
]
N_LARGE = 200_000


def sample_cca(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Canonical correlations of a sample, via Cholesky whitening (independent of the library's code)."""
    cov = np.cov(np.concatenate([u, v], axis=1), rowvar=False)
    du = u.shape[1]
    l_u = np.linalg.cholesky(cov[:du, :du])
    l_v = np.linalg.cholesky(cov[du:, du:])
    whitened = np.linalg.solve(l_u, np.linalg.solve(l_v, cov[du:, :du]).T)
    return np.linalg.svd(whitened, compute_uv=False)


def large_sample(model: GaussianModel, seed: int = 1):
    return model.sample(N_LARGE, np.random.default_rng(seed))


@pytest.mark.parametrize("params", SHAPES)
def test_population_has_the_chosen_spectrum(params) -> None:
    model = gaussian_model(**params)
    k = params["k"]
    if "rhos" in params:
        expected = sorted(map(float, params["rhos"].split(",")), reverse=True)
    else:
        expected = params.get("rho_max", 0.95) * params.get("decay", 0.7) ** np.arange(k)
    np.testing.assert_allclose(model.rhos, expected)
    rho = model.canonical_correlations
    assert rho.shape == (min(params["du"], params["dv"]),)
    np.testing.assert_allclose(rho[:k], expected, atol=1e-10)
    np.testing.assert_allclose(rho[k:], 0.0, atol=1e-10)


@pytest.mark.parametrize("params", SHAPES)
def test_canonical_directions_whiten_and_pair(params) -> None:
    model = gaussian_model(**params)
    a, b = model.canonical_directions
    r = min(model.du, model.dv)
    np.testing.assert_allclose(a.T @ model.cov_uu @ a, np.eye(r), atol=1e-9)
    np.testing.assert_allclose(b.T @ model.cov_vv @ b, np.eye(r), atol=1e-9)
    np.testing.assert_allclose(a.T @ model.cov_uv @ b, np.diag(model.canonical_correlations), atol=1e-9)


@pytest.mark.parametrize("params", SHAPES)
def test_conditionals_in_canonical_coordinates(params) -> None:
    """In canonical variates, E[b | u] = diag(ρ) a and Cov[b | u] = I − diag(ρ²)."""
    model = gaussian_model(**params, mean_scale=1.0)
    a_dir, b_dir = model.canonical_directions
    rho = model.canonical_correlations
    u = np.random.default_rng(0).standard_normal((7, model.du))
    b_mean = (model.cond_mean_v_given_u(u) - model.mean_v) @ b_dir
    np.testing.assert_allclose(b_mean, ((u - model.mean_u) @ a_dir) * rho, atol=1e-9)
    np.testing.assert_allclose(b_dir.T @ model.cond_cov_v_given_u() @ b_dir, np.diag(1 - rho**2), atol=1e-9)
    v = np.random.default_rng(1).standard_normal((7, model.dv))
    a_mean = (model.cond_mean_u_given_v(v) - model.mean_u) @ a_dir
    np.testing.assert_allclose(a_mean, ((v - model.mean_v) @ b_dir) * rho, atol=1e-9)
    np.testing.assert_allclose(a_dir.T @ model.cond_cov_u_given_v() @ a_dir, np.diag(1 - rho**2), atol=1e-9)


@pytest.mark.parametrize("n_classes", [0, 4])
def test_sample_moments_match_population(n_classes: int) -> None:
    model = gaussian_model(du=6, dv=5, k=3, mean_scale=1.0, n_classes=n_classes)
    u, v, _ = large_sample(model)
    x = np.concatenate([u, v], axis=1)
    sd = np.sqrt(np.diag(model.cov))
    np.testing.assert_array_less(np.abs(x.mean(axis=0) - model.mean), 5 * sd / np.sqrt(N_LARGE))
    # Standard error of a sample covariance entry: sqrt((Σii Σjj + Σij²) / n).
    stderr = np.sqrt((np.outer(sd**2, sd**2) + model.cov**2) / N_LARGE)
    np.testing.assert_array_less(np.abs(np.cov(x, rowvar=False) - model.cov), 5 * stderr)


@pytest.mark.parametrize("params", SHAPES[:3])
def test_sample_canonical_correlations_match_spectrum(params) -> None:
    model = gaussian_model(**params)
    u, v, _ = large_sample(model)
    np.testing.assert_allclose(sample_cca(u, v), model.canonical_correlations, atol=0.01)


@pytest.mark.parametrize("direction", ["v_given_u", "u_given_v"])
def test_regression_and_residuals_match_conditionals(direction: str) -> None:
    model = gaussian_model(du=6, dv=4, k=3, mean_scale=1.0)
    u, v, _ = large_sample(model)
    if direction == "v_given_u":
        x, y, coef, cov = u, v, model.coef_v_given_u, model.cond_cov_v_given_u()
        intercept = model.cond_mean_v_given_u(np.zeros((1, model.du)))[0]
        mean_x, cov_x = model.mean_u, model.cov_uu
    else:
        x, y, coef, cov = v, u, model.coef_u_given_v, model.cond_cov_u_given_v()
        intercept = model.cond_mean_u_given_v(np.zeros((1, model.dv)))[0]
        mean_x, cov_x = model.mean_v, model.cov_vv
    design = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    fit, *_ = np.linalg.lstsq(design, y, rcond=None)
    # OLS standard errors: Var(coef_ij) = Cov[y|x]_ii (Σxx⁻¹)_jj / n, and for the intercept
    # Cov[y|x]_ii (1 + μxᵀ Σxx⁻¹ μx) / n.
    sd = np.sqrt(np.diag(cov))
    precision = np.linalg.inv(cov_x)
    coef_se = np.outer(sd, np.sqrt(np.diag(precision))) / np.sqrt(N_LARGE)
    intercept_se = sd * np.sqrt((1 + mean_x @ precision @ mean_x) / N_LARGE)
    np.testing.assert_array_less(np.abs(fit[:-1].T - coef), 5 * coef_se)
    np.testing.assert_array_less(np.abs(fit[-1] - intercept), 5 * intercept_se)
    residual = y - design @ fit
    stderr = np.sqrt((np.outer(sd**2, sd**2) + cov**2) / N_LARGE)
    np.testing.assert_array_less(np.abs(np.cov(residual, rowvar=False) - cov), 5 * stderr)


@pytest.mark.parametrize("params", SHAPES)
def test_log_density_ratio_matches_scipy(params) -> None:
    model = gaussian_model(**params, mean_scale=0.5)
    u, v, _ = model.sample(50, np.random.default_rng(3))
    x = np.concatenate([u, v], axis=1)
    expected = (
        multivariate_normal(model.mean, model.cov).logpdf(x)
        - multivariate_normal(model.mean_u, model.cov_uu).logpdf(u)
        - multivariate_normal(model.mean_v, model.cov_vv).logpdf(v)
    )
    np.testing.assert_allclose(model.log_density_ratio(u, v), np.atleast_1d(expected), rtol=1e-9, atol=1e-9)


def test_log_density_ratio_averages_to_mutual_information() -> None:
    model = gaussian_model(du=4, dv=4, k=2, rho_max=0.9)
    u, v, _ = large_sample(model)
    pmi = model.log_density_ratio(u, v)
    assert model.mutual_information() == pytest.approx(-0.5 * np.log((1 - 0.81) * (1 - 0.63**2)))
    assert abs(pmi.mean() - model.mutual_information()) < 5 * pmi.std() / np.sqrt(N_LARGE)


def test_mixture_log_density_ratio_matches_scipy() -> None:
    model = gaussian_model(du=4, dv=3, k=2, n_classes=3, mean_scale=0.5)
    u, v, _ = model.sample(40, np.random.default_rng(4))
    x = np.concatenate([u, v], axis=1)
    du, w = model.du, model.within_cov

    def mixture_logpdf(data, part):
        comps = [multivariate_normal(m[part], w[part, part]).logpdf(data) for m in model.class_means]
        return logsumexp(np.stack(comps, axis=1), axis=1) - np.log(3)

    expected = mixture_logpdf(x, slice(None)) - mixture_logpdf(u, slice(0, du)) - mixture_logpdf(v, slice(du, None))
    np.testing.assert_allclose(model.log_density_ratio(u, v), expected, rtol=1e-9, atol=1e-9)


def test_one_class_mixture_is_the_plain_gaussian() -> None:
    plain = gaussian_model(du=4, dv=4, k=2, mean_scale=1.0)
    single = gaussian_model(du=4, dv=4, k=2, mean_scale=1.0, n_classes=1)
    np.testing.assert_allclose(single.cov, plain.cov)
    np.testing.assert_allclose(single.class_means, plain.mean[None])
    u, v, _ = plain.sample(20, np.random.default_rng(0))
    np.testing.assert_allclose(single.log_density_ratio(u, v), plain.log_density_ratio(u, v), atol=1e-9)
    with pytest.raises(ValueError, match="no closed form"):
        single.mutual_information()


def test_mixture_classes_sit_at_their_means() -> None:
    model = gaussian_model(du=4, dv=4, k=2, n_classes=5, class_sep=3.0)
    u, v, labels = large_sample(model)
    x = np.concatenate([u, v], axis=1)
    counts = np.bincount(labels, minlength=5)
    np.testing.assert_allclose(counts / N_LARGE, 0.2, atol=0.01)
    sd = np.sqrt(np.diag(model.within_cov))
    for c in range(5):
        err = np.abs(x[labels == c].mean(axis=0) - model.class_means[c])
        np.testing.assert_array_less(err, 5 * sd / np.sqrt(counts[c]))
    # Class means differ only along the shared directions: the within-class spectrum is unchanged,
    # and the classes raise the total canonical correlations of the shared directions.
    total = model.canonical_correlations
    assert np.all(total[:2] > model.rhos) and np.all(total[:2] < 1)
    np.testing.assert_allclose(total[2:], 0.0, atol=1e-10)


@pytest.mark.parametrize("n_classes", [0, 3])
def test_loaded_dataset_shapes_and_dtypes(n_classes: int) -> None:
    train = load_gaussian("train", du=5, dv=3, k=2, n=120, n_test=30, n_classes=n_classes)
    test = load_gaussian("test", du=5, dv=3, k=2, n=120, n_test=30, n_classes=n_classes)
    assert (len(train), len(test)) == (120, 30)
    assert train.pair == ("u", "v")
    assert train.modalities["u"].dtype == np.float32 and train.modalities["u"].shape == (120, 5)
    assert train.modalities["v"].dtype == np.float32 and train.modalities["v"].shape == (120, 3)
    columns = ["index", "label"] if n_classes else ["index"]
    assert list(train.metadata.columns) == columns
    np.testing.assert_array_equal(train.metadata["index"], np.arange(120))
    if n_classes:
        assert train.metadata["label"].dtype == np.int64
        assert set(train.metadata["label"]) == {0, 1, 2}
    assert isinstance(train.extras["model"], GaussianModel)
    np.testing.assert_allclose(train.extras["rhos"], [0.95, 0.665])
    if not n_classes:  # with classes the total covariance's correlations are higher (see above)
        np.testing.assert_allclose(train.extras["canonical_correlations"], [0.95, 0.665, 0.0], atol=1e-10)


def test_determinism_and_splits_share_population() -> None:
    a = load_gaussian("train", n=100)
    b = load_gaussian("train", n=100)
    np.testing.assert_array_equal(a.modalities["u"], b.modalities["u"])
    np.testing.assert_array_equal(a.modalities["v"], b.modalities["v"])
    other_seed = load_gaussian("train", n=100, seed=1)
    assert not np.allclose(a.modalities["u"], other_seed.modalities["u"])
    test = load_gaussian("test", n=100, n_test=100)
    assert not np.allclose(a.modalities["u"], test.modalities["u"])
    np.testing.assert_array_equal(a.extras["model"].cov, test.extras["model"].cov)
    np.testing.assert_array_equal(a.extras["model"].cov, other_seed.extras["model"].cov)
    other_population = load_gaussian("train", n=100, structure_seed=1)
    assert not np.allclose(a.extras["model"].cov, other_population.extras["model"].cov)


def test_model_from_dataset_params() -> None:
    data = load_gaussian("train", n=10, du=4, dv=6, k=2, n_classes=2)
    model = gaussian_model(**data.params)
    np.testing.assert_array_equal(model.cov, data.extras["model"].cov)
    np.testing.assert_array_equal(model.class_means, data.extras["model"].class_means)


def test_registered_and_loadable_by_name() -> None:
    assert INFO.name == "gaussian" and INFO.kind == "pairs" and INFO.modalities == ("u", "v")
    data = load("gaussian", split="test", n_test=7, dv=2, k=1)
    assert data.modalities["v"].shape == (7, 2)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(du=2, dv=8, k=3), "k = 3"),
        (dict(k=3, rhos="0.5,0.4"), "lists 2 correlations"),
        (dict(k=2, rhos="0.5,1.0"), r"\[0, 1\)"),
        (dict(k=1, rhos="half"), "comma-separated"),
        (dict(rho_max=1.0), "0.999"),
        (dict(nonsense=1), "no parameter 'nonsense'"),
    ],
)
def test_bad_parameters_say_what_is_wrong(params, message: str) -> None:
    with pytest.raises(MmvizError, match=message):
        load_gaussian("train", **params)
