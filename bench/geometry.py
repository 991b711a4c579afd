"""Benchmark mmviz.geometry.pairwise_dist: speed against torch.cdist, and float32 accuracy.

Prints one JSON object. For each geometry: the median time of `pairwise_dist` on
4096 x 4096 points with D = 64 (float32), the same for `torch.cdist` on the same tensors and
the ratio, and the largest relative error of the float32 result against the same function
evaluated on the same points in float64, on a 1024 x 1024 sample that includes near-duplicate
pairs and (for the hyperbolic models) points out to distance 14 from the origin, where the
Poincaré norm is 1 - 1.7e-6. For context the same error is reported for the obvious
alternative: torch.cdist (Euclidean) or geoopt's own float32 dist (hyperbolic).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", category=DeprecationWarning)  # geoopt's torch.jit.script

import geoopt  # noqa: E402

from mmviz.geometry import get_geometry  # noqa: E402

N, DIM, SAMPLE, REPEATS = 4096, 64, 1024, 3
MAX_RADIUS = 14.0  # hyperbolic distance from the origin, times sqrt(c)


def _points(geometry, n: int, gen: torch.Generator) -> torch.Tensor:
    """n float32 points; hyperbolic radii uniform in [0, MAX_RADIUS], a tenth of the
    points next to another point (relative offset 1e-5) to exercise near pairs."""
    direction = torch.nn.functional.normalize(torch.randn(n, DIM, generator=gen, dtype=torch.float64), dim=-1)
    if geometry.name in ("poincare", "lorentz"):
        largest = MAX_RADIUS / math.sqrt(geometry.curvature)
    else:
        largest = 3.0
    radius = torch.rand(n, 1, generator=gen, dtype=torch.float64) * largest
    tangent = direction * radius
    tangent[1::10] = tangent[::10][: len(tangent[1::10])] * (1 + 1e-5)
    return geometry.expmap0(tangent).float()


def _median_seconds(fn) -> float:
    fn()  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _max_rel_err(approx: torch.Tensor, exact: torch.Tensor) -> float | str:
    """Largest relative error over pairs at nonzero distance ("non-finite: N" if any NaN/Inf)."""
    mask = exact > 0
    rel = (approx.double() - exact).abs()[mask] / exact[mask]
    bad = int((~torch.isfinite(rel)).sum())
    return f"non-finite: {bad}" if bad else float(rel.max())


def _baseline_error(
    geometry, x: torch.Tensor, y: torch.Tensor, exact: torch.Tensor
) -> tuple[str, float | str]:
    """Error of the usual float32 alternative on the same pairs."""
    if geometry.name == "poincare":
        ball = geoopt.PoincareBall(c=geometry.curvature)
        return "geoopt_float32", _max_rel_err(ball.dist(x[:, None], y[None]), exact)
    if geometry.name == "lorentz":
        hyperboloid = geoopt.Lorentz(k=1.0 / geometry.curvature)
        return "geoopt_float32", _max_rel_err(hyperboloid.dist(x[:, None], y[None]), exact)
    if geometry.name == "euclidean":
        return "torch_cdist_float32", _max_rel_err(torch.cdist(x, y), exact)
    cosine = torch.nn.functional.normalize(x, dim=-1) @ torch.nn.functional.normalize(y, dim=-1).T
    angle = torch.arccos(cosine.clamp(-1, 1)) / math.sqrt(geometry.curvature)
    return "arccos_float32", _max_rel_err(angle, exact)


def bench_geometry(name: str, curvature: float) -> dict:
    geometry = get_geometry(name, curvature)
    gen = torch.Generator().manual_seed(0)
    X, Y = _points(geometry, N, gen), _points(geometry, N, gen)
    Y[: N // 10] = X[: N // 10] * (1 + 1e-5)  # near pairs on the diagonal
    with torch.no_grad():
        seconds = _median_seconds(lambda: geometry.pairwise_dist(X, Y))
        cdist_seconds = _median_seconds(lambda: torch.cdist(X, Y))
        x, y = X[:SAMPLE], Y[:SAMPLE]
        if name == "lorentz":  # a float64 point on the hyperboloid, same space part
            exact = geometry.pairwise_dist(geometry.project(x.double()), geometry.project(y.double()))
        else:
            exact = geometry.pairwise_dist(x.double(), y.double())
        error = _max_rel_err(geometry.pairwise_dist(x, y), exact)
        baseline_name, baseline_error = _baseline_error(geometry, x, y, exact)
    return {
        "seconds": round(seconds, 4),
        "cdist_seconds": round(cdist_seconds, 4),
        "ratio_to_cdist": round(seconds / cdist_seconds, 2),
        "float32_max_rel_err": error,
        f"{baseline_name}_max_rel_err": baseline_error,
    }


def main() -> None:
    started = time.perf_counter()
    results = {
        "shape": [N, N, DIM],
        "torch_threads": torch.get_num_threads(),
        "loadavg_before": [round(v, 2) for v in os.getloadavg()],
    }
    for name, curvature in [("euclidean", 1.0), ("sphere", 1.0), ("poincare", 1.0), ("lorentz", 1.0)]:
        results[name] = bench_geometry(name, curvature)
    results["loadavg_after"] = [round(v, 2) for v in os.getloadavg()]
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
