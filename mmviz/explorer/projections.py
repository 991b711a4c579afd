"""N × D embeddings in any geometry → the 2-D Poincaré disk, and how good that picture is.

Every projection returns unit-disk coordinates (|u| < 1, float64). For hyperbolic inputs of
curvature -c the display disk is the ball of curvature -c rescaled to unit radius, so a
display (unit-disk) distance equals sqrt(c) × the original distance (``Projection.unit``).

Methods (:data:`METHODS`):

- ``radial`` (default, fast): a point keeps its exact distance from the origin (hyperbolic:
  ``dist0``; Euclidean: ``|x|``, rescaled to fit; sphere: a user-chosen specificity proxy,
  see :data:`SPECIFICITY`), so radius reads as genericity/specificity. Its angle comes from a
  PCA of the directions of the ``logmap0`` tangent vectors (logmap0 is radial in every
  geometry here, so those directions are the directions of the space coordinates).
- ``tangent-pca``: hyperbolic: PCA of the tangent vectors at the Fréchet mean, mapped back
  with expmap and Möbius-moved so the original origin sits at the centre; Euclidean/sphere:
  plain PCA (of the points / of the unit directions).
- ``horopca`` (hyperbolic only): HoroPCA, projection along horospheres onto the geodesic plane
  through the Fréchet mean and two fitted ideal points (:mod:`mmviz.explorer.horopca`).
- ``co-sne`` (hyperbolic only): CO-SNE, a t-SNE in the Poincaré disk with a hyperbolic
  Student-t and a term keeping each point's norm (:mod:`mmviz.explorer.cosne`).
- ``umap``: umap-learn with ``output_metric="hyperboloid"`` (imported lazily, here only),
  converted to the disk and recentred on the most generic points.
- ``identity``: 2-D inputs already in a disk (Poincaré or Lorentz of any curvature, or
  precomputed unit-disk coordinates stored as Euclidean 2-D points).

Quality (:func:`quality`): Spearman between original and projected distance from the origin
(all points), trustworthiness at k = 10 and mean relative pairwise distortion (on a sample).
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from mmviz.errors import MmvizError
from mmviz.geometry import HYPERBOLIC, get_geometry
from mmviz.geometry import disk as unit_disk
from mmviz.paths import cache_dir

METHODS = ("radial", "tangent-pca", "horopca", "co-sne", "umap", "identity")
HYPERBOLIC_ONLY = ("horopca", "co-sne")
SLOW = ("co-sne", "umap")  # fits that report progress and are worth a status box
SPECIFICITY = {
    "raw_norm": "raw feature norm (before normalisation)",
    "mean": "angle to the mean direction",
    "root": "angle to a chosen root",
}
# Points whose tanh(d/2) rounds to 1 in float64 (d > ~35) are kept at geometry.disk.MAX_RADIUS,
# ~4.5 ulps inside the boundary (enough that |(x, y)| recomputed from rounded coordinates
# stays < 1), so every point is strictly inside the disk.
# Non-hyperbolic depths have no natural hyperbolic scale: they are drawn with the largest at
# this display distance from the centre (tanh(4/2) = 0.96 of the radius), readable and not
# crushed against the rim.
FIT_RADIUS = 4.0
# Proxy depths (sphere) are min-max scaled to [PROXY_MIN, FIT_RADIUS]: only their order means anything.
PROXY_MIN = 0.25
PCA_FIT_ROWS = 20_000


@dataclass
class Projection:
    """A projection to the unit disk.

    disk: (N, 2) float64, |disk| < 1. depth: (N,) the original distance from the origin (or
    the specificity proxy) that the radius is compared with. unit: display distance per
    original distance unit (sqrt(c) for hyperbolic inputs), None when the disk has no units
    of the original space (proxies, UMAP).
    """

    disk: np.ndarray
    method: str
    geometry: str
    curvature: float
    depth: np.ndarray
    depth_name: str
    unit: float | None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def radius(self) -> np.ndarray:
        """Display hyperbolic distance from the centre, 2 artanh|u|: (N,)."""
        return unit_disk.dist0(self.disk)


# --------------------------------------------------------------------------- inputs


def _space(points: np.ndarray, geometry: str) -> np.ndarray:
    """Space coordinates (drop Lorentz time): (N, D) -> (N, d), float64."""
    x = np.asarray(points, np.float64)
    return x[:, 1:] if geometry == "lorentz" else x


def _unit_ball(points: np.ndarray, geometry: str, curvature: float) -> np.ndarray:
    """Hyperbolic points as unit-ball Poincaré coordinates sqrt(c) p: (N, D) -> (N, d), float64."""
    geo = get_geometry(geometry, curvature)
    p = geo.to_poincare(torch.as_tensor(np.asarray(points, np.float64))).numpy()
    return p * math.sqrt(curvature)


def original_depth(points: np.ndarray, geometry: str, curvature: float = 1.0, *,
                   specificity: str | None = None, raw_norm: np.ndarray | None = None,
                   root: int | None = None) -> tuple[np.ndarray, str]:
    """Distance from the origin in the original space, or the sphere's specificity proxy.

    points: (N, D). Returns (depth (N,), what it is). Sphere embeddings all have norm 1, so
    ``specificity`` picks a proxy from :data:`SPECIFICITY` (default: ``raw_norm`` when given,
    else ``mean``): the pre-normalisation feature norm, the angle to the mean direction, or
    the angle to row ``root``.
    """
    geo = get_geometry(geometry, curvature)
    if geometry != "sphere":
        if specificity not in (None, "origin"):
            raise MmvizError(f"a specificity proxy is only needed for sphere embeddings, not {geometry}")
        depth = geo.dist0(torch.as_tensor(np.asarray(points, np.float64))).numpy()
        return depth, "distance from the origin"
    specificity = specificity or ("raw_norm" if raw_norm is not None else "mean")
    if specificity not in SPECIFICITY:
        raise MmvizError(f"unknown specificity proxy {specificity!r}; choose one of {', '.join(SPECIFICITY)}")
    if specificity == "raw_norm":
        if raw_norm is None:
            raise MmvizError("the raw_norm proxy needs a raw_norm metadata column (pre-normalisation norms)")
        depth = np.asarray(raw_norm, np.float64)
        if depth.shape != (len(points),) or not np.isfinite(depth).all():
            raise MmvizError("raw_norm must hold one finite number per point")
        return depth, SPECIFICITY["raw_norm"]
    x = torch.as_tensor(np.asarray(points, np.float64))
    if specificity == "mean":
        ref = x.div(x.norm(dim=1, keepdim=True).clamp_min(1e-300)).mean(0)
        if float(ref.norm()) == 0.0:
            raise MmvizError("the directions average to zero: choose a root instead of the mean")
    else:
        if root is None or not 0 <= int(root) < len(points):
            raise MmvizError(f"root must be a row index in [0, {len(points)}), got {root!r}")
        ref = x[int(root)]
    return geo.dist(x, ref[None, :]).numpy(), SPECIFICITY[specificity]


# --------------------------------------------------------------------------- methods


def _direction_angles(space: np.ndarray) -> np.ndarray:
    """Angle of each direction x/|x| in the plane of its two principal components. (N, d) -> (N,).

    The mean and axes come from (at most PCA_FIT_ROWS) unit directions; the coordinates are
    (x @ axes) / |x| - mean @ axes, so no (N, d) array of directions is ever formed.
    """
    norms = np.sqrt(np.einsum("ij,ij->i", space, space))
    if space.shape[1] == 1:
        return np.where(space[:, 0] >= 0, 0.0, np.pi)
    fit = np.arange(len(space))
    if len(fit) > PCA_FIT_ROWS:
        fit = np.sort(np.random.default_rng(0).choice(len(space), PCA_FIT_ROWS, replace=False))
    fit = fit[norms[fit] > 0]
    if len(fit) == 0:
        return np.zeros(len(space))
    dirs = space[fit] / norms[fit, None]
    mean = dirs.mean(axis=0)
    axes = _pca_axes(dirs, mean)
    safe = np.where(norms > 0, norms, 1.0)
    xy = (space @ axes) / safe[:, None] - mean @ axes
    xy[norms == 0] = 0.0  # the origin has no direction: angle 0
    return np.arctan2(xy[:, 1], xy[:, 0])


def _pca_axes(x: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Top-2 principal axes (d, 2) of x around ``center`` (signs fixed: largest entry > 0).

    Beyond PCA_FIT_ROWS rows the axes are fitted on a fixed random subset: the top two axes of
    20,000 rows are within sampling noise of the full set's, and the (N, d)ᵀ(N, d) product is
    what made 100,000 points slow on a busy 2-core machine.
    """
    if len(x) > PCA_FIT_ROWS:
        x = x[np.random.default_rng(0).choice(len(x), PCA_FIT_ROWS, replace=False)]
    xc = x - center
    gram = xc.T @ xc  # (d, d): fast for N >> d, and eigh gives the same axes as an SVD
    _, vecs = np.linalg.eigh(gram)
    axes = vecs[:, ::-1][:, :2]
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), [0, 1]])
    return axes * np.where(signs == 0, 1.0, signs)


