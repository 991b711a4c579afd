"""The combinatorial construction of a tree in the Poincaré disk (Sarkar 2011; Sala et al. 2018).

Every edge gets the same hyperbolic length τ (the *scale factor*). The root sits at the
origin with its children evenly spaced around it; every other node u is moved to the origin
by the Möbius map that sends it there, its parent then lies at distance τ in some direction φ,
and u's children take the other deg(u) − 1 of deg(u) evenly spaced directions φ + 2πk/deg(u),
at distance τ; the map back places them. A DAG is embedded through a spanning tree.

Precision: a node at depth k lies at hyperbolic radius ≈ kτ, i.e. at Euclidean distance
≈ 2e^{−kτ} from the boundary of the disk. float64 keeps 53 bits, so once kτ exceeds ~36
(e.g. τ = 4 on the 9 levels of WordNet mammals) siblings collapse onto the same point and
onto the boundary. Sala et al. need τ large enough to separate the children of high-degree
nodes, so :func:`construct` can compute in ``mpmath`` with ~(max radius)/ln 2 + 64 bits and
return :class:`PolarPoints` — radius in float64 (always well conditioned) and angle as an
exact fixed-point integer — whose pairwise distances (:func:`polar_pairwise_dist`) are
computed without cancellation in float64.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mmviz.geometry import disk


def children_lists(parent: np.ndarray) -> list[list[int]]:
    """Children of every node of a tree given as a parent array ((N,), −1 for the root)."""
    kids: list[list[int]] = [[] for _ in range(len(parent))]
    for node, p in enumerate(parent):
        if p >= 0:
            kids[int(p)].append(node)
    return kids


def tree_order(parent: np.ndarray) -> list[int]:
    """Nodes in breadth-first order from the root (ValueError unless ``parent`` is one tree)."""
    parent = np.asarray(parent, dtype=np.int64)
    roots = np.flatnonzero(parent < 0)
    if len(roots) != 1:
        raise ValueError(f"a tree needs exactly one root, found {len(roots)}")
    kids = children_lists(parent)
    order, head = [int(roots[0])], 0
    while head < len(order):
        order.extend(kids[order[head]])
        head += 1
    if len(order) != len(parent):
        raise ValueError("the parent array has a cycle or nodes not below the root")
    return order


def max_degree(parent: np.ndarray) -> int:
    """Largest number of tree neighbours (children, plus the parent) of any node."""
    kids = children_lists(parent)
    return max(len(k) + (1 if p >= 0 else 0) for k, p in zip(kids, parent))


def sala_scale(parent: np.ndarray, epsilon: float = 0.1) -> float:
    """A scale factor of Sarkar's form for distortion about 1 + ε in 2-D:
    τ = (1 + ε)/ε · log(2·deg_max/π) (at least 1).

    With angle 2π/deg between neighbours, two children of a node at distance τ are about
    2τ + 2 log sin(π/deg) apart; that stays above τ (so siblings are farther apart than a
    node and its parent) once τ > 2 log(deg/π); the (1+ε)/ε factor makes every path's
    length within about 1 + ε of τ × its number of edges.
    """
    deg = max(max_degree(parent), 2)
    return max((1.0 + epsilon) / epsilon * math.log(2.0 * deg / math.pi), 1.0)


@dataclass
class PolarPoints:
    """Points of the Poincaré disk (curvature −1) in geodesic polar coordinates.

    radius: (N,) float64 hyperbolic distance from the origin; angle: (N,) Python ints, the
    angle in units of 2^-bits radians (exact fixed point: differences of nearby angles keep
    every bit); bits: the fixed-point precision.
    """

    radius: np.ndarray
    angle: np.ndarray
    bits: int
    two_pi: int

    def to_disk(self) -> np.ndarray:
        """(N, 2) float64 unit-disk coordinates (what a plot can draw; rounds near the rim)."""
        theta = np.array([float(a) for a in self.angle]) * 2.0 ** -self.bits
        rho = np.tanh(self.radius / 2.0)
        return np.stack([rho * np.cos(theta), rho * np.sin(theta)], axis=1)


@dataclass
class Construction:
    """A constructed embedding: ``points`` (N, 2) float64 disk coordinates (rounded), the
    scale factor ``tau``, the precision used (``bits``: 53 for float64) and, for the
    high-precision path, the exact ``polar`` form that distances should be computed from."""

    points: np.ndarray
    tau: float
    bits: int
    polar: PolarPoints | None = None

    def pairwise_dist(self) -> np.ndarray:
        """(N, N) float64 hyperbolic distances (from ``polar`` when there is one)."""
        if self.polar is not None:
            return polar_pairwise_dist(self.polar)
        return disk.pairwise_dist(self.points, boundary="inf")

    def radius(self) -> np.ndarray:
        """(N,) hyperbolic distance of each node from the origin."""
        if self.polar is not None:
            return self.polar.radius.copy()
        return disk.dist0(self.points, boundary="inf")


def bits_needed(tau: float, depth: int) -> int:
    """Working precision for a construction whose deepest node lies near radius τ·depth:
    1 − |z| ≈ 2e^{−τ·depth} must stay representable with 53 more bits to spare."""
    return int(math.ceil(tau * max(depth, 1) / math.log(2))) + 64


def _place(order: list[int], parent: np.ndarray, tau: float, *, tanh: Callable, exp_i: Callable,
           arg: Callable, conj: Callable, zero, pi) -> list:
    """Sarkar's placement in any complex arithmetic (Python complex or mpmath mpc)."""
    n = len(parent)
    kids = children_lists(parent)
    rho = tanh(tau / 2)  # Euclidean radius, in the disk centred on a node, of distance τ
    z: list = [None] * n
    root = order[0]
    z[root] = zero
    for u in order:
        children = kids[u]
        if not children:
            continue
        zu = z[u]
        if parent[u] < 0:
            offset, slots = 0 * pi, len(children)
            start = 0
        else:
            try:
                w = (z[parent[u]] - zu) / (1 - conj(zu) * z[parent[u]])  # parent seen from u at the origin
            except ZeroDivisionError:
                w = zu
            offset, slots = arg(w), len(children) + 1
            start = 1  # slot 0 points at the parent
        for k, child in enumerate(children):
            y = rho * exp_i(offset + 2 * pi * (k + start) / slots)
            try:
                z[child] = (y + zu) / (1 + conj(zu) * y)  # Möbius map back: u's frame → the disk
            except ZeroDivisionError:  # u was rounded onto the boundary: its subtree collapses there
                z[child] = zu
    return z


