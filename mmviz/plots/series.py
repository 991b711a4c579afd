"""Metric curves for display: which chart a metric belongs to, EMA smoothing, and min/max
downsampling that keeps every spike. Pure numpy/pandas; the figures are in mmviz.plots.curves.

A run logs metrics by name (``train/loss``, ``eval/r1_image_to_text``, ``temperature``...);
:func:`group_of` sorts each name into one small chart (:data:`GROUPS`), and
:func:`prepare_series` turns one metric's rows into what a chart draws: the raw values
(faint) and the smoothed ones, each with at most ``max_points`` points.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from scipy.signal import lfilter

XKind = Literal["step", "time"]
MAX_POINTS = 2000
"""Points per drawn line: a browser redraws a few dozen such lines every second without effort."""


@dataclass(frozen=True)
class MetricGroup:
    """One chart: the metrics whose name matches ``pattern``. ``primary`` charts are shown
    first; the others (optimiser and speed) sit in a collapsed section."""

    key: str
    title: str
    y_title: str
    pattern: str
    primary: bool = True


GROUPS: tuple[MetricGroup, ...] = (
    MetricGroup("loss", "Loss", "loss", r"(train|eval)/loss"),
    MetricGroup("retrieval", "Retrieval (held-out)", "recall@k", r"eval/r\d+_.+"),
    MetricGroup("zeroshot", "Zero-shot accuracy (held-out)", "accuracy", r"eval/zeroshot_.+"),
    MetricGroup("unlearning", "Unlearning: forget and retain accuracy (held-out)", "zero-shot accuracy",
                r"eval/(forget_acc|retain_acc|retain_(shape|color|texture))"),
    MetricGroup("temperature", "Temperature τ", "τ", r"temperature"),
    MetricGroup("curvature", "Curvature and feature scales", "c, α", r"curvature|alpha_\d+"),
    MetricGroup("depth", "Distance from the origin, by caption level", "distance (CLIP: norm)",
                r"eval/(dist0|rawnorm)_level\d+"),
    MetricGroup("modality_depth", "Distance from the origin, by modality", "distance (CLIP: norm)",
                r"eval/(dist0|rawnorm)_(?!chain$|spearman).+"),
    MetricGroup("hierarchy", "Depth follows caption level", "fraction, Spearman ρ",
                r"eval/(dist0|rawnorm)_(chain|spearman.*)"),
    MetricGroup("sphere", "Alignment, uniformity, modality gap", "value",
                r"eval/(alignment|uniformity_.+|modality_gap)"),
    MetricGroup("terms", "Loss terms", "loss", r"train/(?!lr$|grad_norm$).+|eval/(contrastive|entailment|\w+_loss)",
                primary=False),
    MetricGroup("lr", "Learning rate", "learning rate", r"train/lr", primary=False),
    MetricGroup("grad", "Gradient norm (before clipping)", "‖gradient‖", r"train/grad_norm", primary=False),
    MetricGroup("speed", "Training speed", "steps/s", r"steps_per_s", primary=False),
    MetricGroup("samples", "Throughput", "samples/s", r"samples_per_s", primary=False),
    MetricGroup("scale", "Logit scale 1/τ", "1/τ", r"logit_scale", primary=False),
    MetricGroup("other", "Other metrics", "value", r".+", primary=False),
)
_COMPILED = tuple((group, re.compile(group.pattern)) for group in GROUPS)


@lru_cache(maxsize=4096)
def group_of(name: str) -> MetricGroup:
    """The chart metric ``name`` is drawn in (the first group whose pattern matches all of it)."""
    for group, pattern in _COMPILED:
        if pattern.fullmatch(name):
            return group
    return GROUPS[-1]


def is_smoothed(name: str) -> bool:
    """Whether a metric is smoothed: per-step training metrics are; held-out evaluations
    (``eval/...``, a few points each) are drawn as they are."""
    return not name.startswith("eval/")


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """Exponential moving average with TensorBoard's debiasing: (N,) → (N,).

    ``s_t = Σ_i w^i x_{t-i} / Σ_i w^i`` over the values so far, so the first points are not
    pulled towards zero. ``weight`` w in [0, 1): 0 returns the values unchanged. NaN values are
    skipped (they stay NaN in the output and do not enter later averages).
    """
    y = np.asarray(values, dtype=np.float64)
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    if weight == 0.0 or len(y) == 0:
        return y.copy()
    nan = np.isnan(y)
    if nan.any():
        # pandas' adjust=True weighting is exactly the debiased average above, NaN-aware.
        out = pd.Series(y).ewm(alpha=1.0 - weight, adjust=True, ignore_na=True).mean().to_numpy(copy=True)
        out[nan] = np.nan
        return out
    # The same without NaN, ~50x faster (it runs every second on live curves): the recursion
    # b_t = w b_{t-1} + (1 - w) x_t from b_{-1} = 0 is biased towards 0 by the missing weight
    # w^(t+1), which the division puts back.
    biased = lfilter([1.0 - weight], [1.0, -weight], y)
    return biased / -np.expm1(np.arange(1, len(y) + 1) * np.log(weight))


def minmax_indices(values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices (sorted, int64) of at most ``max_points`` of ``values`` (N,) that keep its shape:
    the first, the last, and the minimum and maximum of each of ``(max_points - 2) // 2``
    equal buckets — so a spike is never dropped, however long the run. NaN is kept only in a
    bucket that holds nothing else."""
    y = np.asarray(values, dtype=np.float64)
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    if max_points < 4:
        raise ValueError(f"max_points must be at least 4, got {max_points}")
    buckets = (max_points - 2) // 2
    size = -(-n // buckets)  # ceil: every value falls in a bucket
    blocks = np.full(buckets * size, np.nan)
    blocks[:n] = y
    blocks = blocks.reshape(buckets, size)
    nan = np.isnan(blocks)
    lows = np.where(nan, np.inf, blocks).argmin(axis=1)
    highs = np.where(nan, -np.inf, blocks).argmax(axis=1)
    starts = np.arange(buckets)[:, None] * size
    index = (starts + np.sort(np.stack((lows, highs), axis=1), axis=1)).ravel()  # ascending already
    index = index[index < n]  # buckets past the end are padding only
    keep = np.ones(len(index), dtype=bool)
    keep[1:] = index[1:] != index[:-1]  # a bucket whose minimum is its maximum
    index = index[keep]
    head = [0] if index[0] != 0 else []
    tail = [n - 1] if index[-1] != n - 1 else []
    return np.concatenate((head, index, tail)).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Series:
    """One metric of one run, ready to draw. x, raw: (N,) float64 after downsampling;
    smooth: (M,) values with their own x ``smooth_x``, or None when not smoothed.
    Compared (and hashed) by identity: a prepared series is reused while its metric is unchanged."""

    metric: str
    x: np.ndarray
    raw: np.ndarray
    smooth_x: np.ndarray | None
    smooth: np.ndarray | None
    n_points: int
    """Points logged (before downsampling)."""


def prepare_series(metric: str, steps: np.ndarray, values: np.ndarray, times: np.ndarray, *,
                   smoothing: float, x_kind: XKind = "step", t0: float = 0.0,
                   max_points: int = MAX_POINTS) -> Series:
    """One metric's rows → a :class:`Series`. steps, values, times: (N,) in step order.

    x is the step, or with ``x_kind="time"`` seconds since ``t0``. Smoothing (EMA weight) is
    applied to the full series before downsampling, for metrics :func:`is_smoothed` allows.
    """
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=np.float64)
    x_all = steps.astype(np.float64) if x_kind == "step" else np.asarray(times, dtype=np.float64) - t0
    keep = minmax_indices(values, max_points)
    smooth_x = smooth = None
    if smoothing > 0 and is_smoothed(metric):
        smoothed = ema(values, smoothing)
        keep_s = minmax_indices(smoothed, max_points)
        smooth_x, smooth = x_all[keep_s], smoothed[keep_s]
    return Series(metric, x_all[keep], values[keep], smooth_x, smooth, len(values))