def _pca2(x: np.ndarray) -> np.ndarray:
    """Centred 2-D PCA coordinates: (N, d) -> (N, 2), d >= 2."""
    mean = x.mean(axis=0)
    return (x - mean) @ _pca_axes(x, mean)


def _radial(points, geometry, curvature, depth) -> tuple[np.ndarray, float | None, list[str]]:
    angle = _direction_angles(_space(points, geometry))
    notes: list[str] = []
    if geometry in HYPERBOLIC:
        unit = math.sqrt(curvature)
        radius = unit * depth
    elif geometry == "euclidean":
        top = float(depth.max()) if len(depth) else 0.0
        unit = FIT_RADIUS / top if top > FIT_RADIUS else 1.0
        radius = unit * depth
        if unit != 1.0:
            notes.append(f"Euclidean norms scaled by {unit:.3g} so the largest sits at distance {FIT_RADIUS:g}")
    else:
        lo, hi = float(depth.min()), float(depth.max())
        span = hi - lo
        radius = (PROXY_MIN + (FIT_RADIUS - PROXY_MIN) * (depth - lo) / span) if span > 0 else np.ones_like(depth)
        unit = None
        notes.append(f"radius = the specificity proxy min-max scaled to [{PROXY_MIN:g}, {FIT_RADIUS:g}]")
    return unit_disk.polar(radius, angle), unit, notes


