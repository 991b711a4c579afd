"""Tree scenes: arcs sampled between drawn endpoints, with as many points as their drawn length needs."""

from __future__ import annotations

import numpy as np

from mmviz.geometry import disk, scenes


def _tree(rng: np.random.Generator, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    radius = rng.uniform(0.0, 0.995, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    layout = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    edges = np.array([(i, rng.integers(0, i)) for i in range(1, n)])
    return layout, edges


def test_arcs_lie_on_the_recentred_geodesics_and_short_ones_are_thin():
    layout, edges = _tree(np.random.default_rng(0))
    for recenter in (None, 7):
        pos, arcs, _ = scenes.tree_scene(layout, edges, curvature=1.0, recenter=recenter, n=16)
        dense = [disk.geodesic(layout[c], layout[p], 200) for c, p in edges]
        if recenter is not None:
            dense = [disk.recenter(arc, layout[recenter]) for arc in dense]
        for (c, p), arc, ref in zip(edges, arcs, dense):
            assert np.allclose(arc[[0, -1]], pos[[c, p]], atol=1e-9)
            # every drawn point lies on the true (recentred) geodesic: a point of the dense arc is that close
            gap = np.min(np.linalg.norm(arc[:, None, :] - ref[None, :, :], axis=2), axis=1)
            assert gap.max() < 0.01 * max(np.linalg.norm(ref[0] - ref[-1]), 1e-3) + 1e-9
            # on the geodesic exactly: d(a, x) + d(x, b) = d(a, b)
            a, b = arc[:1], arc[-1:]
            sums = disk.pairwise_dist(arc, a)[:, 0] + disk.pairwise_dist(arc, b)[:, 0]
            assert np.allclose(sums, disk.pairwise_dist(a, b)[0, 0], rtol=1e-6, atol=1e-6)
        sizes = np.array([len(arc) for arc in arcs])
        chords = np.array([np.linalg.norm(arc[-1] - arc[0]) for arc in arcs])
        assert sizes.min() >= 2 and sizes.max() <= 16
        assert (sizes[chords > 1.0] == 16).all() and (sizes[chords < 0.06] <= 2).all()