def construct(parent: np.ndarray, tau: float, precision: str = "float64", bits: int | None = None) -> Construction:
    """Sarkar's construction of the tree ``parent`` ((N,), −1 for the root) with edge length τ.

    precision: ``"float64"`` (complex128 arithmetic, collapses beyond radius ~36) or
    ``"mpmath"`` (``bits`` of working precision, default :func:`bits_needed`).
    """
    if not tau > 0:
        raise ValueError(f"the scale factor τ must be positive, got {tau}")
    parent = np.asarray(parent, dtype=np.int64)
    order = tree_order(parent)
    if precision == "float64":
        z = _place(order, parent, float(tau), tanh=math.tanh, exp_i=lambda t: cmath.exp(1j * t),
                   arg=cmath.phase, conj=lambda c: c.conjugate(), zero=0j, pi=math.pi)
        pts = np.array([[c.real, c.imag] for c in z], dtype=np.float64)
        return Construction(points=pts, tau=float(tau), bits=53)
    if precision != "mpmath":
        raise ValueError(f"precision must be 'float64' or 'mpmath', got {precision!r}")
    import mpmath

    depth = _depths(parent, order)
    work_bits = int(bits) if bits is not None else bits_needed(tau, int(depth.max()))
    ctx = mpmath.mp.clone()
    ctx.prec = work_bits
    z = _place(order, parent, ctx.mpf(tau), tanh=ctx.tanh, exp_i=lambda t: ctx.expj(t), arg=ctx.arg,
               conj=ctx.conj, zero=ctx.mpc(0), pi=ctx.pi)
    scale = ctx.mpf(2) ** work_bits
    two_pi = 2 * ctx.pi
    radius = np.empty(len(z))
    angle = np.empty(len(z), dtype=object)
    for i, c in enumerate(z):
        r = ctx.fabs(c)
        # 2·atanh|z| = log((1 + |z|)/(1 − |z|)): 1 − |z| is exact at this precision
        radius[i] = float(ctx.log((1 + r) / (1 - r))) if r > 0 else 0.0
        theta = ctx.arg(c) % two_pi if r > 0 else ctx.mpf(0)
        angle[i] = int(ctx.nint(theta * scale))
    polar = PolarPoints(radius=radius, angle=angle, bits=work_bits, two_pi=int(ctx.nint(two_pi * scale)))
    return Construction(points=polar.to_disk(), tau=float(tau), bits=work_bits, polar=polar)


