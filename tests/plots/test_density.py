"""Every point drawn: the density raster counts each point once, per group, the right way up,
and the Explorer's disk switches to it above its drawn size."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from mmviz.plots import explorer as explorer_plots
from mmviz.plots.density import PIXELS, density_image


def _disk_points(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = np.sqrt(rng.uniform(0, 0.98, n))
    t = rng.uniform(0, 2 * np.pi, n)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def test_density_counts_sum_to_n_and_per_group():
    xy = _disk_points(200_003)
    groups = np.array(["a", "b", "c"])[np.random.default_rng(1).integers(0, 3, len(xy))]
    image = density_image(xy, groups, {"a": "#4338ca", "b": "#db2777", "c": "#059669"})
    assert image.counts.sum() == len(xy)
    assert image.group_counts == {g: int((groups == g).sum()) for g in ("a", "b", "c")}
    png = Image.open(io.BytesIO(image.png))
    assert png.size == (PIXELS, PIXELS)


def test_the_raster_is_the_right_way_up():
    xy = _disk_points(5000)
    xy = xy[xy[:, 1] > 0.1]  # upper half only
    image = density_image(xy, np.zeros(len(xy), dtype=int), {"0": "#000000"})
    top, bottom = image.counts[: PIXELS // 2], image.counts[PIXELS // 2:]
    assert top.sum() == len(xy) and bottom.sum() == 0
    alpha = np.asarray(Image.open(io.BytesIO(image.png)).convert("RGBA"))[:, :, 3]
    assert alpha[: PIXELS // 2].max() > 0 and alpha[PIXELS // 2 + 2:].max() == 0


def test_the_explorer_disk_draws_every_point_as_a_density_above_its_drawn_size():
    xy = _disk_points(6000)
    groups = np.where(xy[:, 0] > 0, "image", "text")
    fig = explorer_plots.explorer_disk(xy, groups, lambda rows: [f"row {r}" for r in rows], unit=1.0,
                                       max_drawn=2000)
    assert len(fig.layout.images) == 1
    points = [t for t in fig.data if t.meta == explorer_plots.SELECT_TRACE]
    assert sum(len(t.x) for t in points) == 2000  # the hover sample: min(HOVER_SAMPLE, max_drawn)
    legend = sorted(t.name for t in points)
    assert legend == [f"image ({(groups == 'image').sum():,})", f"text ({(groups == 'text').sum():,})"]
    assert "all 6,000 points as a density" in fig.layout.title.text
    assert all(t.hovertext[0].startswith("row ") for t in points)


def test_the_explorer_disk_draws_points_below_its_drawn_size():
    xy = _disk_points(500)
    fig = explorer_plots.explorer_disk(xy, np.full(500, "image"), [f"p{i}" for i in range(500)], unit=1.0)
    assert len(fig.layout.images) == 0
    assert sum(len(t.x) for t in fig.data if t.meta == explorer_plots.SELECT_TRACE) == 500
