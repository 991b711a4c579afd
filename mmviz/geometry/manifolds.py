"""Manifolds for embeddings: Euclidean, sphere (cosine), Poincaré ball and Lorentz hyperboloid.

`get_geometry(name, curvature)` returns one object per geometry with the same methods
(`dist`, `pairwise_dist`, `dist0`, `expmap0`, `logmap0`, `to_poincare`, `from_poincare`,
`project`, `origin`); the two hyperbolic models add entailment cones. (Drawing on the disk is
:mod:`mmviz.geometry.disk`.) Tensor in, Tensor out; use `as_tensor` for numpy arrays.

Conventions
- A curvature c > 0 means sectional curvature -c for the hyperbolic models (the Poincaré
  ball of radius 1/sqrt(c), geoopt's `PoincareBall(c)`) and +c for the sphere.
- Lorentz points are stored with the time coordinate first, shape (..., D + 1), on the
  hyperboloid -x_0^2 + |x_space|^2 = -1/c. This is geoopt's `Lorentz(k)` with k = 1/c
  (geoopt's k is the squared radius, not the curvature). As in MERU, the space part is
  what carries the point: every function here recomputes x_0 = sqrt(1/c + |x_space|^2)
  in float64 instead of reading it, so a float32 point is exactly on the hyperboloid.
- Tangent vectors at the origin are measured in the Riemannian norm, so that
  dist0(expmap0(v)) = |v| in the Euclidean, Poincaré and Lorentz geometries, and
  lorentz.to_poincare(lorentz.expmap0(v)) = poincare.expmap0(v) at the same curvature.

Numerics (float32 in, float32 out, no NaN/Inf in values or gradients):
- Quantities that cancel catastrophically in float32 are computed in float64 from the
  (exact) float32 inputs and cast back: 1 - c|x|^2 near the ball's boundary, time
  coordinates (whose square overflows float32 beyond Lorentz distance ~44), and the
  Euclidean chord lengths all distances are built from.
- Every distance is written as a function of a Euclidean chord length |a - b| between
  per-point chart coordinates (see `Geometry._chart`). Hyperbolic distances use
  d = (2/sqrt(c)) asinh(sqrt(c) |a - b| / sqrt(alpha_a alpha_b)), equivalent to the
  textbook arccosh(1 + 2c|x-y|^2 / ((1-c|x|^2)(1-c|y|^2))) / sqrt(c) through
  cosh(t) = 1 + 2 sinh(t/2)^2 but without its two flaws: arccosh(1 + z) loses all relative
  accuracy as z -> 0 (near points), and arccosh'(1) = inf gives NaN gradients at x = y.
- Where geoopt is accurate we call it (expmap0, Möbius addition, geodesics, projection);
  where it is not in float32 we say so at the spot.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

with warnings.catch_warnings():
    # geoopt 0.5.1 decorates functions with torch.jit.script, which torch 2.14 deprecates with a
    # FutureWarning on import; only that warning is silenced, only here.
    warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)
    import geoopt
    from geoopt.manifolds.lorentz import math as lorentz_math
    from geoopt.manifolds.stereographic import math as ball_math

from mmviz.errors import MmvizError
from mmviz.geometry.constants import DEFAULT_CONE_MIN_RADIUS, GEOMETRY_NAMES

DEFAULT_CHUNK_SIZE = 1024

_F64 = torch.float64
# Smallest 1 - c|x|^2 used for a Poincaré point: points that float32 rounding put on or
# outside the boundary would otherwise give alpha <= 0 and NaN; they are treated as lying
# one float64 ulp inside it (distance from the origin ~ 37/sqrt(c)).
_ALPHA_MIN = torch.finfo(_F64).eps
# Lower bound for t in the ratios asinh(t)/t and atanh(t)/t: both tend to 1 as t -> 0, and
# the clamp turns 0/0 at the origin into that limit (with zero gradient through the clamp).
_RATIO_TINY = torch.finfo(_F64).tiny
# Largest argument given to asin: asin'(1) = inf would turn a zero upstream gradient into
# NaN. asin(1 - 1e-15) differs from pi/2 by 4.5e-8, below float32's resolution at pi/2.
_ASIN_MAX = 1.0 - 1e-15


def as_tensor(x: Any, dtype: torch.dtype | None = None) -> Tensor:
    """Tensor view of an array-like; integer or bool data becomes the default float dtype."""
    tensor = torch.as_tensor(x)
    if dtype is not None:
        return tensor.to(dtype)
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    return tensor


def get_geometry(name: str, curvature: float = 1.0) -> Geometry:
    """The geometry called `name` ("euclidean", "sphere", "poincare", "lorentz").

    curvature: c > 0 (sectional curvature -c for poincare/lorentz, +c for sphere). The
    Euclidean geometry ignores it (its curvature is 0.0) but still rejects negative or
    non-finite values, and accepts 0 so that (name, geometry.curvature) round-trips.
    """
    key = str(name).strip().lower()
    if key not in GEOMETRY_NAMES:
        raise MmvizError(f"unknown geometry {name!r}; choose one of: {', '.join(GEOMETRY_NAMES)}")
    try:
        c = float(curvature)
    except (TypeError, ValueError):
        raise MmvizError(f"curvature must be a number, got {curvature!r}") from None
    if not math.isfinite(c) or c < 0 or (c == 0 and key != "euclidean"):
        raise MmvizError(
            f"curvature must be a finite number > 0 for the {key} geometry, got {curvature!r}"
        )
    if key == "euclidean":
        return EuclideanGeometry()
    if key == "sphere":
        return SphereGeometry(c)
    if key == "poincare":
        return PoincareGeometry(c)
    return LorentzGeometry(c)


# --- shared numerical kernels -------------------------------------------------------------


def _tracks_grad(*values: Any) -> bool:
    """Whether autograd records an op on these values (None and floats are ignored)."""
    return torch.is_grad_enabled() and any(
        isinstance(v, Tensor) and v.requires_grad for v in values
    )


def _norm(x: Tensor) -> Tensor:
    """|x| over the last axis; its gradient at x = 0 is 0 (torch masks the 0/0)."""
    return torch.linalg.vector_norm(x, dim=-1)


def _safe_atan2(s: Tensor, c: Tensor) -> Tensor:
    """atan2(s, c), returning 0 with zero gradient where s = c = 0 (angle undefined):
    atan2's gradient c/(s^2 + c^2) is 0/0 there. The where() is applied to the inputs so
    that atan2 never sees the degenerate pair (the 'double where' pattern)."""
    degenerate = (s * s + c * c) == 0
    return torch.atan2(torch.where(degenerate, 0.0, s), torch.where(degenerate, 1.0, c))


def _ball_eps(dtype: torch.dtype) -> float:
    """Relative gap kept between a projected point and the ball's boundary: 4 ulps of 1.

    geoopt's projx keeps 4e-3 in float32, which caps every float32 distance from the origin
    at ~6.2/sqrt(c) and throws away the region where hyperbolic embeddings live. 4 ulps is
    the smallest gap that survives rescaling the coordinates (each rounded by <= 1/2 ulp).
    """
    return 4.0 * torch.finfo(dtype).eps


def _pairwise_chord_chunks(
    a: Tensor, b: Tensor, chunk_size: int
) -> Iterator[tuple[int, int, Tensor]]:
    """Accurate |a_i - b_j| in float64, one row chunk at a time.

    a: Tensor of shape (B1, D), b: Tensor of shape (B2, D), both float64.
    Yields (start, stop, chord) with chord of shape (stop - start, B2). Intermediates are
    (chunk_size, B2), never (B1, B2, D).

    The bulk comes from one matrix product of augmented vectors, [a, |a|^2, 1] . [-2b, 1,
    |b|^2] = |a - b|^2, which is fast but has an absolute error ~ (D + 2) eps |a|^2. Pairs
    with |a - b|^2 below `threshold` (where that error would exceed ~1e-8 relative) are
    recomputed directly from the coordinate differences, which are exact for float32 data.
    Both sides are first shifted by the mean of b (distances are translation invariant) so
    the error scale |a|^2 is the spread of the data, not its offset.
    """
    shift = b.detach().mean(dim=0) if b.shape[0] else b.new_zeros(b.shape[1])
    a_c, b_c = a - shift, b - shift
    sq_a, sq_b = (a_c * a_c).sum(-1), (b_c * b_c).sum(-1)
    ones_a, ones_b = torch.ones_like(sq_a), torch.ones_like(sq_b)
    a_aug = torch.cat([a_c, sq_a[:, None], ones_a[:, None]], dim=1)
    b_aug = torch.cat([-2.0 * b_c, ones_b[:, None], sq_b[:, None]], dim=1)
    with torch.no_grad():
        # (D + 2) * 2.2e-8: the worst-case product error (D + 2) eps_64 (|a|^2 + |b|^2) is
        # then <= 1e-8 of |a - b|^2 on every pair that is not recomputed. The floor makes
        # every pair with |a - b|^2 <= 0 (exact duplicates, rounding below 0) recomputed.
        largest = sum(float(s.max()) for s in (sq_a, sq_b) if s.numel())
        threshold = max((a.shape[1] + 2) * 2.2e-8 * largest, _RATIO_TINY)
    track_grad = _tracks_grad(a, b)
    for start in range(0, a.shape[0], chunk_size):
        stop = min(start + chunk_size, a.shape[0])
        sq = a_aug[start:stop] @ b_aug.T
        with torch.no_grad():
            rows, cols = torch.nonzero(sq < threshold, as_tuple=True)
        if track_grad:
            # The pairs below the threshold are overwritten next; the clamp keeps sqrt's
            # backward, 1 / (2 sqrt), finite there instead of 0 * inf = NaN.
            chord = sq.clamp_min(_RATIO_TINY).sqrt()
        else:
            chord = sq.sqrt_()  # NaN only where sq < 0, all of which are overwritten next
        if rows.numel():
            exact = [
                _norm(a[start + r] - b[c])
                for r, c in zip(rows.split(1 << 16), cols.split(1 << 16), strict=True)
            ]
            exact = torch.cat(exact)
            if track_grad:
                chord = chord.index_put((rows, cols), exact)
            else:
                chord.index_put_((rows, cols), exact)
        yield start, stop, chord


class Geometry(ABC):
    """A Riemannian manifold for embeddings. Points are Tensors of shape (..., dim_ambient(D)).

    Subclasses define distances through `_chart` and `_from_chord`: each point gets chart
    coordinates (float64) and a per-point scale, and the geodesic distance is a function of
    the Euclidean chord length between chart coordinates and the two scales. `dist` and
    `pairwise_dist` share that function, so they agree to rounding.
    """

    name: str
    curvature: float

    def __repr__(self) -> str:
        return f"{type(self).__name__}(curvature={self.curvature})"

    def dim_ambient(self, d: int) -> int:
        """Number of stored coordinates of a point whose tangent space has dimension d."""
        return d

    @abstractmethod
    def _chart(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """Chart coordinates (..., D') in float64 and a per-point scale (...) or None."""

    @abstractmethod
    def _from_chord(
        self, chord: Tensor, scale_x: Tensor | None, scale_y: Tensor | None, inplace: bool = False
    ) -> Tensor:
        """Geodesic distance from the chord length and the two per-point scales (broadcast).

        inplace=True overwrites `chord` (saves three (chunk, B2) allocations per chunk in
        pairwise_dist); only valid when no gradient flows through it.
        """

    def dist(self, x: Tensor, y: Tensor) -> Tensor:
        """Geodesic distance. x, y: Tensors of shape (..., D) (broadcast) -> shape (...)."""
        cx, sx = self._chart(x)
        cy, sy = self._chart(y)
        out_dtype = torch.promote_types(x.dtype, y.dtype)
        return self._from_chord(_norm(cx - cy), sx, sy).to(out_dtype)

    def pairwise_dist(
        self, X: Tensor, Y: Tensor | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Tensor:
        """All distances d(X_i, Y_j). X: (B1, D), Y: (B2, D) (default X) -> (B1, B2).

        Computed `chunk_size` rows of X at a time: memory beyond the output is
        O(chunk_size * B2), so 20k x 20k needs the 1.6 GB float32 output and ~0.5 GB more.
        Differentiable; values agree with `dist` on every pair to float32 rounding.
        """
        Y = X if Y is None else Y
        if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
            raise MmvizError(
                f"pairwise_dist needs X (B1, D) and Y (B2, D), got {tuple(X.shape)} and {tuple(Y.shape)}"
            )
        if chunk_size < 1:
            raise MmvizError(f"chunk_size must be >= 1, got {chunk_size}")
        cx, sx = self._chart(X)
        cy, sy = self._chart(Y)
        # In place only without autograd; the curvature may be a Tensor (learned c).
        inplace = not _tracks_grad(cx, cy, sx, sy, getattr(self, "_sqrt_c", None))
        out_dtype = torch.promote_types(X.dtype, Y.dtype)
        out = torch.empty(X.shape[0], Y.shape[0], dtype=out_dtype, device=X.device)
        # _from_chord runs in float64 here as in `dist`: besides accuracy, this makes the
        # result independent of chunk_size, since float32 transcendental kernels may round
        # differently in their vectorised body and scalar tail, which move with the chunking.
        for start, stop, chord in _pairwise_chord_chunks(cx, cy, chunk_size):
            scale_rows = None if sx is None else sx[start:stop, None]
            scale_cols = None if sy is None else sy[None, :]
            out[start:stop] = self._from_chord(chord, scale_rows, scale_cols, inplace)
        return out

    @abstractmethod
    def dist0(self, x: Tensor) -> Tensor:
        """Distance from the origin. x: (..., D) -> (...)."""

    @abstractmethod
    def expmap0(self, v: Tensor) -> Tensor:
        """Tangent vector at the origin -> point. v: (..., d) -> (..., dim_ambient(d))."""

    @abstractmethod
    def logmap0(self, x: Tensor) -> Tensor:
        """Point -> tangent vector at the origin. x: (..., dim_ambient(d)) -> (..., d)."""

    @abstractmethod
    def to_poincare(self, x: Tensor) -> Tensor:
        """Coordinates in a Poincaré ball, for plotting. x: (..., D) -> (..., d)."""

    @abstractmethod
    def from_poincare(self, p: Tensor) -> Tensor:
        """Inverse of `to_poincare`. p: (..., d) -> (..., D)."""

    @abstractmethod
    def project(self, x: Tensor) -> Tensor:
        """Nearest point on the manifold. x: (..., D) -> (..., D)."""

    def origin(self, d: int, dtype: torch.dtype = torch.float32, device: Any = None) -> Tensor:
        """The origin, equal to expmap0(zeros(d)): Tensor of shape (dim_ambient(d),)."""
        return torch.zeros(self.dim_ambient(d), dtype=dtype, device=device)


class EuclideanGeometry(Geometry):
    """Flat R^D. expmap0/logmap0 are the identity; to_poincare treats a point as a
    tangent vector at the origin of the unit-curvature ball: p = expmap0_ball(x), at
    hyperbolic distance |x| from the origin."""

    name = "euclidean"

    def __init__(self) -> None:
        self.curvature = 0.0
        self._disk = PoincareGeometry(1.0)

    def _chart(self, x: Tensor) -> tuple[Tensor, None]:
        return x.to(_F64), None

    def _from_chord(self, chord: Tensor, scale_x: None, scale_y: None, inplace: bool = False) -> Tensor:
        return chord

    def dist0(self, x: Tensor) -> Tensor:
        """|x|. x: (..., D) -> (...)."""
        return _norm(x)

    def expmap0(self, v: Tensor) -> Tensor:
        """Identity. v: (..., D) -> (..., D)."""
        return v

    def logmap0(self, x: Tensor) -> Tensor:
        """Identity. x: (..., D) -> (..., D)."""
        return x

    def to_poincare(self, x: Tensor) -> Tensor:
        """Unit-curvature ball point expmap0(x). x: (..., D) -> (..., D)."""
        return self._disk.expmap0(x)

    def from_poincare(self, p: Tensor) -> Tensor:
        """logmap0 of the unit-curvature ball. p: (..., D) -> (..., D)."""
        return self._disk.logmap0(p)

    def project(self, x: Tensor) -> Tensor:
        """Identity. x: (..., D) -> (..., D)."""
        return x


class SphereGeometry(Geometry):
    """Directions with cosine similarity (CLIP). A point is any nonzero vector; it stands
    for its direction x/|x|. dist = angle / sqrt(c), the great-circle length on the sphere
    of radius 1/sqrt(c); `similarity` is the cosine and does not depend on c.

    The sphere has no origin. Here the 'origin' is the centre of the ambient space (zeros,
    not on the sphere), expmap0 and logmap0 are the radial projection x/|x| (what CLIP does
    to its features), and dist0(x) = |x| is the raw norm of the unnormalised input: on the
    sphere itself every point has norm 1, so specificity needs a proxy (e.g. that raw norm,
    or the angle to a reference direction). The zero vector has no direction and stays 0.
    to_poincare treats the unit direction as a tangent vector at the origin of the
    unit-curvature ball (all points land on the circle of radius tanh(1/2), distance 1).
    """

    name = "sphere"

    def __init__(self, curvature: float = 1.0) -> None:
        self.curvature = float(curvature)
        self._disk = PoincareGeometry(1.0)

    def similarity(self, x: Tensor, y: Tensor) -> Tensor:
        """Cosine similarity. x, y: (..., D) (broadcast) -> (...)."""
        return torch.nn.functional.cosine_similarity(x, y, dim=-1)

    def _chart(self, x: Tensor) -> tuple[Tensor, None]:
        # Normalised in float64: a float32 unit vector is off by ~1e-7 rad, which would be the
        # whole answer for two nearly parallel directions.
        return self.project(x.to(_F64)), None

    def _from_chord(self, chord: Tensor, scale_x: None, scale_y: None, inplace: bool = False) -> Tensor:
        # angle = 2 asin(|a - b| / 2) for unit vectors a, b. Unlike arccos(<a, b>) it is
        # accurate and differentiable at angle 0; near pi its float64 error (~1e-8 absolute)
        # is far below float32 resolution. The clamp keeps asin'(1) = inf out of the gradient
        # at antipodal points (and catches |a - b| rounded above 2).
        scale = 2.0 / math.sqrt(self.curvature)
        if inplace:
            return chord.mul_(0.5).clamp_max_(_ASIN_MAX).asin_().mul_(scale)
        return scale * torch.asin((0.5 * chord).clamp_max(_ASIN_MAX))

    def dist0(self, x: Tensor) -> Tensor:
        """Raw norm |x| of the unnormalised input (a specificity proxy). x: (..., D) -> (...)."""
        return _norm(x)

    def expmap0(self, v: Tensor) -> Tensor:
        """Radial projection v/|v|. v: (..., D) -> (..., D)."""
        return self.project(v)

    def logmap0(self, x: Tensor) -> Tensor:
        """Unit direction x/|x|, so that expmap0(logmap0(x)) = x on the sphere. (..., D) -> (..., D)."""
        return self.project(x)

    def to_poincare(self, x: Tensor) -> Tensor:
        """Unit-curvature ball point expmap0(x/|x|). x: (..., D) -> (..., D)."""
        return self._disk.expmap0(self.project(x))

    def from_poincare(self, p: Tensor) -> Tensor:
        """Direction of logmap0 in the unit-curvature ball. p: (..., D) -> (..., D)."""
        return self.project(self._disk.logmap0(p))

    def project(self, x: Tensor) -> Tensor:
        """x/|x|. x: (..., D) -> (..., D). geoopt's Sphere.projx divides by |x| and gives
        NaN for the zero vector; F.normalize divides by max(|x|, 1e-12) and returns 0."""
        return torch.nn.functional.normalize(x, dim=-1)


class _HyperbolicGeometry(Geometry):
    """Shared parts of the two hyperbolic models (curvature -c, radius 1/sqrt(c))."""

    def __init__(self, curvature: float = 1.0) -> None:
        self.curvature = float(curvature)
        self._sqrt_c = math.sqrt(self.curvature)

    def _from_chord(
        self, chord: Tensor, scale_x: Tensor, scale_y: Tensor, inplace: bool = False
    ) -> Tensor:
        # scale = 1/sqrt(alpha) with alpha = 1 - c|p|^2 (conformal factor of the ball chart):
        # d = (2/sqrt(c)) asinh(sqrt(c) |p - q| / sqrt(alpha_p alpha_q)); see module docstring.
        # (sqrt(c) * scale_x) is formed first: with pairwise (B, 1) scales that is a vector op.
        row_factor, outer = self._sqrt_c * scale_x, 2.0 / self._sqrt_c
        if inplace:
            return chord.mul_(row_factor).mul_(scale_y).asinh_().mul_(outer)
        return outer * torch.asinh(chord * row_factor * scale_y)

    def _check_min_radius(self, min_radius: float) -> None:
        if not min_radius > 0:
            raise MmvizError(f"min_radius must be > 0, got {min_radius!r}")

    def _half_aperture_from_sine(self, numerator: Tensor, denominator: Tensor) -> Tensor:
        """asin(min(numerator / denominator, 1)) for numerator > 0, denominator >= 0.

        Near the origin the cone's sine exceeds 1 (the cone is a half-space, aperture pi/2).
        max() rather than a division-then-clamp keeps the value and gradient finite at the
        origin, where the denominator is 0.
        """
        sine = numerator / torch.maximum(denominator, numerator)
        return torch.asin(sine.clamp_max(_ASIN_MAX))

    @abstractmethod
    def half_aperture(self, x: Tensor, min_radius: float = DEFAULT_CONE_MIN_RADIUS) -> Tensor:
        """Half-aperture of the entailment cone at x: (..., D) -> (...), in (0, pi/2]."""

    @abstractmethod
    def exterior_angle(self, x: Tensor, y: Tensor) -> Tensor:
        """Angle at x between the outward ray (origin -> x, continued) and the geodesic
        x -> y: (..., D), (..., D) -> (...), in [0, pi]."""

    def in_cone(self, x: Tensor, y: Tensor, min_radius: float = DEFAULT_CONE_MIN_RADIUS) -> Tensor:
        """Whether y lies in the entailment cone of x (x entails y): (..., D) x2 -> bool (...)."""
        return self.exterior_angle(x, y) <= self.half_aperture(x, min_radius)


class PoincareGeometry(_HyperbolicGeometry):
    """Poincaré ball of curvature -c: points with |x| < 1/sqrt(c), shape (..., D).

    Wraps geoopt.PoincareBall(c). Tangent vectors at the origin are measured in the
    Riemannian norm (twice geoopt's Euclidean one), see expmap0. Distances avoid geoopt's
    dist, whose artanh clamps at 1 - 1e-7 and loses float32 accuracy near the boundary,
    and its logmap0/dist0, which evaluate artanh as log(1 + t) - log(1 - t) (relative
    error ~1e-4 at |x| = 1e-4).
    Entailment cones follow Ganea et al. 2018 with K = min_radius on the rescaled point
    sqrt(c) x, which gives the same cones as MERU's Lorentz formulas (see LorentzGeometry).
    """

    name = "poincare"

    def __init__(self, curvature: float = 1.0) -> None:
        super().__init__(curvature)
        self.ball = geoopt.PoincareBall(c=torch.tensor(self.curvature, dtype=_F64))

    def _alpha(self, x64: Tensor) -> Tensor:
        """1 - c|x|^2 in float64 (conformal factor 2/alpha). x64: (..., D) -> (...)."""
        return (1.0 - self.curvature * (x64 * x64).sum(-1)).clamp_min(_ALPHA_MIN)

    def _chart(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x64 = x.to(_F64)
        return x64, self._alpha(x64).rsqrt()

    def dist0(self, x: Tensor) -> Tensor:
        """(2/sqrt(c)) artanh(sqrt(c)|x|). x: (..., D) -> (...)."""
        x64 = x.to(_F64)
        scale = self._alpha(x64).rsqrt()
        return self._from_chord(_norm(x64), torch.ones_like(scale), scale).to(x.dtype)

    def expmap0(self, v: Tensor) -> Tensor:
        """tanh(sqrt(c)|v|/2) v / (sqrt(c)|v|), kept just inside the boundary. (..., D) -> (..., D).

        v is measured in the Riemannian norm at the origin, where the ball's metric is 4x
        the Euclidean one: v = 2u for geoopt's u. Then dist0(expmap0(v)) = |v| as in every
        geometry here, and lorentz.to_poincare(lorentz.expmap0(v)) = poincare.expmap0(v).
        """
        return self.project(self.ball.expmap0(v / 2.0, project=False))

    def logmap0(self, x: Tensor) -> Tensor:
        """(2/sqrt(c)) artanh(sqrt(c)|x|) x/|x| (Riemannian norm, see expmap0). (..., D) -> (..., D)."""
        x64 = x.to(_F64)
        # Upper clamp: points on/outside the boundary after rounding (artanh(1) = inf).
        t = (self._sqrt_c * _norm(x64)).clamp(_RATIO_TINY, 1.0 - torch.finfo(_F64).eps)
        return x * (2.0 * torch.atanh(t) / t).to(x.dtype)[..., None]

    def to_poincare(self, x: Tensor) -> Tensor:
        """Identity (already Poincaré coordinates). x: (..., D) -> (..., D)."""
        return x

    def from_poincare(self, p: Tensor) -> Tensor:
        """Identity. p: (..., D) -> (..., D)."""
        return p

    def project(self, x: Tensor) -> Tensor:
        """geoopt's projx onto |x| <= (1 - eps)/sqrt(c) with eps = 4 ulps of the dtype
        (geoopt's default eps, 4e-3 in float32, is far too coarse; see `_ball_eps`)."""
        return ball_math.project(x, k=self.ball.k, eps=_ball_eps(x.dtype))

    # --- entailment cones (Ganea et al. 2018) -------------------------------------------

    def half_aperture(self, x: Tensor, min_radius: float = DEFAULT_CONE_MIN_RADIUS) -> Tensor:
        """asin(K (1 - c|x|^2) / (sqrt(c)|x|)) with K = min_radius, capped at pi/2.

        Equals MERU's asin(2 K / (sqrt(c) |x_space|)) for the same point in the Lorentz
        model, since |x_space| = 2|x| / (1 - c|x|^2). x: (..., D) -> (...).
        """
        self._check_min_radius(min_radius)
        x64 = x.to(_F64)
        angle = self._half_aperture_from_sine(
            min_radius * self._alpha(x64), self._sqrt_c * _norm(x64)
        )
        return angle.to(x.dtype)

    def exterior_angle(self, x: Tensor, y: Tensor) -> Tensor:
        """Ganea et al.'s exterior angle Xi(x, y), written as atan2(sine, cosine).

        With x, y rescaled by sqrt(c) (the unit ball), Ganea's cosine is
        N / (|x| |x - y| sqrt(1 + |x|^2|y|^2 - 2<x,y>)), N = <x,y>(1 + |x|^2) - |x|^2(1 + |y|^2),
        and the matching sine is (1 - |x|^2)|x| |y_perp| / (same denominator), y_perp the part
        of y orthogonal to x. atan2 needs no arccos clamp and is accurate at angle 0 and pi.
        Both terms are multiplied by |x| so no division by |x| is needed; at x = y and at
        x = 0 the angle is undefined and 0 is returned. x, y: (..., D) -> (...).
        """
        x64, y64 = x.to(_F64), y.to(_F64)
        c = self.curvature
        xx, yy, xy = (x64 * x64).sum(-1), (y64 * y64).sum(-1), (x64 * y64).sum(-1)
        cosine_term = xy * (1.0 + c * xx) - xx * (1.0 + c * yy)
        wedge = _norm(xx[..., None] * y64 - xy[..., None] * x64)  # = |x| |x ^ y|
        angle = _safe_atan2(self._alpha(x64) * wedge, _norm(x64) * cosine_term)
        return angle.to(torch.promote_types(x.dtype, y.dtype))


class LorentzGeometry(_HyperbolicGeometry):
    """Lorentz hyperboloid of curvature -c: points (..., D + 1), time coordinate first,
    -x_0^2 + |x_space|^2 = -1/c (geoopt.Lorentz(k=1/c)). The time coordinate is never read:
    it is recomputed from the space part in float64 (as MERU does), so a float32 point is
    always exactly on the hyperboloid and huge points (x_0 ~ 1e21 at distance 50) neither
    overflow nor cancel. Tangent vectors at the origin have a zero time component, so
    expmap0 takes and logmap0 returns only the D space components.

    Cones are MERU's (Desai et al. 2023): half-aperture asin(2 K / (sqrt(c)|x_space|)) and
    the exterior angle from the hyperbolic law of cosines in the triangle (origin, x, y).
    """

    name = "lorentz"

    def __init__(self, curvature: float = 1.0) -> None:
        super().__init__(curvature)
        self.manifold = geoopt.Lorentz(k=torch.tensor(1.0 / self.curvature, dtype=_F64))

    def dim_ambient(self, d: int) -> int:
        """d space coordinates plus the time coordinate."""
        return d + 1

    def _space(self, x: Tensor) -> Tensor:
        return x[..., 1:]

    def _time64(self, space64: Tensor) -> Tensor:
        """x_0 = sqrt(1/c + |x_space|^2) in float64. space64: (..., D) -> (...)."""
        return (1.0 / self.curvature + (space64 * space64).sum(-1)).sqrt()

    def _chart(self, x: Tensor) -> tuple[Tensor, Tensor]:
        # Poincaré-ball coordinates p = x_space / (1 + sqrt(c) x_0) of the same point, with
        # 1 - c|p|^2 = 2 / (1 + sqrt(c) x_0) taken from x_0 (no cancellation, no clamp):
        # the ball's asinh formula then gives the Lorentz distance arccosh(-c<x,y>_L)/sqrt(c)
        # without forming <x,y>_L, which cancels for near points and overflows float32.
        space64 = self._space(x).to(_F64)
        lift = 1.0 + self._sqrt_c * self._time64(space64)
        return space64 / lift[..., None], (lift / 2.0).sqrt()

    def dist0(self, x: Tensor) -> Tensor:
        """asinh(sqrt(c)|x_space|)/sqrt(c). x: (..., D + 1) -> (...).

        (geoopt's dist0 uses arccosh(sqrt(c) x_0), which in float32 is off by 2% at 1e-3.)
        """
        radius = self._sqrt_c * _norm(self._space(x).to(_F64))
        return (torch.asinh(radius) / self._sqrt_c).to(x.dtype)

    def expmap0(self, v: Tensor) -> Tensor:
        """Point exp_origin(v) for a space vector v: (..., D) -> (..., D + 1), time first.

        |v| is capped at 0.95 ln(max float of the dtype) / sqrt(c) (84/sqrt(c) in float32)
        so that sinh does not overflow; beyond that cap expmap0 is not invertible.
        """
        cap = 0.95 * math.log(torch.finfo(v.dtype).max) / self._sqrt_c
        norm = _norm(v)[..., None]
        # max() keeps the factor exactly 1 (zero gradient) below the cap, and finite at v = 0.
        v = v * (cap / torch.maximum(norm, torch.full_like(norm, cap)))
        # float64: geoopt forms sqrt(k) sinh(|v| sqrt(c)) * v before dividing by |v|, which
        # overflows float32 near the cap.
        tangent = torch.cat([torch.zeros_like(v[..., :1]), v], dim=-1).to(_F64)
        return self.project(self.manifold.expmap0(tangent, project=False).to(v.dtype))

    def logmap0(self, x: Tensor) -> Tensor:
        """Space part of log_origin(x): asinh(sqrt(c)|x_s|) x_s / (sqrt(c)|x_s|).
        x: (..., D + 1) -> (..., D). (geoopt's logmap0 inherits the inaccurate dist0.)"""
        space = self._space(x)
        t = (self._sqrt_c * _norm(space.to(_F64))).clamp_min(_RATIO_TINY)
        return space * (torch.asinh(t) / t).to(x.dtype)[..., None]

    def to_poincare(self, x: Tensor) -> Tensor:
        """Ball of the same curvature: p = x_space / (1 + sqrt(c) x_0). (..., D + 1) -> (..., D).

        (geoopt's lorentz_to_poincare maps to the unit-radius ball, i.e. sqrt(c) p.)
        """
        return self._chart(x)[0].to(x.dtype)

    def from_poincare(self, p: Tensor) -> Tensor:
        """Inverse of to_poincare: x_space = 2p / (1 - c|p|^2). (..., D) -> (..., D + 1).

        (geoopt's poincare_to_lorentz adds 1e-6 to 1 - |p|^2, a 50% error at |p| = 1 - 1e-6.)
        """
        p64 = p.to(_F64)
        # Same floor as the ball's conformal factor: points rounded onto the boundary.
        alpha = (1.0 - self.curvature * (p64 * p64).sum(-1)).clamp_min(_ALPHA_MIN)
        space = (2.0 * p64 / alpha[..., None]).to(p.dtype)
        return self.project(torch.cat([torch.zeros_like(space[..., :1]), space], dim=-1))

    def project(self, x: Tensor) -> Tensor:
        """geoopt's projx (time = sqrt(1/c + |x_space|^2)), evaluated in float64: in float32
        geoopt's |x_space|^2 overflows beyond distance ~44/sqrt(c). (..., D + 1) -> (..., D + 1)."""
        space = self._space(x)
        time = self._time64(space.to(_F64)).to(x.dtype)
        return torch.cat([time[..., None], space], dim=-1)

    def origin(self, d: int, dtype: torch.dtype = torch.float32, device: Any = None) -> Tensor:
        """(1/sqrt(c), 0, ..., 0): Tensor of shape (d + 1,)."""
        point = torch.zeros(d + 1, dtype=dtype, device=device)
        point[0] = 1.0 / self._sqrt_c
        return point

    # --- entailment cones (MERU) ---------------------------------------------------------

    def half_aperture(self, x: Tensor, min_radius: float = DEFAULT_CONE_MIN_RADIUS) -> Tensor:
        """asin(2 K / (sqrt(c)|x_space|)) with K = min_radius, capped at pi/2 near the
        origin (MERU). x: (..., D + 1) -> (...)."""
        self._check_min_radius(min_radius)
        radius = self._sqrt_c * _norm(self._space(x).to(_F64))
        angle = self._half_aperture_from_sine(torch.full_like(radius, 2.0 * min_radius), radius)
        return angle.to(x.dtype)

    def exterior_angle(self, x: Tensor, y: Tensor) -> Tensor:
        """MERU's exterior angle, written as atan2(sine, cosine).

        MERU: cos = (y_0 + c<x,y>_L x_0) / (|x_s| sqrt((c<x,y>_L)^2 - 1)) (the law of cosines
        in the triangle origin-x-y). Expanding <x,y>_L with c x_0^2 = 1 + c|x_s|^2 turns the
        numerator into c(x_0 <x_s,y_s> - y_0 |x_s|^2), and the law of sines gives the sine
        sqrt(c)|y_perp| / sqrt((c<x,y>_L)^2 - 1), y_perp the part of y_s orthogonal to x_s.
        Both are multiplied by |x_s| sqrt(...)/sqrt(c) before atan2, which removes every
        division: at x = y and at the origin (angle undefined) 0 is returned.
        x, y: (..., D + 1) -> (...).
        """
        xs, ys = self._space(x).to(_F64), self._space(y).to(_F64)
        xx, xy = (xs * xs).sum(-1), (xs * ys).sum(-1)
        cosine_term = self._sqrt_c * _norm(xs) * (self._time64(xs) * xy - self._time64(ys) * xx)
        wedge = _norm(xx[..., None] * ys - xy[..., None] * xs)  # = |x_s| |x_s ^ y_s|
        angle = _safe_atan2(wedge, cosine_term)
        return angle.to(torch.promote_types(x.dtype, y.dtype))


# --- learnable curvature (added for the contrastive models; owner: trainer) -----------------
# MERU learns c. Every formula above uses the curvature only through `self.curvature` and
# `self._sqrt_c` in arithmetic, so a geometry holding c as a 0-d Tensor gives distances,
# maps and cones whose gradient reaches c. The only methods redefined here are those that go
# through a geoopt manifold object (which stores c as its own detached parameter); they call
# geoopt's functional maths with the curvature tensor instead.


class LorentzTensorCurvature(LorentzGeometry):
    """LorentzGeometry whose curvature is a 0-d Tensor c > 0 (differentiable in c)."""

    def __init__(self, curvature: Tensor) -> None:  # noqa: D107 - no float() of c, no geoopt object
        self.curvature = curvature
        self._sqrt_c = curvature.sqrt()

    def expmap0(self, v: Tensor) -> Tensor:
        """Point exp_origin(v): (..., D) -> (..., D + 1), time first; |v| capped as in
        LorentzGeometry.expmap0 so sinh does not overflow."""
        cap = 0.95 * math.log(torch.finfo(v.dtype).max) / self._sqrt_c
        norm = _norm(v)[..., None]
        v = v * (cap / torch.maximum(norm, cap.expand_as(norm)))
        # float64 for the same overflow reason as LorentzGeometry.expmap0
        tangent = torch.cat([torch.zeros_like(v[..., :1]), v], dim=-1).to(_F64)
        return self.project(lorentz_math.expmap0(tangent, k=1.0 / self.curvature).to(v.dtype))


class PoincareTensorCurvature(PoincareGeometry):
    """PoincareGeometry whose curvature is a 0-d Tensor c > 0 (differentiable in c)."""

    def __init__(self, curvature: Tensor) -> None:  # noqa: D107 - no float() of c, no geoopt object
        self.curvature = curvature
        self._sqrt_c = curvature.sqrt()

    def expmap0(self, v: Tensor) -> Tensor:
        """tanh(sqrt(c)|v|/2) v / (sqrt(c)|v|) (Riemannian |v|, as PoincareGeometry.expmap0),
        kept just inside the boundary. (..., D) -> (..., D)."""
        return self.project(ball_math.expmap0(v / 2.0, k=-self.curvature))

    def project(self, x: Tensor) -> Tensor:
        """geoopt's projx onto |x| <= (1 - eps)/sqrt(c), eps = 4 ulps (see `_ball_eps`)."""
        return ball_math.project(x, k=-self.curvature.to(x.dtype), eps=_ball_eps(x.dtype))


def geometry_with_curvature(name: str, curvature: Tensor) -> Geometry:
    """The geometry `name` with a curvature held as a 0-d Tensor (gradients flow into it).

    "lorentz" and "poincare" return the tensor-curvature subclasses; "sphere" and
    "euclidean" do not depend on c in any model here and get `get_geometry(name)`.
    """
    if name == "lorentz":
        return LorentzTensorCurvature(curvature)
    if name == "poincare":
        return PoincareTensorCurvature(curvature)
    return get_geometry(name)
