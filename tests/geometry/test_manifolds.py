"""Tests for mmviz.geometry: accuracy against mpmath, metric properties, maps, cones, drawing helpers."""

from __future__ import annotations

import math

import geoopt
import mpmath as mp
import numpy as np
import pytest
import torch

from mmviz.errors import MmvizError
from mmviz.geometry import (
    GEOMETRY_NAMES,
    LorentzGeometry,
    PoincareGeometry,
    as_tensor,
    geometry_with_curvature,
    get_geometry,
)

HYPERBOLIC_CURVATURES = [0.1, 1.0, 10.0]
GEOMETRIES = (
    [("euclidean", 1.0), ("sphere", 1.0), ("sphere", 4.0)]
    + [("poincare", c) for c in HYPERBOLIC_CURVATURES]
    + [("lorentz", c) for c in HYPERBOLIC_CURVATURES]
)
GEOMETRY_IDS = [f"{name}-{c:g}" for name, c in GEOMETRIES]
HYPERBOLIC = [(name, c) for name, c in GEOMETRIES if name in ("poincare", "lorentz")]
HYPERBOLIC_IDS = [f"{name}-{c:g}" for name, c in HYPERBOLIC]

mp.mp.dps = 50


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _unit(n: int, d: int, gen: torch.Generator, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    v = torch.randn(n, d, generator=gen, dtype=dtype)
    return v / v.norm(dim=-1, keepdim=True)


def _tangents(geo, n: int, d: int, gen: torch.Generator, max_radius: float = 3.0) -> torch.Tensor:
    """float32 tangent vectors whose images lie at most max_radius/sqrt(c) from the origin."""
    c = geo.curvature or 1.0
    radius = torch.rand(n, 1, generator=gen, dtype=torch.float64) * max_radius / math.sqrt(c)
    return (_unit(n, d, gen) * radius).float()


def _points(geo, n: int, d: int, seed: int = 0, max_radius: float = 3.0) -> torch.Tensor:
    """float32 points: expmap0 of random tangent vectors (radial directions for the sphere)."""
    gen = _gen(seed)
    v = _tangents(geo, n, d, gen, max_radius)
    if geo.name == "sphere":
        v = torch.randn(n, d, generator=gen)
    return geo.expmap0(v)


# --- construction -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", GEOMETRY_NAMES)
def test_get_geometry_returns_named_geometry(name):
    geo = get_geometry(name, 2.0)
    assert geo.name == name
    assert geo.curvature == (0.0 if name == "euclidean" else 2.0)


@pytest.mark.parametrize(
    "name, curvature, message",
    [
        ("hyperbolic", 1.0, "unknown geometry 'hyperbolic'; choose one of: euclidean, sphere, poincare, lorentz"),
        ("poincare", 0.0, "curvature must be a finite number > 0 for the poincare geometry, got 0.0"),
        ("lorentz", -1.0, "curvature must be a finite number > 0"),
        ("sphere", float("nan"), "curvature must be a finite number > 0"),
        ("euclidean", -1.0, "curvature must be a finite number > 0"),
        ("poincare", "steep", "curvature must be a number, got 'steep'"),
    ],
)
def test_get_geometry_rejects_bad_input(name, curvature, message):
    with pytest.raises(MmvizError, match=message.replace("(", r"\(").replace(")", r"\)")):
        get_geometry(name, curvature)


def test_euclidean_accepts_its_own_curvature_zero():
    assert get_geometry("euclidean", 0.0).curvature == 0.0


def test_as_tensor_converts_numpy():
    assert as_tensor(np.arange(3)).dtype == torch.get_default_dtype()
    assert as_tensor(np.zeros(2, dtype=np.float64)).dtype == torch.float64


@pytest.mark.parametrize("name, dim_ambient, origin0", [("euclidean", 5, 0.0), ("sphere", 5, 0.0),
                                                         ("poincare", 5, 0.0), ("lorentz", 6, 0.5)])
def test_origin_and_dim_ambient(name, dim_ambient, origin0):
    geo = get_geometry(name, 4.0)
    assert geo.dim_ambient(5) == dim_ambient
    origin = geo.origin(5)
    assert origin.shape == (dim_ambient,)
    assert origin[0].item() == origin0  # lorentz: time coordinate 1/sqrt(c) first
    if name != "sphere":
        torch.testing.assert_close(geo.expmap0(torch.zeros(5)), origin)


# --- accuracy against mpmath ----------------------------------------------------------------------


def _mp_vec(x: torch.Tensor) -> list:
    return [mp.mpf(float(v)) for v in x]  # float32 -> float64 -> mpf is exact


def _mp_dot(a: list, b: list):
    return mp.fsum(u * v for u, v in zip(a, b))


def _reference_dist(name: str, c: float, x: torch.Tensor, y: torch.Tensor):
    """Distance between the exact float32 inputs, at 50 digits."""
    cm = mp.mpf(c)
    a, b = _mp_vec(x), _mp_vec(y)
    if name == "euclidean":
        return mp.sqrt(mp.fsum((u - v) ** 2 for u, v in zip(a, b)))
    if name == "sphere":
        cos = _mp_dot(a, b) / mp.sqrt(_mp_dot(a, a) * _mp_dot(b, b))
        return mp.acos(cos) / mp.sqrt(cm)
    if name == "poincare":
        diff = mp.fsum((u - v) ** 2 for u, v in zip(a, b))
        z = 2 * cm * diff / ((1 - cm * _mp_dot(a, a)) * (1 - cm * _mp_dot(b, b)))
        return mp.acosh(1 + z) / mp.sqrt(cm)
    # lorentz: the space part defines the point; the time coordinate is recomputed
    a, b = a[1:], b[1:]
    t_a, t_b = mp.sqrt(1 / cm + _mp_dot(a, a)), mp.sqrt(1 / cm + _mp_dot(b, b))
    return mp.acosh(cm * (t_a * t_b - _mp_dot(a, b))) / mp.sqrt(cm)


def _hard_pairs(name: str, c: float, d: int = 6, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """float32 pairs chosen to break naive formulas: far from the origin (Poincaré norms up to
    (1 - 1e-6)/sqrt(c), Lorentz radius up to 14/sqrt(c)), and close pairs there, radial and
    tangential. Float32 points are picked first; references use their exact values."""
    gen = _gen(seed)
    geo = get_geometry(name, c)
    sc = math.sqrt(c)
    xs, ys = [], []

    def add(x64: torch.Tensor, y64: torch.Tensor) -> None:
        xs.append(x64.float())
        ys.append(y64.float())

    for r in [1e-4, 0.3, 2.0, 6.0, 10.0, 14.0]:  # hyperbolic radius times sqrt(c)
        u, w = _unit(2, d, gen)
        w = w - (w @ u) * u
        w = w / w.norm()
        if name == "poincare":
            base = math.tanh(r / 2) / sc
            x = u * base
        elif name == "lorentz":
            x = u * math.sinh(r) / sc
        else:
            x = u * r
        # tangential steps stay inside the ball: at most the gap to its boundary
        room = (1 / sc - x.norm()) if name == "poincare" else x.norm()
        for rel in [1e-1, 1e-3, 1e-5]:
            add(x, x * (1 - rel))  # radial
            add(x, x + rel * room * w)  # tangential
        add(x, _unit(1, d, gen)[0] * x.norm())  # same radius, random direction
        add(x, -x)  # antipodal through the origin
        add(x, -x + 1e-3 * room * w)
    if name == "poincare":
        for gap in [1e-4, 1e-5, 1e-6]:  # points at norm (1 - gap)/sqrt(c)
            u, v = _unit(2, d, gen)
            x = u * (1 - gap) / sc
            add(x, v * (1 - gap) / sc)
            add(x, x * (1 - gap / 10))
            add(x, x * (1 - 10 * gap))
    x, y = torch.stack(xs), torch.stack(ys)
    if name == "lorentz":
        x, y = geo.project(torch.cat([x[:, :1] * 0, x], 1)), geo.project(torch.cat([y[:, :1] * 0, y], 1))
    keep = (x != y).any(-1)  # a pair that float32 rounded to identical points has distance 0
    return x[keep], y[keep]


@pytest.mark.parametrize("name, c", GEOMETRIES, ids=GEOMETRY_IDS)
def test_float32_distances_match_mpmath(name, c):
    geo = get_geometry(name, c)
    x, y = _hard_pairs(name, c)
    reference = torch.tensor([float(_reference_dist(name, c, a, b)) for a, b in zip(x, y)],
                             dtype=torch.float64)
    assert (reference > 0).all()
    elementwise = geo.dist(x, y)
    pairwise = geo.pairwise_dist(x, y).diagonal()
    assert elementwise.dtype == pairwise.dtype == torch.float32
    for value in (elementwise, pairwise):
        rel = ((value.double() - reference).abs() / reference).max().item()
        assert rel <= 1e-4, rel


@pytest.mark.parametrize("name, c", HYPERBOLIC, ids=HYPERBOLIC_IDS)
def test_float64_distances_agree_with_geoopt(name, c):
    """geoopt (float64, moderate radii) as an independent reference, and a check of the
    curvature conventions: PoincareBall(c) and Lorentz(k=1/c)."""
    geo = get_geometry(name, c)
    # geoopt's Möbius-addition form loses accuracy far out even in float64: moderate radii.
    x = geo.project(_points(geo, 40, 4, seed=1, max_radius=1.5).double())
    y = geo.project(_points(geo, 40, 4, seed=2, max_radius=1.5).double())
    manifold = geoopt.PoincareBall(c=c) if name == "poincare" else geoopt.Lorentz(k=1.0 / c)
    expected = manifold.dist(x, y)
    # geoopt's own float64 rounding (it forms <x,y>_L or Möbius sums) is ~1e-7 relative here;
    # a wrong curvature convention would be off by O(1).
    torch.testing.assert_close(geo.dist(x, y), expected, rtol=1e-6, atol=1e-9)


def test_distance_closed_forms():
    poincare = get_geometry("poincare", 4.0)
    x = torch.tensor([0.25, 0.0])  # d0 = (2/sqrt(c)) artanh(sqrt(c)|x|) = artanh(0.5)
    assert poincare.dist0(x).item() == pytest.approx(math.atanh(0.5), rel=1e-6)
    sphere = get_geometry("sphere", 4.0)  # a right angle on the sphere of radius 1/2
    right_angle = sphere.dist(torch.tensor([3.0, 0.0]), torch.tensor([0.0, 0.1]))
    assert right_angle.item() == pytest.approx(math.pi / 4)
    lorentz = get_geometry("lorentz", 0.25)  # radius 2: space norm 2 sinh(d/2) at distance d
    x = torch.tensor([0.0, 2 * math.sinh(1.5), 0.0])
    assert lorentz.dist0(x).item() == pytest.approx(3.0, rel=1e-6)


# --- pairwise -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, c", GEOMETRIES, ids=GEOMETRY_IDS)
def test_pairwise_dist_equals_dist_on_all_pairs(name, c):
    geo = get_geometry(name, c)
    X, Y = _points(geo, 30, 5, seed=3), _points(geo, 20, 5, seed=4)
    Y[:5] = X[:5]  # identical pairs
    Y[5:10] = X[5:10] * (1 + 1e-4)  # near pairs
    P = geo.pairwise_dist(X, Y)
    assert P.shape == (30, 20)
    torch.testing.assert_close(P, geo.dist(X[:, None], Y[None]), rtol=2e-6, atol=1e-7)
    assert (P[range(5), range(5)] == 0).all()
    assert (geo.pairwise_dist(X).diagonal() == 0).all()


@pytest.mark.parametrize("name, c", GEOMETRIES, ids=GEOMETRY_IDS)
def test_pairwise_dist_does_not_depend_on_chunk_size(name, c):
    geo = get_geometry(name, c)
    X, Y = _points(geo, 37, 5, seed=5), _points(geo, 23, 5, seed=6)
    full = geo.pairwise_dist(X, Y, chunk_size=1024)
    for chunk in (1, 7, 36):
        assert torch.equal(geo.pairwise_dist(X, Y, chunk_size=chunk), full)


def test_pairwise_dist_of_identical_points_is_zero_with_finite_gradient():
    geo = get_geometry("poincare", 1.0)
    X = torch.full((50, 3), 0.2, requires_grad=True)  # every pair identical: all recomputed
    P = geo.pairwise_dist(X, X.detach().clone(), chunk_size=16)
    assert (P == 0).all()
    P.sum().backward()
    assert torch.isfinite(X.grad).all()


def test_pairwise_dist_rejects_bad_shapes():
    geo = get_geometry("euclidean")
    with pytest.raises(MmvizError, match="pairwise_dist needs X"):
        geo.pairwise_dist(torch.zeros(3, 2), torch.zeros(3, 4))
    with pytest.raises(MmvizError, match="chunk_size must be >= 1"):
        geo.pairwise_dist(torch.zeros(3, 2), chunk_size=0)


# --- maps ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, c", GEOMETRIES, ids=GEOMETRY_IDS)
def test_expmap0_logmap0_round_trips(name, c):
    geo = get_geometry(name, c)
    v = _tangents(geo, 50, 4, _gen(7))
    v[0] = 0.0
    v[1] = 1e-6 / math.sqrt(c)
    x = geo.expmap0(v)
    assert x.shape == (50, geo.dim_ambient(4))
    back = geo.logmap0(x)
    if name == "sphere":  # radial projection: only the direction comes back
        torch.testing.assert_close(back[2:], v[2:] / v[2:].norm(dim=-1, keepdim=True))
        torch.testing.assert_close(geo.expmap0(back[2:]), x[2:])
    else:
        torch.testing.assert_close(back, v, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(geo.expmap0(back), x, rtol=1e-5, atol=1e-7)
    if name != "sphere":  # |v| is the distance from the origin
        torch.testing.assert_close(geo.dist0(x), v.norm(dim=-1), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name, c", GEOMETRIES, ids=GEOMETRY_IDS)
def test_to_poincare_from_poincare_round_trip(name, c):
    geo = get_geometry(name, c)
    x = _points(geo, 40, 3, seed=8)
    p = geo.to_poincare(x)
    ball_c = c if name in ("poincare", "lorentz") else 1.0
    assert (p.double().norm(dim=-1) < 1 / math.sqrt(ball_c)).all()
    torch.testing.assert_close(geo.from_poincare(p), x, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("c", HYPERBOLIC_CURVATURES)
def test_lorentz_and_poincare_distances_agree(c):
    lorentz, poincare = get_geometry("lorentz", c), get_geometry("poincare", c)
    x, y = _points(lorentz, 60, 3, seed=9, max_radius=8.0), _points(lorentz, 60, 3, seed=10, max_radius=8.0)
    torch.testing.assert_close(
        poincare.dist(lorentz.to_poincare(x.double()), lorentz.to_poincare(y.double())),
        lorentz.dist(x, y).double(), rtol=1e-5, atol=1e-6)
    p, q = _points(poincare, 60, 3, seed=11), _points(poincare, 60, 3, seed=12)
    torch.testing.assert_close(
        lorentz.dist(lorentz.from_poincare(p), lorentz.from_poincare(q)), poincare.dist(p, q),
        rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("c", HYPERBOLIC_CURVATURES)
def test_the_same_tangent_vector_gives_the_same_point_in_both_models(c):
    lorentz, poincare = get_geometry("lorentz", c), get_geometry("poincare", c)
    v = _tangents(lorentz, 30, 3, _gen(27)).double()
    torch.testing.assert_close(lorentz.to_poincare(lorentz.expmap0(v)), poincare.expmap0(v))


@pytest.mark.parametrize("name", ["poincare", "lorentz"])
def test_tensor_curvature_matches_float_curvature_and_gets_gradients(name):
    c = torch.tensor(2.0, requires_grad=True)
    learned, fixed = geometry_with_curvature(name, c), get_geometry(name, 2.0)
    v = _tangents(fixed, 20, 3, _gen(28))
    x, y = fixed.expmap0(v[:10]), fixed.expmap0(v[10:])
    torch.testing.assert_close(learned.expmap0(v), fixed.expmap0(v))
    P = learned.pairwise_dist(x, y)  # only c requires grad: must not take the in-place path
    torch.testing.assert_close(P, fixed.pairwise_dist(x, y))
    (grad,) = torch.autograd.grad(P.sum(), c)
    assert torch.isfinite(grad) and grad.item() != 0.0


# --- metric properties --------------------------------------------------------------------------


@pytest.mark.parametrize("name, c", GEOMETRIES, ids=GEOMETRY_IDS)
def test_metric_axioms(name, c):
    geo = get_geometry(name, c)
    x, y, z = (_points(geo, 200, 4, seed=s) for s in (13, 14, 15))
    dxy, dyx = geo.dist(x, y), geo.dist(y, x)
    torch.testing.assert_close(dxy, dyx, rtol=1e-6, atol=0.0)
    assert (dxy > 0).all()
    assert (geo.dist(x, x) == 0).all()
    slack = 1e-5 * (dxy + geo.dist(y, z))
    assert (geo.dist(x, z) <= dxy + geo.dist(y, z) + slack).all()


@pytest.mark.parametrize("name, c", GEOMETRIES, ids=GEOMETRY_IDS)
def test_dist0_is_distance_from_origin(name, c):
    geo = get_geometry(name, c)
    x = _points(geo, 50, 4, seed=16)
    if name == "sphere":  # no origin on the sphere: dist0 is the raw norm (a specificity proxy)
        raw = torch.randn(5, 4, generator=_gen(0)) * 3
        torch.testing.assert_close(geo.dist0(raw), raw.norm(dim=-1))
        return
    origin = geo.origin(4).expand_as(x)
    torch.testing.assert_close(geo.dist0(x), geo.dist(origin, x), rtol=1e-6, atol=1e-7)


def test_sphere_similarity_is_cosine_and_ignores_scale():
    geo = get_geometry("sphere", 2.0)
    x, y = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 1.0])
    assert geo.similarity(x, y).item() == pytest.approx(math.sqrt(0.5))
    assert geo.dist(x, y).item() == pytest.approx(math.pi / 4 / math.sqrt(2.0))
    torch.testing.assert_close(geo.project(y), y / math.sqrt(2))


# --- float32 safety -------------------------------------------------------------------------------


def _assert_finite_grad(inputs: list[torch.Tensor], output: torch.Tensor) -> None:
    assert torch.isfinite(output).all()
    grads = torch.autograd.grad(output.sum(), inputs, allow_unused=True, retain_graph=True)
    for grad in grads:
        assert grad is None or torch.isfinite(grad).all()


@pytest.mark.parametrize("name, c", GEOMETRIES, ids=GEOMETRY_IDS)
def test_gradients_finite_at_identical_points_and_zero_vectors(name, c):
    geo = get_geometry(name, c)
    x = _points(geo, 8, 3, seed=17).requires_grad_(True)
    y = x.detach().clone().requires_grad_(True)
    _assert_finite_grad([x, y], geo.dist(x, y))
    _assert_finite_grad([x, y], geo.pairwise_dist(x, y))
    if name == "sphere":  # antipodal points: the geodesic is not unique, asin'(1) = inf
        _assert_finite_grad([x, y], geo.dist(x, -y))
        torch.testing.assert_close(geo.dist(x, -y), torch.full((8,), math.pi / math.sqrt(c)))
    zero = torch.zeros(2, 3, requires_grad=True)
    _assert_finite_grad([zero], geo.expmap0(zero))
    origin = geo.origin(3).expand(2, -1).clone().requires_grad_(True)
    _assert_finite_grad([origin], geo.logmap0(origin))
    _assert_finite_grad([origin], geo.dist0(origin))
    _assert_finite_grad([origin], geo.to_poincare(origin))


@pytest.mark.parametrize("c", HYPERBOLIC_CURVATURES)
def test_poincare_boundary_is_finite(c):
    geo = get_geometry("poincare", c)
    direction = _unit(4, 3, _gen(18))
    # the largest float32 norm below 1/sqrt(c), and points on/outside it after rounding
    for scale in (1 - 1e-7, 1 - 6e-8, 1.0, 1.0 + 1e-6):
        x = (direction * scale / math.sqrt(c)).float().requires_grad_(True)
        y = (direction.flip(0) * scale / math.sqrt(c)).float().requires_grad_(True)
        _assert_finite_grad([x, y], geo.dist(x, y))
        _assert_finite_grad([x, y], geo.pairwise_dist(x, y))
        _assert_finite_grad([x], geo.dist0(x))
        _assert_finite_grad([x], geo.logmap0(x))
        _assert_finite_grad([x, y], geo.exterior_angle(x, y))
        _assert_finite_grad([x], geo.half_aperture(x))
    projected = geo.expmap0(torch.full((2, 3), 1e4))
    assert (projected.double().norm(dim=-1) < 1 / math.sqrt(c)).all()
    assert torch.isfinite(geo.dist0(projected)).all()


@pytest.mark.parametrize("c", HYPERBOLIC_CURVATURES)
def test_lorentz_distance_50_is_finite_and_accurate(c):
    geo = get_geometry("lorentz", c)
    direction = _unit(3, 4, _gen(19)).float()
    v = (direction * 25.0 / math.sqrt(c)).requires_grad_(True)
    x, y = geo.expmap0(v), geo.expmap0(-v)  # opposite sides: distance 50 / sqrt(c)
    far = geo.expmap0(direction * 50.0 / math.sqrt(c))
    assert torch.isfinite(x).all() and torch.isfinite(far).all()
    torch.testing.assert_close(geo.dist(x, y), torch.full((3,), 50.0 / math.sqrt(c)), rtol=1e-5, atol=0)
    torch.testing.assert_close(geo.dist0(far), torch.full((3,), 50.0 / math.sqrt(c)), rtol=1e-5, atol=0)
    torch.testing.assert_close(geo.pairwise_dist(x, y).diagonal(), geo.dist(x, y), rtol=1e-6, atol=0)
    _assert_finite_grad([v], geo.dist(x, y))
    _assert_finite_grad([v], geo.pairwise_dist(x, y))
    _assert_finite_grad([v], geo.dist(x, far))
    huge = geo.expmap0(torch.full((1, 4), 1e6))  # capped, not inf
    assert torch.isfinite(huge).all() and torch.isfinite(geo.dist0(huge)).all()


# --- entailment cones ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, c", HYPERBOLIC, ids=HYPERBOLIC_IDS)
def test_cone_of_ray_origin_and_between(name, c):
    geo = get_geometry(name, c)
    v = _tangents(geo, 20, 3, _gen(20)) + 0.5 / math.sqrt(c) * _unit(20, 3, _gen(21)).float()
    x = geo.expmap0(v)
    beyond, between = geo.expmap0(1.7 * v), geo.expmap0(0.5 * v)
    origin = geo.origin(3).expand_as(x)
    assert (geo.exterior_angle(x, beyond) < 1e-3).all()
    assert geo.in_cone(x, beyond).all()
    torch.testing.assert_close(geo.exterior_angle(x, origin), torch.full((20,), math.pi))
    torch.testing.assert_close(geo.exterior_angle(x, between), torch.full((20,), math.pi))
    assert not geo.in_cone(x, origin).any()
    torch.testing.assert_close(geo.half_aperture(geo.origin(3)), torch.tensor(math.pi / 2))


@pytest.mark.parametrize("c", HYPERBOLIC_CURVATURES)
@pytest.mark.parametrize("phi", [0.3, 1.0, 2.0, 3.0])
def test_exterior_angle_of_a_geodesic_leaving_x_at_angle_phi(c, phi):
    """A geodesic leaving x at angle phi from the outward ray: x (+) (s u_phi), since the Möbius
    translation by x has derivative (1 - c|x|^2) I at 0 and so keeps directions."""
    poincare, lorentz = get_geometry("poincare", c), get_geometry("lorentz", c)
    x = torch.tensor([0.6, 0.0], dtype=torch.float64) / math.sqrt(c)
    step = 0.2 / math.sqrt(c) * torch.tensor([math.cos(phi), math.sin(phi)], dtype=torch.float64)
    y = poincare.ball.mobius_add(x, step)
    assert poincare.exterior_angle(x, y).item() == pytest.approx(phi, abs=1e-9)
    angle_l = lorentz.exterior_angle(lorentz.from_poincare(x), lorentz.from_poincare(y))
    assert angle_l.item() == pytest.approx(phi, abs=1e-9)


def _meru_exterior_angle(x: torch.Tensor, y: torch.Tensor, c: float) -> torch.Tensor:
    """MERU's arccos formula, float64, space parts (B, D) -> (B,)."""
    x_time = torch.sqrt(1 / c + (x * x).sum(-1))
    y_time = torch.sqrt(1 / c + (y * y).sum(-1))
    c_xyl = c * ((x * y).sum(-1) - x_time * y_time)
    cos = (y_time + c_xyl * x_time) / (x.norm(dim=-1) * torch.sqrt(c_xyl**2 - 1))
    return torch.acos(cos.clamp(-1, 1))


def _ganea_exterior_angle(x: torch.Tensor, y: torch.Tensor, c: float) -> torch.Tensor:
    """Ganea et al. 2018 arccos formula on the unit ball (points scaled by sqrt(c)), float64."""
    x, y = x * math.sqrt(c), y * math.sqrt(c)
    xx, yy, xy = (x * x).sum(-1), (y * y).sum(-1), (x * y).sum(-1)
    num = xy * (1 + xx) - xx * (1 + yy)
    den = x.norm(dim=-1) * (x - y).norm(dim=-1) * torch.sqrt(1 + xx * yy - 2 * xy)
    return torch.acos((num / den).clamp(-1, 1))


@pytest.mark.parametrize("c", HYPERBOLIC_CURVATURES)
def test_cones_match_the_published_formulas_and_each_other(c):
    lorentz, poincare = get_geometry("lorentz", c), get_geometry("poincare", c)
    gen = _gen(22)
    v = _tangents(lorentz, 2000, 3, gen, max_radius=4.0).double()
    # y: half near x's outward ray (often inside the cone), half anywhere
    w = v * (1 + 2 * torch.rand(2000, 1, generator=gen, dtype=torch.float64))
    w = w + 0.5 / math.sqrt(c) * _unit(2000, 3, gen) * torch.rand(2000, 1, generator=gen, dtype=torch.float64)
    w[1000:] = _tangents(lorentz, 1000, 3, gen, max_radius=4.0).double()
    x, y = lorentz.expmap0(v), lorentz.expmap0(w)
    x_ball, y_ball = lorentz.to_poincare(x), lorentz.to_poincare(y)
    angle_l, angle_p = lorentz.exterior_angle(x, y), poincare.exterior_angle(x_ball, y_ball)
    torch.testing.assert_close(angle_l, _meru_exterior_angle(x[:, 1:], y[:, 1:], c), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(angle_p, _ganea_exterior_angle(x_ball, y_ball, c), rtol=1e-6, atol=1e-6)
    aperture_l, aperture_p = lorentz.half_aperture(x), poincare.half_aperture(x_ball)
    meru_aperture = torch.asin((0.2 / (math.sqrt(c) * x[:, 1:].norm(dim=-1))).clamp(max=1.0))
    torch.testing.assert_close(aperture_l, meru_aperture, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(aperture_p, aperture_l, rtol=1e-6, atol=1e-7)

    # Membership in float32, excluding a thin band around the cone's boundary.
    x32, y32 = x.float(), y.float()
    inside_l = lorentz.in_cone(x32, y32)
    inside_p = poincare.in_cone(lorentz.to_poincare(x32), lorentz.to_poincare(y32))
    clear = (angle_l - aperture_l).abs() > 1e-3
    assert clear.float().mean() > 0.95
    assert torch.equal(inside_l[clear], inside_p[clear])
    assert 0.05 < inside_l[clear].float().mean() < 0.95  # both outcomes occur


def test_cone_arguments_are_validated():
    with pytest.raises(MmvizError, match="min_radius must be > 0"):
        get_geometry("lorentz").half_aperture(torch.zeros(3), min_radius=0.0)


@pytest.mark.parametrize("name, c", HYPERBOLIC, ids=HYPERBOLIC_IDS)
def test_cone_gradients_finite_at_degenerate_inputs(name, c):
    geo = get_geometry(name, c)
    origin = geo.origin(3).expand(2, -1).clone().requires_grad_(True)
    x = _points(geo, 2, 3, seed=24).requires_grad_(True)
    on_ray = geo.expmap0(2.0 * geo.logmap0(x.detach())).requires_grad_(True)
    _assert_finite_grad([origin], geo.half_aperture(origin))
    _assert_finite_grad([origin, x], geo.exterior_angle(origin, x))
    _assert_finite_grad([x], geo.exterior_angle(x, x))
    _assert_finite_grad([x, on_ray], geo.exterior_angle(x, on_ray))
    _assert_finite_grad([x, origin], geo.exterior_angle(x, origin))


# --- projection ---------------------------------------------------------------------------------------


def test_poincare_project_keeps_interior_and_pulls_in_outside_points():
    geo = get_geometry("poincare", 4.0)
    inside = torch.tensor([[0.4999, 0.0], [0.1, 0.2]])
    assert torch.equal(geo.project(inside), inside)
    outside = geo.project(torch.tensor([[3.0, 4.0]]))
    assert 0.5 * (1 - 1e-6) < outside.double().norm().item() < 0.5


def test_lorentz_project_recomputes_time_without_overflow():
    geo = get_geometry("lorentz", 1.0)
    x = torch.tensor([[0.0, 3.0, 4.0], [7.0, 2e21, 0.0]])
    projected = geo.project(x)
    assert projected[0, 0].item() == pytest.approx(math.sqrt(26.0))
    assert projected[1, 0].item() == pytest.approx(2e21)
    assert torch.equal(projected[:, 1:], x[:, 1:])


def test_classes_are_exposed():
    assert isinstance(get_geometry("poincare"), PoincareGeometry)
    assert isinstance(get_geometry("lorentz"), LorentzGeometry)
