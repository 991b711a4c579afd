"""Metric curves: grouping, EMA smoothing, min/max downsampling, progress, and the figures."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from mmviz.plots.curves import (
    LEGEND_GREY,
    MODEL_COLORS,
    RUN_PALETTE,
    RunCurve,
    curves_figure,
    curves_shape,
    refresh_curves_figure,
    run_colors,
)
from mmviz.plots.series import (
    GROUPS,
    MAX_POINTS,
    ema,
    format_duration,
    group_of,
    metric_label,
    minmax_indices,
    prepare_series,
    progress,
)


@pytest.mark.parametrize("name, group", [
    ("train/loss", "loss"), ("train/contrastive", "terms"), ("train/entailment", "terms"), ("eval/loss", "loss"),
    ("eval/contrastive", "terms"), ("eval/r1_image_to_text", "retrieval"), ("eval/r5_u_to_v", "retrieval"),
    ("eval/zeroshot_color", "zeroshot"), ("temperature", "temperature"), ("curvature", "curvature"),
    ("alpha_0", "curvature"), ("eval/dist0_level1", "depth"), ("eval/rawnorm_level3", "depth"),
    ("eval/dist0_image", "modality_depth"), ("eval/rawnorm_u", "modality_depth"), ("eval/dist0_chain", "hierarchy"),
    ("eval/rawnorm_spearman_bal", "hierarchy"),
    ("eval/dist0_spearman_all_ceiling", "hierarchy"), ("eval/alignment", "sphere"),
    ("eval/uniformity_text", "sphere"), ("eval/modality_gap", "sphere"), ("train/lr", "lr"),
    ("train/grad_norm", "grad"), ("steps_per_s", "speed"), ("samples_per_s", "samples"),
    ("logit_scale", "scale"), ("something_new", "other"), ("eval/forget_acc", "unlearning"),
    ("eval/retain_acc", "unlearning"), ("eval/retain_color", "unlearning"), ("train/forget_nll", "terms"),
])
def test_every_logged_metric_has_its_chart(name, group):
    assert group_of(name).key == group


def test_groups_have_distinct_keys_and_other_comes_last():
    keys = [g.key for g in GROUPS]
    assert len(keys) == len(set(keys)) and keys[-1] == "other"
    assert [g.key for g in GROUPS if g.primary][:3] == ["loss", "retrieval", "zeroshot"]


@pytest.mark.parametrize("name, label", [
    ("eval/r1_image_to_text", "R@1 image→text"), ("eval/r5_v_to_u", "R@5 v→u"), ("eval/zeroshot_shape", "shape"),
    ("eval/dist0_level2", "level-2 captions"), ("eval/dist0_text", "all text"), ("train/loss", "loss (train)"),
    ("eval/modality_gap", "modality gap (held-out)"), ("temperature", "temperature"),
    ("eval/forget_acc", "forget: the concept's images"), ("eval/retain_texture", "retain: texture"),
])
def test_metric_labels(name, label):
    assert metric_label(name) == label


@pytest.mark.parametrize("weight, values, expected", [
    (0.0, [3.0, 1.0, 2.0], [3.0, 1.0, 2.0]),
    (0.5, [0.0, 1.0], [0.0, 2.0 / 3.0]),  # (1 + 0.5·0) / (1 + 0.5): debiased, not pulled to 0
    (0.5, [0.0, 1.0, 1.0], [0.0, 2.0 / 3.0, 6.0 / 7.0]),  # (1 + 0.5 + 0) / (1 + 0.5 + 0.25)
    (0.9, [5.0] * 4, [5.0] * 4),  # a constant stays constant
])
def test_ema_is_the_debiased_average(weight, values, expected):
    np.testing.assert_allclose(ema(np.array(values), weight), expected, rtol=1e-12)


def test_ema_skips_nan_and_keeps_it():
    out = ema(np.array([1.0, np.nan, 3.0]), 0.5)
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [1.0, (3.0 + 0.5 * 1.0) / 1.5])


@pytest.mark.parametrize("weight", [-0.1, 1.0])
def test_ema_rejects_weights_outside_unit_interval(weight):
    with pytest.raises(ValueError):
        ema(np.ones(3), weight)


@pytest.mark.parametrize("n, max_points", [(10, 2000), (2000, 2000), (2001, 2000), (20_000, 2000), (20_000, 101),
                                           (12_345, 1000)])
def test_minmax_keeps_first_last_and_every_bucket_extreme(n, max_points):
    rng = np.random.default_rng(n)
    y = rng.normal(size=n)
    spike = n // 3
    y[spike] = 50.0  # one spike and one dip must both survive
    y[n - n // 4] = -50.0
    idx = minmax_indices(y, max_points)
    assert len(idx) <= max_points
    assert idx[0] == 0 and idx[-1] == n - 1 and np.all(np.diff(idx) > 0)
    assert spike in idx and (n - n // 4) in idx
    if n <= max_points:
        assert len(idx) == n
    else:  # each bucket's min and max are among the kept points
        buckets = (max_points - 2) // 2
        size = -(-n // buckets)
        for b in (0, buckets // 2, (n - 1) // size):
            block = y[b * size:(b + 1) * size]
            assert b * size + int(np.argmin(block)) in idx and b * size + int(np.argmax(block)) in idx


def test_minmax_of_an_all_nan_tail_keeps_valid_indices():
    y = np.concatenate([np.arange(5000.0), np.full(3000, np.nan)])
    idx = minmax_indices(y, 500)
    assert len(idx) <= 500 and idx.max() == len(y) - 1 and 4999 in idx


def test_prepare_series_smooths_training_metrics_only():
    steps = np.arange(1, 5001)
    values = np.where(steps % 2, 1.0, 3.0)
    times = 100.0 + 0.5 * steps
    s = prepare_series("train/loss", steps, values, times, smoothing=0.9, x_kind="time", t0=100.0)
    assert s.n_points == 5000 and len(s.x) <= MAX_POINTS and s.smooth is not None
    assert s.x[0] == 0.5 and s.x[-1] == 2500.0  # seconds since t0
    assert abs(s.smooth[-1] - 2.0) < 0.2 and set(np.unique(s.raw)) == {1.0, 3.0}
    e = prepare_series("eval/r1_a_to_b", steps[:20], values[:20], times[:20], smoothing=0.9)
    assert e.smooth is None and list(e.x) == list(range(1, 21))


@pytest.mark.parametrize("step, total, rate, fraction, eta", [
    (50, 200, 10.0, 0.25, 15.0), (200, 200, 10.0, 1.0, 0.0), (10, 200, None, 0.05, None),
    (10, None, 5.0, 0.0, None), (10, 100, float("nan"), 0.1, None),
])
def test_progress(step, total, rate, fraction, eta):
    p = progress(step, total, rate)
    assert p.fraction == pytest.approx(fraction) and p.eta_s == (None if eta is None else pytest.approx(eta))


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (75, "1:15"), (3725, "1:02:05"), (None, "–"),
                                           (float("nan"), "–")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def _curve(run_id, metric, n=300, smoothing=0.6):
    steps = np.arange(1, n + 1)
    return RunCurve(run_id, run_id.upper(), prepare_series(metric, steps, 1.0 / steps, steps * 0.1,
                                                           smoothing=smoothing))


def test_run_colors_follow_models_when_each_model_is_once():
    runs = [{"id": "a", "model": "clip"}, {"id": "b", "model": "meru"}]
    assert run_colors(runs) == {"a": MODEL_COLORS["clip"], "b": MODEL_COLORS["meru"]}
    same = [{"id": "a", "model": "clip"}, {"id": "b", "model": "clip"}]
    assert run_colors(same) == {"a": RUN_PALETTE[0], "b": RUN_PALETTE[1]}


def test_one_run_figure_has_a_coloured_line_per_metric_over_its_faint_raw_values():
    group = group_of("train/loss")
    fig = curves_figure(group, [_curve("a", "train/loss"), _curve("a", "eval/loss", n=12)],
                        colors={"a": "#000000"}, log_y=True)
    go.Figure(fig.to_dict())  # built without validation: must still be a valid figure
    raw, smooth, held_out = fig.data
    assert (raw.opacity, raw.showlegend, raw.hoverinfo) == (0.25, False, "skip")
    assert smooth.name == "loss (train)" and smooth.line.color == raw.line.color != held_out.line.color
    assert held_out.mode == "lines+markers" and held_out.name == "loss (held-out)"
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis.type == "linear"
    assert fig.layout.xaxis.title.text == "step" and fig.layout.yaxis.title.text == "loss"
    assert fig.layout.title.text == "Loss"


def test_several_runs_are_coloured_by_run_and_dashed_by_metric_with_one_grey_legend_entry_per_metric():
    group = group_of("eval/r1_image_to_text")
    curves = [_curve(r, m, n=20, smoothing=0.0) for r in ("a", "b") for m in ("eval/r1_x_to_y", "eval/r1_y_to_x")]
    fig = curves_figure(group, curves, colors={"a": "#111111", "b": "#222222"}, x_kind="time", log_x=True)
    go.Figure(fig.to_dict())
    legend = [t for t in fig.data if t.showlegend is not False]
    assert [(t.name, t.line.dash, t.legendgroup) for t in legend] == [
        ("R@1 x→y", "solid", "R@1 x→y"), ("R@1 y→x", "dash", "R@1 y→x")]
    assert {t.line.color for t in legend} == {LEGEND_GREY} and all(t.mode == "lines+markers" for t in legend)
    lines = [t for t in fig.data if t.showlegend is False]
    assert [t.name for t in lines] == ["A · R@1 x→y", "A · R@1 y→x", "B · R@1 x→y", "B · R@1 y→x"]
    assert [t.line.color for t in lines] == ["#111111", "#111111", "#222222", "#222222"]
    assert [t.line.dash for t in lines] == ["solid", "dash", "solid", "dash"]
    assert [t.legendgroup for t in lines] == ["R@1 x→y", "R@1 y→x"] * 2  # a click hides both runs'
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.title.text.startswith("time")


def test_compared_runs_share_legend_entries_by_label_and_training_metrics_come_first():
    group = group_of("eval/dist0_level1")
    curves = [_curve("clip", "eval/rawnorm_level1", n=10, smoothing=0.0),
              _curve("meru", "eval/dist0_level1", n=10, smoothing=0.0)]
    fig = curves_figure(group, curves, colors={"clip": "#ea580c", "meru": "#4338ca"})
    assert [t.name for t in fig.data if t.showlegend is not False] == ["level-1 captions"]
    one_run = curves_figure(group, curves[:1], colors={"clip": "#ea580c", "meru": "#4338ca"}, compare=True)
    assert one_run.data[-1].line.color == "#ea580c"  # compared: the run's colour, even alone in a chart
    loss = curves_figure(group_of("train/loss"), [_curve("a", "eval/loss", n=10), _curve("a", "train/loss")],
                         colors={})
    assert [t.name for t in loss.data if t.showlegend is not False] == ["loss (train)", "loss (held-out)"]
    compared = curves_figure(group_of("train/loss"), [_curve("a", "train/loss", n=40), _curve("b", "train/loss", n=40)],
                             colors={"a": "#111111", "b": "#222222"})
    assert compared.data[0].mode == "lines"  # smoothed: no markers, in the legend either


@pytest.mark.parametrize("weight", [0.3, 0.9, 0.99])
def test_ema_fast_path_matches_the_nan_aware_one(weight):
    y = np.random.default_rng(1).normal(size=500)
    with_nan = np.append(y, np.nan)  # the NaN-aware path (pandas), same values before the NaN
    np.testing.assert_allclose(ema(y, weight), ema(with_nan, weight)[:-1], rtol=1e-10)


@pytest.mark.parametrize("smoothing", [0.0, 0.6])
def test_a_refreshed_figure_is_the_figure_built_from_the_new_values(smoothing):
    group, colors = group_of("train/loss"), {"a": "#111111", "b": "#222222"}

    def curves(n):
        return [_curve(r, m, n=n, smoothing=smoothing) for r in ("a", "b") for m in ("eval/loss", "train/loss")]

    old, new = curves(300), curves(420)
    assert curves_shape(old) == curves_shape(new) != curves_shape(new[:2])
    fig = curves_figure(group, old, colors=colors)
    refresh_curves_figure(fig, new)
    assert fig.to_dict() == curves_figure(group, new, colors=colors).to_dict()
