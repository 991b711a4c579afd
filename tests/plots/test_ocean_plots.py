"""The data-assimilation lab's figures: drifters animated over ψ, maps with their errors."""

from __future__ import annotations

import numpy as np

from mmviz.data import ocean
from mmviz.plots import ocean as plots


def test_tracks_break_where_a_drifter_leaves_through_a_side():
    tracks = np.array([[[6.0, 1.0], [6.4, 1.0], [6.9, 1.0]]])  # crosses x = 2π between steps 1 and 2
    x, y = plots._wrapped_paths(tracks)
    assert np.isnan(x).sum() == 2  # one gap at the crossing, one at the drifter's end
    assert np.nanmax(x) < 2 * np.pi and np.nanmin(x) >= 0


def test_the_drifter_animation_has_a_frame_per_observation():
    data = ocean.load_ocean("train", n=12, n_test=10, drifters=5, steps=4, grid=8)
    fig = plots.drifters_figure(ocean.stream_on_grid(data, 3, size=24), data.modalities["tracks"][3])
    assert len(fig.frames) == 5
    assert fig.data[0].type == "contour" and np.asarray(fig.data[0].z).shape == (24, 24)
    last = fig.frames[-1].data[1]
    ends = np.mod(data.modalities["tracks"][3][:, -1], 2 * np.pi)
    np.testing.assert_allclose(np.column_stack([last.x, last.y]), ends)
    # the stream function's contours are the streamlines: ψ at the grid equals the basis' ψ
    basis = ocean.basis_of(data)
    pts = ocean.grid_points(24)
    psi = basis.stream_function(data.extras["coef"][3:4], pts, data.extras["t_mid"])[0]
    np.testing.assert_allclose(fig.data[0].z.ravel(), psi)


def test_reconstruction_figure_shows_truth_methods_and_errors():
    rng = np.random.default_rng(0)
    truth = rng.standard_normal((2, 6, 6))
    fields = {"contrastive": truth * 0.5, "climatology": np.zeros_like(truth)}
    fig = plots.reconstruction_figure(truth, fields, rng.uniform(0, 6, (3, 4, 2)), {"contrastive": 0.4,
                                                                                     "climatology": 1.0})
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 1 + 2 * len(fields)
    np.testing.assert_allclose(heatmaps[0].z, plots.speed(truth))
    np.testing.assert_allclose(heatmaps[-1].z, plots.speed(truth))  # climatology's error is the truth itself