def hyperboloid(points: np.ndarray, geometry: str, curvature: float) -> np.ndarray:
    """Hyperbolic points on the unit-curvature hyperboloid (time first), float64: (N, D) -> (N, d + 1).

    Used for the tangent maps: unlike unit-ball coordinates, which round onto the boundary
    beyond distance ~37, these stay finite and distinct up to distance ~700.
    """
    x = np.asarray(points, np.float64)
    if geometry == "poincare":
        x = get_geometry("lorentz", curvature).from_poincare(torch.as_tensor(x)).numpy()
    space = x[:, 1:] * math.sqrt(curvature)
    return np.concatenate([np.sqrt(1.0 + np.einsum("ij,ij->i", space, space))[:, None], space], axis=1)


def _boost(m: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The Lorentz boost taking the origin to m (unit hyperboloid): (d + 1,), (N, d + 1) -> (N, d + 1)."""
    m0, ms = m[0], m[1:]
    xs_dot = x[:, 1:] @ ms
    time = m0 * x[:, 0] + xs_dot
    space = x[:, 1:] + np.outer(x[:, 0] + xs_dot / (1.0 + m0), ms)
    return np.concatenate([time[:, None], space], axis=1)


def _unboost(m: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The inverse boost, taking m to the origin."""
    return _boost(np.concatenate([m[:1], -m[1:]]), x)


def _hyp_logmap0(x: np.ndarray) -> np.ndarray:
    """Tangent vector at the origin: asinh|x_s| x_s/|x_s|. (N, d + 1) -> (N, d)."""
    s = x[:, 1:]
    n = np.sqrt(np.einsum("ij,ij->i", s, s))
    return s * np.where(n > 0, np.arcsinh(n) / np.maximum(n, 1e-300), 1.0)[:, None]


def _hyp_expmap0(v: np.ndarray) -> np.ndarray:
    """(cosh|v|, sinh|v| v/|v|): (N, d) -> (N, d + 1)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    space = v * np.where(n > 0, np.sinh(n) / np.maximum(n, 1e-300), 1.0)
    return np.concatenate([np.cosh(n), space], axis=1)


def frechet_mean(hyp: np.ndarray, iters: int = 100, tol: float = 1e-9) -> np.ndarray:
    """Fréchet (Karcher) mean of unit-hyperboloid points: (N, d + 1) -> (d + 1,).

    Riemannian gradient steps m <- exp_m(h · mean_i log_m x_i), each computed at the origin
    after the boost taking m there (an isometry). The full step h = 1 overshoots when points
    are far apart (the Hessian of d²/2 reaches d coth d across the geodesic), so
    h = 1 / mean_i(d_i coth d_i), which bounds the Hessian and makes every step a descent step.
    """
    m = np.zeros(hyp.shape[1])
    m[0] = 1.0
    for _ in range(iters):
        logs = _hyp_logmap0(_unboost(m, hyp))
        d = np.linalg.norm(logs, axis=1)
        curv = np.where(d > 1e-8, d / np.tanh(np.maximum(d, 1e-8)), 1.0)  # d coth d -> 1 at d = 0
        g = logs.mean(axis=0) / curv.mean()
        m = _boost(m, _hyp_expmap0(g[None, :]))[0]
        if np.linalg.norm(g) < tol:
            break
    return m


def _tangent_pca(points, geometry, curvature, depth) -> tuple[np.ndarray, float | None, list[str]]:
    if geometry in HYPERBOLIC:
        hyp = hyperboloid(points, geometry, curvature)
        mean = frechet_mean(hyp)
        tangent = _hyp_logmap0(_unboost(mean, hyp))
        origin_tangent = _hyp_logmap0(_unboost(mean, _origin_on_hyperboloid(hyp.shape[1])))
        axes = _pca_axes(tangent, tangent.mean(axis=0)) if tangent.shape[1] > 2 else np.eye(2)
        disk = unit_disk.expmap0(tangent @ axes)
        # Put the original origin (projected the same way) at the centre of the picture.
        centre = unit_disk.expmap0(origin_tangent @ axes)[0]
        return unit_disk.recenter(disk, centre), math.sqrt(curvature), ["PCA of tangent vectors at the Fréchet mean"]
    x = _space(points, geometry)
    if geometry == "sphere":
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)
        xy = _pca2(x) if x.shape[1] > 2 else x - x.mean(0)
    else:  # plain PCA with the origin kept at the centre
        xy = x @ _pca_axes(x, x.mean(axis=0)) if x.shape[1] > 2 else x
    top = float(np.linalg.norm(xy, axis=1).max()) if len(xy) else 0.0
    unit = FIT_RADIUS / top if top > FIT_RADIUS or geometry == "sphere" else 1.0
    return unit_disk.expmap0(xy * unit), (unit if geometry == "euclidean" else None), []


def _centred(hyp: np.ndarray, fit_rows: int = PCA_FIT_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """Unit-hyperboloid points moved so that their Fréchet mean (of at most ``fit_rows``
    points: the mean of a sample is within its noise of the full mean) is the origin;
    returns (moved points, the mean)."""
    fit = hyp
    if len(hyp) > fit_rows:
        fit = hyp[np.sort(np.random.default_rng(0).choice(len(hyp), fit_rows, replace=False))]
    mean = frechet_mean(fit)
    return _unboost(mean, hyp), mean


def _origin_on_hyperboloid(dim: int) -> np.ndarray:
    origin = np.zeros((1, dim))
    origin[0, 0] = 1.0
    return origin


def _hyperbolic_only(method: str, geometry: str) -> None:
    if geometry not in HYPERBOLIC:
        raise MmvizError(f"{method} is made for hyperbolic embeddings (poincare or lorentz), not {geometry}: "
                         "use radial, tangent-pca or umap")


def _horopca(points, geometry, curvature, depth, *, seed, progress) -> tuple[np.ndarray, float | None, list[str]]:
    from mmviz.explorer import horopca

    _hyperbolic_only("horopca", geometry)
    hyp = hyperboloid(points, geometry, curvature)
    horopca.check_dimension(hyp.shape[1] - 1)
    centred, mean = _centred(hyp)
    origin = _unboost(mean, _origin_on_hyperboloid(hyp.shape[1]))  # the model's origin, moved with the data
    if hyp.shape[1] == 3:  # 2-D input: the geodesic plane is the whole disk
        disk = unit_disk.inside(centred[:, 1:] / (1.0 + centred[:, :1]))
        centre = origin[0, 1:] / (1.0 + origin[0, 0])
        notes = ["2-D input: HoroPCA's plane is the whole disk (shown as is)"]
    else:
        tangent = _hyp_logmap0(centred)
        init = _pca_axes(tangent, tangent.mean(axis=0)).T
        q, history = horopca.fit_directions(centred, init, seed=seed, progress=progress)
        disk = unit_disk.inside(horopca.to_disk(centred, q))
        centre = horopca.to_disk(origin, q)[0]
        notes = [f"HoroPCA: ideal directions fitted on {min(len(hyp), horopca.FIT_ROWS):,} points "
                 f"(projected variance {history[0]:.2f} at the tangent-PCA start → {history[-1]:.2f})"]
    return unit_disk.recenter(disk, centre), math.sqrt(curvature), notes


def _cosne(points, geometry, curvature, depth, *, seed, progress) -> tuple[np.ndarray, float | None, list[str]]:
    from mmviz.explorer import cosne

    _hyperbolic_only("co-sne", geometry)
    hyp = hyperboloid(points, geometry, curvature)
    start, _, _ = _radial(points, geometry, curvature, depth)
    disk, notes = cosne.cosne_disk(hyp, start, seed=seed, progress=progress)
    return disk, math.sqrt(curvature), notes


def _identity(points, geometry, curvature, depth) -> tuple[np.ndarray, float | None, list[str]]:
    d = points.shape[1] - (1 if geometry == "lorentz" else 0)
    if d != 2:
        raise MmvizError(f"identity needs 2-D points (3 coordinates for lorentz), got dimension {d}")
    if geometry in HYPERBOLIC:
        return unit_disk.inside(_unit_ball(points, geometry, curvature)), math.sqrt(curvature), []
    x = np.asarray(points, np.float64)
    if geometry == "sphere" or not (np.linalg.norm(x, axis=1) < 1.0).all():
        raise MmvizError("identity needs Poincaré/Lorentz points, or 2-D unit-disk coordinates (all |x| < 1)")
    return x, 1.0, ["Euclidean 2-D points read as unit-disk coordinates"]


def umap_disk(points: np.ndarray, geometry: str, curvature: float, *, n_neighbors: int = 15,
              seed: int = 0, n_epochs: int | None = None,
              progress: Callable[[str], None] | None = None) -> np.ndarray:
    """UMAP to the hyperboloid, as unit-disk points: (N, D) -> (N, 2).

    Input metric: umap's ``poincare`` on unit-ball coordinates (hyperbolic), ``cosine``
    (sphere), ``euclidean``. numba's compiled code is cached under MMVIZ_HOME/cache/numba.
    """

    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir("numba")))
    if progress:
        progress("importing umap (first use compiles numba code)…")
    import umap  # noqa: PLC0415 - heavy and optional: imported only when asked for

    if geometry in HYPERBOLIC:
        x, metric = _unit_ball(points, geometry, curvature), "poincare"
    else:
        x, metric = np.asarray(points, np.float64), "cosine" if geometry == "sphere" else "euclidean"
    if len(x) <= n_neighbors:
        raise MmvizError(f"umap needs more than n_neighbors = {n_neighbors} points, got {len(x)}")
    if progress:
        progress(f"running UMAP on {len(x):,} points…")
    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, metric=metric, output_metric="hyperboloid",
                        random_state=seed, n_epochs=n_epochs, n_jobs=1)
    with warnings.catch_warnings():
        # umap warns that inverse_transform is unavailable for the poincare metric: not used here.
        warnings.filterwarnings("ignore", message="gradient function is not yet implemented")
        xy = np.asarray(reducer.fit_transform(x.astype(np.float32)), np.float64)
    z = np.sqrt(1.0 + (xy * xy).sum(1))
    return unit_disk.inside(xy / (1.0 + z)[:, None])


def _umap(points, geometry, curvature, depth, **kw) -> tuple[np.ndarray, float | None, list[str]]:
    disk = umap_disk(points, geometry, curvature, **kw)
    # UMAP's layout has no origin: recentre on the Lorentz centroid of the most generic 1 %.
    generic = np.argsort(depth, kind="stable")[: max(1, len(depth) // 100)]
    centre = unit_disk.lorentz_centroid(disk[generic])
    return unit_disk.recenter(disk, centre), None, ["recentred on the centroid of the most generic 1 % of points"]


def project(points: np.ndarray, geometry: str, curvature: float = 1.0, method: str = "radial", *,
            specificity: str | None = None, raw_norm: np.ndarray | None = None, root: int | None = None,
            seed: int = 0, umap_neighbors: int = 15, umap_epochs: int | None = None,
            progress: Callable[[str], None] | None = None) -> Projection:
    """Project (N, D) points in ``geometry`` (curvature c) to the unit disk with ``method``.

    specificity/raw_norm/root: the sphere's depth proxy (see :func:`original_depth`).
    """
    if method not in METHODS:
        raise MmvizError(f"unknown projection method {method!r}; choose one of {', '.join(METHODS)}")
    points = np.asarray(points)
    if points.ndim != 2 or len(points) == 0:
        raise MmvizError(f"points must be a non-empty (N, D) array, got shape {points.shape}")
    if not np.isfinite(points).all():
        raise MmvizError("points contain NaN or infinite values")
    curvature = get_geometry(geometry, curvature).curvature or 1.0
    # One BLAS thread: the products here are thin ((N, d) x (d, 2), (n, d)^T (n, d)), and a
    # multi-threaded OpenBLAS on a busy 2-core machine made them 100x slower (1.2 s vs 0.01 s).
    with threadpool_limits(limits=1, user_api="blas"):
        return _project(points, geometry, curvature, method, specificity=specificity, raw_norm=raw_norm,
                        root=root, seed=seed, umap_neighbors=umap_neighbors, umap_epochs=umap_epochs,
                        progress=progress)


def _project(points, geometry, curvature, method, *, specificity, raw_norm, root, seed, umap_neighbors,
             umap_epochs, progress) -> Projection:
    start = time.perf_counter()
    depth, depth_name = original_depth(points, geometry, curvature, specificity=specificity,
                                       raw_norm=raw_norm, root=root)
    if method == "radial":
        disk, unit, notes = _radial(points, geometry, curvature, depth)
    elif method == "tangent-pca":
        disk, unit, notes = _tangent_pca(points, geometry, curvature, depth)
    elif method == "identity":
        disk, unit, notes = _identity(points, geometry, curvature, depth)
    elif method == "horopca":
        disk, unit, notes = _horopca(points, geometry, curvature, depth, seed=seed, progress=progress)
    elif method == "co-sne":
        disk, unit, notes = _cosne(points, geometry, curvature, depth, seed=seed, progress=progress)
    else:
        disk, unit, notes = _umap(points, geometry, curvature, depth, seed=seed, n_neighbors=umap_neighbors,
                                  n_epochs=umap_epochs, progress=progress)
    return Projection(disk=disk, method=method, geometry=geometry, curvature=curvature, depth=depth,
                      depth_name=depth_name, unit=unit, seconds=time.perf_counter() - start, notes=notes)


def project_set(es, method: str = "radial", **kw) -> Projection:
    """:func:`project` for an :class:`~mmviz.data.embeddings_io.EmbeddingSet` (its ``raw_norm``
    metadata column, if any, is the sphere's raw-norm proxy)."""
    raw = es.metadata["raw_norm"].to_numpy(np.float64) if "raw_norm" in es.metadata else None
    return project(es.points, es.geometry, es.curvature, method, raw_norm=raw, **kw)
