"""Projections to the Poincaré disk: radius kept, strictly inside, isometric recentring, and
quality read-outs on configurations whose answer is known."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from mmviz.data.embeddings_io import EmbeddingSet
from mmviz.errors import MmvizError
from mmviz.explorer.projections import frechet_mean, hyperboloid, original_depth, project, project_set
from mmviz.geometry import get_geometry
from mmviz.geometry.disk import pairwise_dist as disk_pairwise
from mmviz.metrics.projection import quality


def hyperbolic_points(geometry: str, c: float, n: int = 300, d: int = 8, rmax: float = 8.0, seed: int = 0):
    """Points at known distances from the origin (uniform in [0.05, rmax]) in random directions."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, d))
    radius = rng.uniform(0.05, rmax, size=n)
    v *= (radius / np.linalg.norm(v, axis=1))[:, None]
    x = get_geometry(geometry, c).expmap0(torch.as_tensor(v)).numpy()
    return x, radius


@pytest.mark.parametrize("geometry", ["lorentz", "poincare"])
@pytest.mark.parametrize("c", [0.3, 1.0, 2.5])
def test_radial_keeps_the_distance_from_the_origin(geometry, c):
    x, radius = hyperbolic_points(geometry, c)
    proj = project(x, geometry, c, "radial")
    assert proj.unit == pytest.approx(math.sqrt(c))
    np.testing.assert_allclose(proj.depth, radius, rtol=1e-9)
    # display distance from the centre / sqrt(c) is the original distance
    np.testing.assert_allclose(proj.radius / proj.unit, radius, rtol=1e-7)
    assert quality(x, proj, sample=200)["radius_spearman"] == 1.0


@pytest.mark.parametrize("method", ["radial", "tangent-pca"])
def test_every_point_is_strictly_inside_the_disk_even_far_out(method):
    x, _ = hyperbolic_points("lorentz", 1.0, n=200, rmax=60.0)  # tanh(60/2) rounds to 1 in float64
    proj = project(x, "lorentz", 1.0, method)
    assert proj.disk.shape == (200, 2) and np.isfinite(proj.disk).all()
    assert (np.linalg.norm(proj.disk, axis=1) < 1.0).all()


