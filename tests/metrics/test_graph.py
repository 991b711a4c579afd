"""Reconstruction metrics on hand-made graphs, ties included."""

import numpy as np
import pytest

from mmviz.metrics.graph import (
    average_distortion,
    closure_scores,
    depth_spearman,
    edge_scores,
    graph_distances,
    hierarchy_scores,
    positives_matrix,
    ranking_scores,
)


def line_dist(x):
    x = np.asarray(x, dtype=float)
    return np.abs(x[:, None] - x[None, :])


def test_perfect_ranking_gives_map_one_and_rank_one():
    # node 0 has positives 1, 2 at distances 1, 2; negative 3 at distance 3
    dist = line_dist([0, 1, 2, 3])
    scores = ranking_scores(dist, positives_matrix(4, [(0, 1), (0, 2)], symmetric=False))
    assert scores["map"] == 1.0 and scores["mean_rank"] == 1.0
    assert scores["rows"] == 1 and scores["pairs"] == 2


def test_negative_in_between_lowers_ap_and_rank():
    # from node 0: positive at 1, negative at 2, positive at 3 → AP = (1/1 + 2/3) / 2
    dist = line_dist([0, 1, 2, 3])
    scores = ranking_scores(dist, positives_matrix(4, [(0, 1), (0, 3)], symmetric=False))
    assert scores["map"] == pytest.approx((1 + 2 / 3) / 2)
    assert scores["mean_rank"] == pytest.approx((1 + 2) / 2)  # second positive has 1 negative before it


def test_ties_count_against_the_positive():
    # node 0: a positive and a negative both at distance 1, another positive at 2
    dist = np.array([[0, 1, 1, 2], [1, 0, 2, 3], [1, 2, 0, 3], [2, 3, 3, 0]], dtype=float)
    scores = ranking_scores(dist, positives_matrix(4, [(0, 1), (0, 3)], symmetric=False))
    # positive at 1: 1 positive of 2 within 1; positive at 2: 2 of 3 within 2
    assert scores["map"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert scores["mean_rank"] == pytest.approx(2.0)  # both positives have the tied negative at or before them


def test_rounding_noise_keeps_a_tie():
    dist = np.array([[0, 1, 1 + 1e-13], [1, 0, 2], [1 + 1e-13, 2, 0]])
    pos = positives_matrix(3, [(0, 2)], symmetric=False)
    assert ranking_scores(dist, pos)["map"] == pytest.approx(0.5)  # tied with the negative 1
    assert ranking_scores(dist, pos, rtol=0.0)["map"] == pytest.approx(0.5)  # 1e-13 later: rank 2 either way


def test_closure_is_directed_and_edges_are_symmetric():
    # path 0 - 1 - 2 (2 is a child of 1, 1 of 0) laid out on a line
    edges = np.array([[1, 0], [2, 1]])
    closure = np.array([[1, 0], [2, 0], [2, 1]])
    dist = line_dist([0, 1, 2])
    c = closure_scores(dist, closure)
    assert c["rows"] == 2 and c["pairs"] == 3  # the root has no ancestors
    # node 2: ancestors 1 (d=1) and 0 (d=2): perfect; node 1: ancestor 0 at 1, only negative 2 at 1 (tie)
    assert c["map"] == pytest.approx((1.0 + 0.5) / 2)
    e = edge_scores(dist, edges)
    assert e["rows"] == 3 and e["pairs"] == 4
    assert e["map"] == pytest.approx(1.0)


def test_star_graph_and_distortion():
    # root 0 with leaves 1..3 at the vertices of an equilateral triangle around it
    angles = np.array([0, 2, 4]) * np.pi / 3
    pts = np.vstack([[0, 0], np.stack([np.cos(angles), np.sin(angles)], 1)])
    dist = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    edges = np.array([[1, 0], [2, 0], [3, 0]])
    gd = graph_distances(4, edges)
    assert gd[1, 2] == 2 and gd[0, 3] == 1
    d = average_distortion(dist, gd, scale=1.0)
    # leaf pairs: √3 vs 2 → |√3/2 − 1|; root pairs exact
    assert d["distortion"] == pytest.approx(3 * (1 - np.sqrt(3) / 2) / 6)
    s = hierarchy_scores(dist, np.array([0.0, 1, 1, 1]), edges, edges, np.array([0, 1, 1, 1]), scale=1.0)
    assert s["map_edges"] == pytest.approx((1 + 3 * 1.0) / 4)  # each leaf: root at 1 < sibling at √3
    assert s["map_closure"] == 1.0 and s["rank_closure"] == 1.0
    assert s["spearman_depth"] == pytest.approx(1.0)


def test_depth_spearman_degenerate():
    assert np.isnan(depth_spearman(np.zeros(5), np.arange(5)))
    assert depth_spearman([0, 1, 2, 3], [0.1, 0.5, 0.4, 2.0]) == pytest.approx(0.8)