def _depths(parent: np.ndarray, order: list[int]) -> np.ndarray:
    depth = np.zeros(len(parent), dtype=np.int64)
    for u in order[1:]:
        depth[u] = depth[parent[u]] + 1
    return depth


# --------------------------------------------------------------------------- distances


def _log_sinh(r: np.ndarray) -> np.ndarray:
    """log sinh r for r ≥ 0 without overflow (−inf at 0)."""
    r = np.asarray(r, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return r + np.log1p(-np.exp(-2.0 * r)) - math.log(2.0)


def polar_pairwise_dist(p: PolarPoints) -> np.ndarray:
    """(N, N) float64 hyperbolic distances of points in geodesic polar form, without cancellation:

        sinh²(d/2) = sinh²((r₁ − r₂)/2) + sinh r₁ sinh r₂ sin²(Δθ/2),

    both terms ≥ 0, summed in log space (no overflow at radius 700+), and Δθ taken from the
    exact fixed-point angles, so two siblings 1e-40 radians apart are still told apart.
    """
    theta = np.array([math.ldexp(float(a), -p.bits) for a in p.angle])
    two_pi = math.ldexp(float(p.two_pi), -p.bits)
    delta = np.abs(theta[:, None] - theta[None, :])
    delta = np.minimum(delta, two_pi - delta)  # the shorter way round
    # float64 angles are exact to ~1e-15 rad: enough for pairs far apart in angle. Pairs closer
    # than 1e-6 rad (a deep subtree) take their difference from the exact fixed-point integers.
    rows, cols = np.nonzero(delta < 1e-6)
    full, half_turn = p.two_pi, p.two_pi // 2
    for i, j in zip(rows.tolist(), cols.tolist()):
        diff = abs(p.angle[i] - p.angle[j]) % full
        delta[i, j] = math.ldexp(float(min(diff, full - diff) if diff > half_turn else diff), -p.bits)
    half = delta / 2.0
    r = p.radius
    with np.errstate(divide="ignore"):
        log_a = 2.0 * np.log(np.sinh(np.abs(r[:, None] - r[None, :]) / 2.0))
        log_b = _log_sinh(r)[:, None] + _log_sinh(r)[None, :] + 2.0 * np.log(np.sin(half))
    log_s = np.logaddexp(log_a, log_b)  # log sinh²(d/2)
    # d = 2 asinh(√S); for huge S use log(4S) (relative error ~1/S, below float64 rounding)
    with np.errstate(over="ignore"):
        d = np.where(log_s < 80.0, 2.0 * np.arcsinh(np.exp(np.minimum(log_s, 80.0) / 2.0)), log_s + math.log(4.0))
    np.fill_diagonal(d, 0.0)
    return d


def construct_euclidean(parent: np.ndarray, step: float) -> np.ndarray:
    """The same construction in the Euclidean plane: every edge of length ``step``, each node's
    neighbours evenly spaced around it, one of them pointing back at its parent. (N, 2) float64.

    Flat space has no room to spare: the circle of radius ``step`` around a node is just as
    long at depth 9 as at the root, so deep subtrees overlap and the MAP collapses.
    """
    parent = np.asarray(parent, dtype=np.int64)
    order = tree_order(parent)
    kids = children_lists(parent)
    z = np.zeros(len(parent), dtype=complex)
    for u in order:
        children = kids[u]
        if not children:
            continue
        if parent[u] < 0:
            offset, slots, start = 0.0, len(children), 0
        else:
            offset, slots, start = cmath.phase(z[parent[u]] - z[u]), len(children) + 1, 1
        for k, child in enumerate(children):
            z[child] = z[u] + step * cmath.exp(1j * (offset + 2 * math.pi * (k + start) / slots))
    return np.stack([z.real, z.imag], axis=1)
