"""Colouring by tree depth: ordered levels in numeric order along a sequential scale, not a
categorical palette (a categorical palette made depth 3 and depth 4 look unrelated)."""

from __future__ import annotations

import numpy as np

from mmviz.plots.explorer import MISSING_COLOR, explorer_disk, ordinal_colors


def _luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_levels_run_dark_to_light_in_numeric_order_and_missing_is_grey():
    colours = ordinal_colors(["10", "2", "0", "1", "—"])
    ramp = [colours[k] for k in ("0", "1", "2", "10")]
    assert all(c.startswith("#") and len(c) == 7 for c in ramp)  # hex: the density raster needs it
    lum = [_luminance(c) for c in ramp]
    assert lum == sorted(lum) and lum[-1] - lum[0] > 0.5, lum
    assert colours["—"] == MISSING_COLOR


def test_the_disk_orders_the_legend_by_depth_only_when_asked():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-0.5, 0.5, size=(60, 2))
    groups = np.array([str(d) for d in rng.permutation(np.repeat([0, 1, 2, 10], 15))])
    ordinal = explorer_disk(pts, groups, ["p"] * 60, unit=1.0, ordinal=True)
    traces = [t for t in ordinal.data if t.meta == "points"]
    assert [t.name.split(" ")[0] for t in traces] == ["0", "1", "2", "10"]
    lum = [_luminance(t.marker.color) for t in traces]
    assert lum == sorted(lum), lum
    categorical = explorer_disk(pts, groups, ["p"] * 60, unit=1.0)
    assert [t.name.split(" ")[0] for t in categorical.data if t.meta == "points"] == ["0", "1", "10", "2"]
