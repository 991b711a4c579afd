"""Figures of the Similarity page: colour bars, hover names, positives outlined, loss bars,
and large matrices drawn compactly as block means."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from mmviz.plots import similarity as ps


def test_pool_matrix_means_blocks_including_ragged_edges():
    z = np.arange(25, dtype=float).reshape(5, 5)
    pooled = ps.pool_matrix(z, 2)
    assert pooled.shape == (3, 3)
    assert pooled[0, 0] == pytest.approx(np.mean([0, 1, 5, 6]))
    assert pooled[2, 2] == 24.0  # the last block holds one cell
    assert pooled[0, 2] == pytest.approx(np.mean([4, 9]))
    np.testing.assert_array_equal(ps.pool_matrix(z, 1), z)
    np.testing.assert_allclose(ps.pool_vector(np.arange(5.0), 2), [0.5, 2.5, 4.0])


@pytest.mark.parametrize(("n", "f"), [(8, 1), (128, 1), (129, 2), (256, 2), (512, 4), (1024, 8)])
def test_pool_factor_keeps_at_most_128_cells_a_side(n, f):
    assert ps.pool_factor(n) == f


def _labels(n, noun):
    return [f"{noun} {i}" for i in range(n)]


def test_small_matrix_figure_names_every_cell_and_outlines_the_diagonal():
    z = np.eye(4) * 0.5
    fig = ps.matrix_figure(z, _labels(4, "image"), _labels(4, "text"), title="t", value_name="cosine",
                           row_bars=np.arange(4.0))
    heat, diag, bars = fig.data
    assert heat.type == "heatmap" and heat.colorbar.title.text == "cosine"
    assert list(heat.y) == _labels(4, "image") and "%{y}" in heat.hovertemplate
    assert list(diag.x) == _labels(4, "text") and diag.marker.symbol == "square-open"
    assert bars.type == "bar" and list(bars.y) == _labels(4, "image")
    np.testing.assert_array_equal(np.asarray(heat.z), z.astype(np.float32))


def test_b1024_is_sent_as_a_compact_float32_array():
    rng = np.random.default_rng(0)
    z = rng.random((1024, 1024))
    fig = ps.matrix_figure(z, _labels(1024, "image"), _labels(1024, "text"), title="t", value_name="p",
                           row_bars=rng.random(1024))
    spec = json.loads(pio.to_json(fig, validate=False))
    heat = spec["data"][0]
    assert heat["z"]["dtype"] == "f4" and heat["z"]["shape"] in ("128, 128", "128,128", [128, 128])
    assert len(heat["y"]) == 128 and heat["y"][1].startswith("rows 8–15")
    np.testing.assert_allclose(np.asarray(fig.data[0].z)[0, 0], z[:8, :8].mean(), rtol=1e-6)
    assert "8 × 8 blocks" in fig.layout.title.text
    assert len(pio.to_json(fig, validate=False)) < 200_000


def test_batch_size_confusion_shift_and_curves_figures_have_titles_and_hover():
    table = pd.DataFrame({"B": [8, 16], "negatives": [14, 30], "loss": [1.0, 1.5], "loss_sd": [0.1, 0.1],
                          "chance": np.log([8, 16]), "mi_bound": [1.0, 1.2], "positive_weight": [0.4, 0.5],
                          "hardest_share": [0.3, 0.2]})
    fig = ps.batch_size_figure(table, current=16)
    assert fig.layout.xaxis.title.text.startswith("batch size B") and "N = " in fig.data[0].hovertemplate
    conf = ps.confusion_figure(np.array([[3, 1], [0, 4]]), ["star", "plus"], "c")
    np.testing.assert_allclose(np.asarray(conf.data[0].z), [[0.75, 0.25], [0, 1]])
    shift = ps.shift_figure(pd.DataFrame({"lambda": [0.0, 1.0], "gap": [0.5, 0.0], "loss": [1.0, 2.0],
                                          "r1_a_to_b": [0.5, 0.4], "r1_b_to_a": [0.6, 0.3]}), ("image", "text"))
    assert {t.name for t in shift.data} == {"loss at τ", "R@1 image → text", "R@1 text → image"}
    curves = ps.geometry_curves_figure(pd.DataFrame({"step": [1, 2, 1, 1], "value": [1.0, 0.5, -2.0, 0.3],
                                                     "name": ["eval/alignment", "eval/alignment",
                                                              "eval/uniformity_image", "eval/modality_gap"]}))
    assert {t.name for t in curves.data} == {"alignment", "uniformity_image", "modality_gap"}


def test_pool_matrix_of_an_even_split_equals_the_padded_path():
    z = np.random.default_rng(1).random((8, 8))
    np.testing.assert_allclose(ps.pool_matrix(z, 4), [[z[:4, :4].mean(), z[:4, 4:].mean()],
                                                      [z[4:, :4].mean(), z[4:, 4:].mean()]])


@pytest.mark.parametrize("n", [4, 1024])
@pytest.mark.parametrize("bars", ["rows", "cols"])
def test_swapping_values_into_a_built_figure_equals_building_it(n, bars):
    rng = np.random.default_rng(2)
    z1, z2, v1, v2 = rng.random((n, n)), rng.random((n, n)), rng.random(n), rng.random(n)
    kw = dict(title="t", value_name="p", zmin=0)

    def build(z, v):
        extra = {"row_bars": v} if bars == "rows" else {"col_bars": v}
        return ps.matrix_figure(z, _labels(n, "image"), _labels(n, "text"), **kw, **extra)

    skeleton = build(z1, v1).to_dict()
    before = json.loads(pio.to_json(skeleton, validate=False))
    swapped = ps.with_matrix_values(skeleton, z2, v2 if bars == "rows" else None, v2 if bars == "cols" else None)
    # st.plotly_chart validates a dict into a figure: what the browser gets is the built one's
    assert json.loads(go.Figure(swapped).to_json()) == json.loads(build(z2, v2).to_json())
    assert json.loads(pio.to_json(skeleton, validate=False)) == before  # the memoised skeleton is left alone
    with pytest.raises(ValueError, match="figure that shows"):
        ps.with_matrix_values(skeleton, rng.random((n + 300, n + 300)))


def test_large_matrices_draw_one_pixel_per_cell_in_fixed_margins_small_ones_fit_their_labels():
    big = ps.matrix_figure(np.zeros((64, 64)), _labels(64, "image"), _labels(64, "text"), title="t",
                           value_name="p", row_bars=np.zeros(64))
    assert big.data[0].zsmooth == "fast" and big.layout.margin.autoexpand is False
    assert big.layout.margin.r >= 80  # room for the colour bar and its title
    small = ps.matrix_figure(np.zeros((8, 8)), _labels(8, "image"), _labels(8, "text"), title="t", value_name="p")
    assert small.data[0].zsmooth is False and small.layout.margin.autoexpand is None
