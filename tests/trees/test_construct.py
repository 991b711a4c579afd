"""The combinatorial construction: exact MAP on small trees, and precision beyond float64."""

import math

import numpy as np
import pytest

from mmviz.data.registry import load
from mmviz.geometry import disk
from mmviz.metrics.graph import edge_scores, graph_distances, hierarchy_scores
from mmviz.trees.construct import (
    PolarPoints,
    bits_needed,
    construct,
    max_degree,
    polar_pairwise_dist,
    sala_scale,
    tree_order,
)


def test_tree_order_rejects_forests_and_cycles():
    assert tree_order(np.array([-1, 0, 0, 1])) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="one root"):
        tree_order(np.array([-1, -1]))
    with pytest.raises(ValueError, match="cycle"):
        tree_order(np.array([-1, 2, 1]))


@pytest.mark.parametrize("precision", ["float64", "mpmath"])
def test_every_edge_has_length_tau(precision):
    tree = load("tree", branching=3, depth=3)
    c = construct(tree.extras["tree_parent"], tau=2.5, precision=precision)
    dist = c.pairwise_dist()
    lengths = dist[tree.edges[:, 0], tree.edges[:, 1]]
    assert lengths == pytest.approx(np.full(len(lengths), 2.5), abs=1e-9)
    assert c.radius()[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.linalg.norm(c.points, axis=1) < 1)


@pytest.mark.parametrize("branching, depth", [(2, 4), (3, 3), (5, 2)])
@pytest.mark.parametrize("precision", ["float64", "mpmath"])
def test_construction_map_is_one_on_small_trees(branching, depth, precision):
    tree = load("tree", branching=branching, depth=depth)
    parent = tree.extras["tree_parent"]
    c = construct(parent, tau=sala_scale(parent, 0.5), precision=precision)
    s = hierarchy_scores(c.pairwise_dist(), c.radius(), tree.edges, tree.closure, tree.depth, scale=c.tau)
    assert s["map_edges"] == 1.0 and s["rank_edges"] == 1.0
    assert s["spearman_depth"] > 0.5  # paths bend, so depth k is only roughly at radius kτ
    assert s["distortion"] < 0.5


def test_random_tree_map_is_one():
    tree = load("tree", branching=6, depth=4, random_branching=True, seed=3)
    parent = tree.extras["tree_parent"]
    c = construct(parent, tau=sala_scale(parent, 0.5), precision="mpmath")
    assert edge_scores(c.pairwise_dist(), tree.edges)["map"] == 1.0


def test_sala_scale_grows_with_degree_and_shrinking_epsilon():
    star = np.array([-1] + [0] * 20)
    path = np.array([-1, 0, 1, 2])
    assert max_degree(star) == 20 and max_degree(path) == 2
    assert sala_scale(star, 0.1) > sala_scale(path, 0.1)
    assert sala_scale(star, 0.1) > sala_scale(star, 1.0)


def test_polar_distance_matches_the_disk_formula_where_float64_suffices():
    rng = np.random.default_rng(0)
    radius = rng.uniform(0, 5, 12)
    theta = rng.uniform(0, 2 * math.pi, 12)
    bits = 80
    polar = PolarPoints(radius, np.array([int(round(t * 2**bits)) for t in theta], dtype=object), bits,
                        int(round(2 * math.pi * 2**bits)))
    assert polar_pairwise_dist(polar) == pytest.approx(disk.pairwise_dist(polar.to_disk(), boundary="inf"),
                                                       rel=1e-7, abs=1e-9)


def test_high_precision_keeps_deep_siblings_apart():
    # a path of 12 edges then 3 leaves: at τ = 6 the leaves lie at radius ~78, far past float64
    parent = np.array([-1] + list(range(12)) + [12, 12, 12])
    tau = 6.0
    exact = construct(parent, tau, "mpmath")
    assert exact.bits >= bits_needed(tau, 13)
    d = exact.pairwise_dist()
    leaves = [13, 14, 15]
    assert d[12, leaves] == pytest.approx([tau] * 3, abs=1e-6)
    # two leaves meet at their parent at angle 2π/4·k: d = 2τ + 2 log sin(θ/2) + o(1)
    # (exactly: the hyperbolic law of cosines with two sides τ and the angle π/2 between them)
    leaf_to_leaf = math.acosh(math.cosh(tau) ** 2 - math.sinh(tau) ** 2 * math.cos(math.pi / 2))
    assert d[13, 14] == pytest.approx(leaf_to_leaf, rel=1e-6)
    rough = construct(parent, tau, "float64")
    assert not np.allclose(rough.pairwise_dist()[12, leaves], tau, atol=1e-3)  # float64 has collapsed
    assert edge_scores(d, np.stack([np.arange(1, 16), parent[1:]], 1))["map"] == 1.0


def test_wordnet_mammals_high_precision_beats_float64():
    mammals = load("wordnet-mammal")
    parent = mammals.extras["tree_parent"]
    hi = construct(parent, 6.0, "mpmath")
    lo = construct(parent, 6.0, "float64")
    gd = graph_distances(len(mammals), mammals.edges)
    hi_map = edge_scores(hi.pairwise_dist(), mammals.edges)["map"]
    lo_map = edge_scores(lo.pairwise_dist(), mammals.edges)["map"]
    assert hi_map >= 0.99 and lo_map < 0.95
    assert gd.shape == (len(mammals), len(mammals))