def test_radial_angles_follow_the_leading_directions():
    # Points spread in the (e1, e2) plane keep their angle up to the PCA's rotation/reflection.
    theta = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    v = np.zeros((24, 5))
    v[:, 0], v[:, 1] = 2 * np.cos(theta), 2 * np.sin(theta)
    x = get_geometry("poincare", 1.0).expmap0(torch.as_tensor(v)).numpy()
    proj = project(x, "poincare", 1.0, "radial")
    d_orig = get_geometry("poincare").pairwise_dist(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(disk_pairwise(proj.disk), d_orig, atol=1e-8)  # an isometry here


def test_frechet_mean_of_a_boosted_symmetric_pair_is_the_boost_centre():
    from mmviz.explorer.projections import _boost, _hyp_expmap0

    m = _hyp_expmap0(np.array([[0.9, -0.4, 0.3]]))[0]
    v = np.array([[1.5, 0.2, 0.0], [-1.5, -0.2, 0.0]])
    pts = _boost(m, _hyp_expmap0(v))  # isometric images of ±v around m
    np.testing.assert_allclose(frechet_mean(pts), m, atol=1e-9)
    # the hyperboloid conversion agrees for both hyperbolic models
    x, _ = hyperbolic_points("lorentz", 2.0, n=20, d=3)
    p = get_geometry("lorentz", 2.0).to_poincare(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(hyperboloid(x, "lorentz", 2.0), hyperboloid(p, "poincare", 2.0), rtol=1e-6)


def test_tangent_pca_puts_the_origin_at_the_centre_and_is_exact_in_2d():
    x, _ = hyperbolic_points("poincare", 1.0, n=100, d=2, rmax=3.0)
    x = np.vstack([np.zeros((1, 2)), x])
    proj = project(x, "poincare", 1.0, "tangent-pca")
    assert np.abs(proj.disk[0]).max() < 1e-9
    # distances from the Fréchet mean are kept exactly (log/exp at the mean)
    q = quality(x, proj)
    assert q["trustworthiness"] > 0.9 and q["radius_spearman"] > 0.99


@pytest.mark.parametrize(("geometry", "c"), [("poincare", 1.0), ("poincare", 4.0), ("lorentz", 0.5)])
def test_identity_is_exact_for_2d_hyperbolic_points(geometry, c):
    x, _ = hyperbolic_points(geometry, c, n=120, d=2, rmax=5.0)
    proj = project(x, geometry, c, "identity")
    q = quality(x, proj)
    assert q["radius_spearman"] == pytest.approx(1.0)
    assert q["trustworthiness"] == pytest.approx(1.0)
    assert q["distortion"] < 1e-9


def test_identity_takes_precomputed_unit_disk_coordinates_and_refuses_others():
    u = np.random.default_rng(3).uniform(-0.6, 0.6, size=(40, 2))
    np.testing.assert_array_equal(project(u, "euclidean", 1.0, "identity").disk, u)
    with pytest.raises(MmvizError, match="unit-disk"):
        project(u * 3, "euclidean", 1.0, "identity")
    with pytest.raises(MmvizError, match="2-D"):
        project(np.ones((5, 4)) * 0.1, "poincare", 1.0, "identity")


def test_quality_reads_badly_for_a_scrambled_projection():
    x, _ = hyperbolic_points("poincare", 1.0, n=200, d=2, rmax=4.0)
    good = project(x, "poincare", 1.0, "identity")
    bad = project(x, "poincare", 1.0, "identity")
    bad.disk = good.disk[np.random.default_rng(5).permutation(200)]
    q = quality(x, bad)
    assert q["trustworthiness"] < 0.6 and abs(q["radius_spearman"]) < 0.3 and q["distortion"] > 0.3


def test_sphere_depth_proxies():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(50, 4))
    raw = rng.uniform(5, 10, size=50)
    depth, name = original_depth(x, "sphere", specificity="raw_norm", raw_norm=raw)
    np.testing.assert_array_equal(depth, raw)
    assert "raw" in name
    depth, _ = original_depth(x, "sphere", specificity="root", root=3)
    assert depth[3] == pytest.approx(0.0, abs=1e-7) and (depth >= 0).all() and (depth <= np.pi + 1e-9).all()
    depth, name = original_depth(x, "sphere", specificity="mean")
    assert "mean" in name
    with pytest.raises(MmvizError, match="raw_norm"):
        original_depth(x, "sphere", specificity="raw_norm")
    with pytest.raises(MmvizError, match="root"):
        original_depth(x, "sphere", specificity="root", root=99)
    # radial orders radii by the proxy: Spearman 1
    es = EmbeddingSet(x.astype(np.float32), pd.DataFrame({"raw_norm": raw}), "sphere", 1.0)
    proj = project_set(es, "radial")
    assert proj.unit is None and quality(es.points, proj)["radius_spearman"] == pytest.approx(1.0)


def test_euclidean_radial_and_pca_keep_norm_order():
    x = np.random.default_rng(7).normal(size=(80, 5)) * 3
    for method in ("radial", "tangent-pca"):
        proj = project(x, "euclidean", 1.0, method)
        assert (np.linalg.norm(proj.disk, axis=1) < 1).all()
    q = quality(x, project(x, "euclidean", 1.0, "radial"))
    assert q["radius_spearman"] == pytest.approx(1.0)


@pytest.mark.parametrize(("kw", "message"), [
    ({"method": "tsne"}, "unknown projection"),
    ({"points": np.full((3, 3), np.nan)}, "NaN"),
    ({"points": np.zeros((0, 3))}, "non-empty"),
    ({"geometry": "torus"}, "unknown geometry"),
])
def test_bad_input_is_one_clear_error(kw, message):
    args = {"points": np.ones((5, 3)) * 0.1, "geometry": "poincare", "method": "radial", **kw}
    with pytest.raises(MmvizError, match=message):
        project(args["points"], args["geometry"], 1.0, args["method"])


def test_umap_is_imported_lazily():
    # A fresh interpreter: in this one another test may already have imported umap.
    code = ("import sys, mmviz.explorer.projections, mmviz.metrics.projection; "
            "print(sorted(m for m in ('umap', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_umap_gives_points_inside_the_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path))
    x, _ = hyperbolic_points("lorentz", 1.0, n=150, d=6, rmax=4.0)
    msgs = []
    proj = project(x, "lorentz", 1.0, "umap", umap_epochs=30, progress=msgs.append)
    assert proj.disk.shape == (150, 2) and (np.linalg.norm(proj.disk, axis=1) < 1).all()
    assert msgs and proj.unit is None
    assert 0.5 < quality(x, proj)["trustworthiness"] <= 1.0
