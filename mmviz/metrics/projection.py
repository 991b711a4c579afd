"""How good a 2-D disk picture of embeddings is: radius Spearman, trustworthiness, distortion.

Takes a projection (anything with ``disk`` (N, 2) unit-disk points, ``depth`` (N,), ``radius``
(N,), ``geometry``, ``curvature`` and ``unit``: :class:`mmviz.explorer.projections.Projection`)
and the original points.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from scipy.stats import spearmanr
from threadpoolctl import threadpool_limits

from mmviz.errors import MmvizError
from mmviz.geometry import disk as unit_disk
from mmviz.geometry import get_geometry


def trustworthiness_from_distances(d_high: np.ndarray, d_low: np.ndarray, k: int = 10) -> float:
    """Trustworthiness (Venna & Kaski; scikit-learn's definition) from two (n, n) distance matrices.

    1 - 2/(n k (2n - 3k - 1)) Σ_i Σ_{j ∈ kNN_low(i)} max(0, rank_high(i, j) - k). Written out
    because scikit-learn measures the embedded space with Euclidean distance only, and the
    disk needs the hyperbolic one; the test checks it against scikit-learn's.
    """
    n = d_high.shape[0]
    if not 1 <= k < n / 2:
        raise MmvizError(f"trustworthiness needs 1 <= k < n/2, got k = {k}, n = {n}")
    high, low = d_high.astype(np.float64).copy(), d_low.astype(np.float64).copy()
    np.fill_diagonal(high, np.inf)
    np.fill_diagonal(low, np.inf)
    order = np.argsort(high, axis=1, kind="stable")
    ranks = np.empty((n, n), dtype=np.int64)
    ranks[np.arange(n)[:, None], order] = np.arange(1, n + 1)[None, :]
    nn_low = np.argsort(low, axis=1, kind="stable")[:, :k]
    excess = ranks[np.arange(n)[:, None], nn_low] - k
    t = float(np.clip(excess, 0, None).sum())
    return 1.0 - t * 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))


def quality(points: np.ndarray, proj, *, k: int = 10, sample: int = 2000, seed: int = 0) -> dict:
    """Quality read-outs of a projection of ``points`` (N, D).

    radius_spearman: Spearman(original depth, display distance from the centre), all points.
    trustworthiness: at k on a sample of ``sample`` points, original vs display distances.
    distortion: mean |s d_disk / d_orig - 1| over the sample's pairs, with s = 1/unit (hyperbolic:
    the disk is in the original units) or, without units, the median ratio d_orig / d_disk.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _quality(points, proj, k=k, sample=sample, seed=seed)


def _quality(points: np.ndarray, proj, *, k: int, sample: int, seed: int) -> dict:
    start = time.perf_counter()
    n = len(points)
    radius = proj.radius
    if n > 1 and np.ptp(proj.depth) > 0 and np.ptp(radius) > 0:
        rho = float(spearmanr(proj.depth, radius).statistic)
    else:
        rho = float("nan")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    geo = get_geometry(proj.geometry, proj.curvature)
    d_high = geo.pairwise_dist(torch.as_tensor(np.asarray(points, np.float64)[idx])).numpy()
    d_low = unit_disk.pairwise_dist(proj.disk[idx])
    m = len(idx)
    trust = trustworthiness_from_distances(d_high, d_low, k) if m > 2 * k + 1 else float("nan")
    iu = np.triu_indices(m, 1)
    hi, lo = d_high[iu], d_low[iu]
    keep = hi > 1e-12  # duplicates have no relative distortion
    hi, lo = hi[keep], lo[keep]
    if proj.unit:
        scale = 1.0 / proj.unit
    else:
        ratio = hi[lo > 0] / lo[lo > 0]
        scale = float(np.median(ratio)) if len(ratio) else 1.0
    distortion = float(np.mean(np.abs(scale * lo / hi - 1.0))) if len(hi) else float("nan")
    return {"radius_spearman": rho, "trustworthiness": trust, "k": k, "distortion": distortion,
            "sample": m, "n": n, "seconds": time.perf_counter() - start}
