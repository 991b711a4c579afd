"""Figures of the Similarity page: colour bars, hover names, positives outlined, loss bars,
and large matrices drawn compactly as block means."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
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


@pytest.mark.parametrize(("n", "f"), [(8, 1), (256, 1), (257, 2), (512, 2), (1024, 4)])
def test_pool_factor_keeps_at_most_256_cells_a_side(n, f):
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
    assert heat["z"]["dtype"] == "f4" and heat["z"]["shape"] in ("256, 256", "256,256", [256, 256])
    assert len(heat["y"]) == 256 and heat["y"][1].startswith("rows 4–7")
    np.testing.assert_allclose(np.asarray(fig.data[0].z)[0, 0], z[:4, :4].mean(), rtol=1e-6)
    assert "4 × 4 blocks" in fig.layout.title.text
    assert len(pio.to_json(fig, validate=False)) < 600_000


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
