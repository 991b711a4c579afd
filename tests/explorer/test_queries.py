"""mmviz.explorer.queries: names, search, neighbours by the model's distance, entailment cones,
MERU's traversal and the specificity read-out, on configurations with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from mmviz.data.embeddings_io import EmbeddingSet
from mmviz.errors import MmvizError
from mmviz.explorer import queries
from mmviz.geometry import get_geometry
from mmviz.geometry.disk import pairwise_dist as disk_pairwise


def ray_set() -> EmbeddingSet:
    """Captions at distances 0.5, 1.5 on the e1 ray, one at 1.5 on e2, and an image at 3 on e1."""
    v = np.array([[0.5, 0, 0], [1.5, 0, 0], [0, 1.5, 0], [3.0, 0, 0]])
    x = get_geometry("lorentz", 1.0).expmap0(torch.as_tensor(v, dtype=torch.float32)).numpy()
    meta = pd.DataFrame({"modality": ["caption", "caption", "caption", "image"], "level": [1, 2, 2, np.nan],
                         "caption": ["a star", "a red star", "a blue circle", ""],
                         "shape": ["star", "star", "circle", "star"], "color": [None, "red", "blue", "red"],
                         "pair_index": [np.nan, np.nan, np.nan, 0]})
    return EmbeddingSet(x, meta, "lorentz", 1.0)


def test_names_and_search():
    es = ray_set()
    assert queries.point_names(es.metadata) == ["a star", "a red star", "a blue circle", "image #0: red star"]
    assert queries.search(es.metadata, "STAR").tolist() == [0, 1, 3]  # captions first, shortest first
    assert queries.search(es.metadata, "a red star").tolist() == [1]
    assert len(queries.search(es.metadata, "  ")) == 0
    assert queries.group_labels(es.metadata, "caption level").tolist() == [
        "caption level 1", "caption level 2", "caption level 2", "image"]


def test_nearest_uses_the_model_distance():
    es = ray_set()
    nn = queries.nearest(es, 0, k=3)
    assert nn["row"].tolist() == [1, 2, 3]
    ref = get_geometry("lorentz").dist(torch.as_tensor(es.points[[0]], dtype=torch.float64),
                                       torch.as_tensor(es.points[[1, 2, 3]], dtype=torch.float64)).numpy()
    np.testing.assert_allclose(nn["distance"], ref, rtol=1e-9)
    assert nn["distance"].iloc[0] == pytest.approx(1.0, rel=1e-5)  # same ray: 1.5 - 0.5
    assert nn["distance"].iloc[2] == pytest.approx(2.5, rel=1e-5)


def test_cone_contains_what_lies_further_out_on_the_same_ray():
    es = ray_set()
    inside = queries.in_cone(es, 0)
    assert inside.tolist() == [False, True, False, True]
    assert queries.in_cone(EmbeddingSet(np.eye(3, dtype=np.float32), pd.DataFrame(), "sphere"), 0) is None
    assert 0 < queries.half_aperture(es, 1) < queries.half_aperture(es, 0) <= math.pi / 2


def test_cone_outline_leaves_the_apex_at_the_aperture():
    apex = np.array([0.3, 0.4])
    rays = queries.cone_outline(apex, 0.2, n=200)
    for ray, sign in zip(rays, (-1, 1)):
        np.testing.assert_allclose(ray[0], apex, atol=1e-12)
        step = ray[1] - ray[0]
        turn = math.atan2(step[1], step[0]) - math.atan2(apex[1], apex[0])
        assert turn == pytest.approx(sign * 0.2, abs=1e-3)
        assert (np.linalg.norm(ray, axis=1) < 1).all()
        # a geodesic: consecutive hyperbolic steps add up to the end-to-end distance
        d = disk_pairwise(ray[:-1], ray[1:]).diagonal().sum()
        assert d == pytest.approx(disk_pairwise(ray[:1], ray[-1:])[0, 0], rel=1e-6)


def test_traversal_walks_to_the_origin_and_retrieves_entailing_captions():
    es = ray_set()
    tr = queries.traversal(es, 3, n_steps=50)
    assert tr.depth[0] == pytest.approx(3.0, rel=1e-5) and tr.depth[-1] == pytest.approx(0.0, abs=1e-6)
    assert (np.diff(tr.depth) < 0).all()
    # near the image the most specific entailing caption, then the generic one
    assert tr.captions[0] == 1 and tr.entailed[0]
    assert set(tr.captions.tolist()) <= {0, 1, 2}
    table = queries.traversal_table(es, tr)
    assert table["caption"].iloc[0] == "a red star" and "a star" in table["caption"].tolist()
    with pytest.raises(MmvizError, match="hyperbolic"):
        queries.traversal(EmbeddingSet(np.eye(3, dtype=np.float32), pd.DataFrame(), "sphere"), 0)


def test_example_hierarchy_is_ordered_and_has_edges():
    es = queries.example_set()
    assert len(es) == 6 + 24 + 72 + 576 and es.geometry == "lorentz"
    depth = get_geometry("lorentz").dist0(torch.as_tensor(es.points, dtype=torch.float64)).numpy()
    stats = queries.specificity_spearman(es.metadata, depth)
    assert stats["spearman"] == pytest.approx(stats["ceiling"], abs=1e-9)
    edges = queries.tree_edges(es.metadata)
    assert len(edges) == len(es) - 6  # every node but the 6 roots has its parent
    names = queries.point_names(es.metadata)
    assert all(es.metadata["parent"].iloc[c] == names[p] for c, p in edges[:50])


def test_disk_figure_decimates_large_sets_and_keeps_rows():
    from mmviz.plots.explorer import explorer_disk, ring_radii

    rng = np.random.default_rng(0)
    disk = rng.uniform(-0.5, 0.5, size=(3000, 2))
    groups = np.where(np.arange(3000) % 3 == 0, "image", "text")
    fig = explorer_disk(disk, groups, [f"p{i}" for i in range(3000)], unit=1.0, max_drawn=1000)
    traces = [t for t in fig.data if t.meta == "points"]
    rows = np.concatenate([t.customdata for t in traces])
    assert len(rows) == 1000 and len(set(rows.tolist())) == 1000
    for t in traces:  # each drawn point sits at its row's coordinates, hover names it
        np.testing.assert_array_equal(np.stack([t.x, t.y], 1), disk[t.customdata])
        assert list(t.hovertext[:3]) == [f"p{i}" for i in t.customdata[:3]]
    assert "all 3,000 points as a density · hover and lasso: a random 1,000" in fig.layout.title.text
    assert len(fig.layout.images) == 1  # every point drawn in the raster beneath
    assert fig.layout.yaxis.scaleanchor == "x" and all(t.type == "scattergl" for t in traces)
    assert [label for _, label in ring_radii(4.0, 2.0)] == ["d = 0.5", "d = 1", "d = 1.5", "d = 2"]


def test_specificity_groups_and_spearman_by_wordnet_depth():
    meta = pd.DataFrame({"modality": ["image", "text", "text", "text", "text"],
                         "wordnet_depth": [8, 6, 8, 13, np.nan]})
    groups = queries.specificity_groups(meta)
    assert groups.tolist() == ["image", "WordNet depth 06", "WordNet depth 08", "WordNet depth 13", "text"]
    stats = queries.wordnet_depth_spearman(meta, np.array([9.0, 1.0, 2.0, 3.0, 0.5]))
    assert stats["n"] == 3 and stats["spearman"] == pytest.approx(1.0) and stats["ceiling"] == pytest.approx(1.0)
    assert queries.wordnet_depth_spearman(meta.drop(columns="wordnet_depth"), np.zeros(5)) is None
