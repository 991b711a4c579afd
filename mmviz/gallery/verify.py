"""Re-evaluate every shipped reference run from its checkpoint and compare with what it stored:
the final held-out metrics and the exported embeddings must come back within float tolerance."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mmviz.data.embeddings_io import load_embeddings
from mmviz.gallery.package import HALF_PRECISION, ShippedRun
from mmviz.runs.files import EMBEDDINGS_FILE
from mmviz.runs.loop import trainer_for

METRIC_ATOL = 1e-4
METRIC_RTOL = 1e-4
POINT_ATOL = 1e-4
"""Re-evaluation runs the same float32 code on the same inputs; what differs between machines is
the order of reductions in BLAS/OpenMP kernels, a few ulps per op."""
HALF_RTOL = 2.0 ** -11
"""Points shipped in float16 (``run.json`` ``weights: float16``) were rounded to 11 bits of mantissa:
half an ulp is 2⁻¹¹ of the value, on top of :data:`POINT_ATOL`."""


@dataclass
class VerifyResult:
    """What re-evaluating one shipped run found."""

    name: str
    ok: bool
    seconds: float
    metrics_checked: int = 0
    max_point_diff: float = 0.0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "seconds": round(self.seconds, 2),
                "metrics_checked": self.metrics_checked, "max_point_diff": self.max_point_diff,
                "problems": self.problems}


TIMING_SUFFIX = "_seconds"
"""Metrics that time the evaluation itself (e.g. ``probe_seconds``): recorded, never compared."""


def compare_metrics(stored: dict[str, float], fresh: dict[str, float]) -> list[str]:
    """One line per stored final metric (timings aside) that the re-evaluation missed or changed."""
    problems = []
    for name, value in sorted(stored.items()):
        if name.endswith(TIMING_SUFFIX):
            continue
        if name not in fresh:
            problems.append(f"metric {name} is no longer computed")
            continue
        new = fresh[name]
        same_nan = isinstance(value, float) and math.isnan(value) and math.isnan(new)
        if not same_nan and not abs(new - value) <= METRIC_ATOL + METRIC_RTOL * abs(value):
            problems.append(f"metric {name}: stored {value:.6g}, re-evaluated {new:.6g}")
    return problems


def verify_run(shipped: ShippedRun, device: str = "cpu") -> VerifyResult:
    """Rebuild the model of ``shipped`` from its config and weights, re-evaluate, compare."""
    import time


    start = time.perf_counter()
    trainer_cls = trainer_for(shipped.config)
    fresh, embeddings = trainer_cls.evaluate_checkpoint(shipped.config, shipped.folder, device)
    problems = compare_metrics(shipped.meta.get("final", {}), fresh)
    stored = load_embeddings(shipped.folder / EMBEDDINGS_FILE)
    diff = float("inf")
    if stored.points.shape != embeddings.points.shape:
        problems.append(f"embeddings: stored shape {stored.points.shape}, re-exported {embeddings.points.shape}")
    else:
        diff = float(np.max(np.abs(stored.points - embeddings.points))) if len(stored) else 0.0
        rtol = HALF_RTOL if shipped.meta.get("weights") == HALF_PRECISION else 0.0
        outside = np.abs(stored.points - embeddings.points) > POINT_ATOL + rtol * np.abs(stored.points)
        if outside.any():
            problems.append(f"embeddings differ by up to {diff:.3g} (tolerance {POINT_ATOL}"
                            + (f" + {rtol:.2g} × |x|, float16 points)" if rtol else ")"))
    if stored.geometry != embeddings.geometry or not math.isclose(stored.curvature, embeddings.curvature,
                                                                   rel_tol=1e-5):
        problems.append(f"geometry: stored {stored.geometry} c={stored.curvature:.6g}, "
                        f"re-exported {embeddings.geometry} c={embeddings.curvature:.6g}")
    return VerifyResult(shipped.name, not problems, time.perf_counter() - start,
                        len(shipped.meta.get("final", {})), diff, problems)