@dataclass(frozen=True)
class Progress:
    """Where a run is: ``fraction`` of its steps done, ``steps_per_s`` and ``eta_s`` (None
    when unknown)."""

    step: int
    total: int | None
    fraction: float
    steps_per_s: float | None
    eta_s: float | None


def progress(step: int, total: int | None, steps_per_s: float | None) -> Progress:
    """The progress of a run at ``step`` of ``total`` training at ``steps_per_s``."""
    rate = steps_per_s if steps_per_s is not None and math.isfinite(steps_per_s) and steps_per_s > 0 else None
    if not total:
        return Progress(step, total, 0.0, rate, None)
    left = max(total - step, 0)
    eta = left / rate if rate else None
    return Progress(step, total, min(max(step / total, 0.0), 1.0), rate, eta)


def format_duration(seconds: float | None) -> str:
    """``75`` → ``"1:15"``, ``3725`` → ``"1:02:05"``; None or NaN → ``"–"``."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    total = int(round(max(seconds, 0.0)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_LABELS = (
    (re.compile(r"eval/r(\d+)_(\w+?)_to_(\w+)"), lambda m: f"R@{m[1]} {m[2]}→{m[3]}"),
    (re.compile(r"eval/zeroshot_(\w+)"), lambda m: m[1]),
    (re.compile(r"eval/forget_acc"), lambda m: "forget: the concept's images"),
    (re.compile(r"eval/retain_acc"), lambda m: "retain: the other images (mean)"),
    (re.compile(r"eval/retain_(\w+)"), lambda m: f"retain: {m[1]}"),
    (re.compile(r"eval/(?:dist0|rawnorm)_level(\d+)"), lambda m: f"level-{m[1]} captions"),
    (re.compile(r"eval/(?:dist0|rawnorm)_(chain|spearman\w*)"), lambda m: m[1].replace("_", " ")),
    (re.compile(r"eval/(?:dist0|rawnorm)_(\w+)"), lambda m: f"all {m[1]}"),
    (re.compile(r"eval/(\w+)"), lambda m: f"{m[1].replace('_', ' ')} (held-out)"),
    (re.compile(r"train/(\w+)"), lambda m: f"{m[1].replace('_', ' ')} (train)"),
)


@lru_cache(maxsize=4096)
def metric_label(name: str) -> str:
    """A short readable name for a legend: ``eval/r1_image_to_text`` → ``R@1 image→text``,
    ``train/loss`` → ``loss (train)``, ``eval/dist0_level2`` → ``level-2 captions``."""
    for pattern, label in _LABELS:
        match = pattern.fullmatch(name)
        if match:
            return label(match)
    return name.replace("_", " ")
