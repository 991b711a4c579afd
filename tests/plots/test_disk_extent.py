"""Every Poincaré-disk figure draws its rim; the Explorer's disk shows the whole disk by default
and zooms to the data only when asked, saying so."""

from __future__ import annotations

import numpy as np

from mmviz.plots.explorer import explorer_disk


def _rim(fig) -> np.ndarray:
    rim = next(t for t in fig.data if t.name == "boundary (infinitely far)")
    return np.hypot(np.asarray(rim.x), np.asarray(rim.y))


def test_whole_disk_by_default_even_when_the_points_sit_deep_inside():
    pts = np.random.default_rng(0).normal(scale=0.1, size=(50, 2))  # a MERU at c = 0.1: within 0.4
    groups = np.array(["image"] * 25 + ["text"] * 25)
    whole = explorer_disk(pts, groups, ["p"] * 50, unit=1.0)
    np.testing.assert_allclose(_rim(whole), 1.0)
    assert tuple(whole.layout.xaxis.range) == (-1.06, 1.06) and tuple(whole.layout.yaxis.range) == (-1.06, 1.06)
    assert "zoomed" not in (whole.layout.title.text or "")
    fit = explorer_disk(pts, groups, ["p"] * 50, unit=1.0, extent="fit", title="radial")
    lim = fit.layout.xaxis.range[1]
    assert lim < 1.0 and lim >= 1.15 * np.linalg.norm(pts, axis=1).max() - 1e-9
    assert "zoomed to the data" in fit.layout.title.text
    np.testing.assert_allclose(_rim(fit), 1.0)  # still drawn, outside the view
