"""Metrics on small hand-made embeddings with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmviz import metrics


def test_recall_at_k_counts_first_relevant_rank():
    scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8], [0.7, 0.6, 0.1]])
    relevant = np.eye(3, dtype=bool)
    # Ranks of the paired candidate: query 0 -> 1st, query 1 -> 2nd, query 2 -> 3rd.
    assert metrics.recall_at_k(scores, relevant, ks=(1, 2, 3)) == {1: 1 / 3, 2: 2 / 3, 3: 1.0}


def test_recall_at_k_accepts_equivalent_candidates():
    scores = np.array([[0.1, 0.9], [0.8, 0.2]])
    # Candidate 1 is a duplicate of candidate 0 for query 0 (same caption): both relevant.
    relevant = np.array([[True, True], [False, True]])
    assert metrics.recall_at_k(scores, relevant, ks=(1, 2)) == {1: 0.5, 2: 1.0}


def test_recall_without_relevant_candidate_is_a_miss():
    assert metrics.recall_at_k(np.ones((1, 3)), np.zeros((1, 3), dtype=bool), ks=(3,)) == {3: 0.0}


def test_zero_shot_accuracy():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6]])
    assert metrics.zero_shot_accuracy(scores, np.array([1, 0, 0])) == pytest.approx(2 / 3)


def test_attribute_entailment():
    images = pd.DataFrame({"shape": ["star", "star"], "texture": ["dots", "solid"], "color": ["red", "red"]})
    captions = pd.DataFrame({
        "shape": ["star", None, "star", "circle"],
        "texture": [None, None, "dots", None],
        "color": [None, "red", "red", None],
    })
    expected = np.array([[True, True, True, False], [True, True, False, False]])
    np.testing.assert_array_equal(metrics.attribute_entailment(images, captions), expected)


@pytest.mark.parametrize(("alpha", "expected"), [(2.0, 2.0), (1.0, math.sqrt(2.0))])
def test_alignment_of_orthogonal_pairs(alpha, expected):
    x, y = np.eye(2), np.eye(2)[::-1]
    assert metrics.alignment(x, y, alpha) == pytest.approx(expected)
    assert metrics.alignment(x, x, alpha) == 0.0


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (np.array([[1.0, 0.0], [-1.0, 0.0]]), -8.0),  # antipodal: |a - b|^2 = 4
        (np.array([[np.cos(a), np.sin(a)] for a in (0, 2 * np.pi / 3, 4 * np.pi / 3)]), -6.0),  # |a - b|^2 = 3
    ],
)
def test_uniformity_closed_form(points, expected):
    assert metrics.uniformity(points, t=2.0) == pytest.approx(expected)


def test_modality_gap():
    assert metrics.modality_gap(np.array([[1.0, 0.0], [1.0, 2.0]]), np.array([[0.0, 1.0]])) == pytest.approx(1.0)


def test_mean_by_level():
    out = metrics.mean_by_level(np.array([1.0, 3.0, 10.0]), np.array([1, 1, 2]))
    assert out == {1: 2.0, 2: 10.0}


def test_chain_fraction():
    caption_levels = np.array([1, 1, 2, 3])
    caption_depth = np.array([1.0, 2.0, 3.0, 4.0])
    entails = np.array([
        [True, True, True, True],    # means 1.5 < 3 < 4 < 5: holds
        [True, False, True, True],   # 1 < 3 < 4 but image 3.5 < 4: fails
        [True, True, False, True],   # no level-2 caption: fails
    ])
    image_depth = np.array([5.0, 3.5, 9.0])
    assert metrics.chain_fraction(image_depth, caption_depth, caption_levels, entails) == pytest.approx(1 / 3)


@pytest.mark.parametrize("group", [5, 30])
def test_spearman_ceiling_for_four_equal_groups(group):
    levels = np.repeat([1, 2, 3, 4], group)
    n = len(levels)
    # Spearman of a tied variable against a consistent strict order:
    # sqrt((n^3 - n - sum(t^3 - t)) / (n^3 - n)), t = group sizes.
    ceiling = math.sqrt((n**3 - n - 4 * (group**3 - group)) / (n**3 - n))
    rho, got_ceiling = metrics.spearman_with_ceiling(levels, levels + np.linspace(0, 0.5, n))
    assert got_ceiling == pytest.approx(ceiling, rel=1e-12)
    assert rho == pytest.approx(ceiling, rel=1e-12)  # a perfectly ordered embedding reaches it
    assert metrics.spearman_with_ceiling(levels, -levels.astype(float))[0] == pytest.approx(-1.0)


def test_balanced_sample_takes_the_smallest_level_count_from_each():
    levels = np.array([1] * 3 + [2] * 10 + [3] * 50)
    idx = metrics.balanced_sample(levels, np.random.default_rng(0))
    assert np.bincount(levels[idx]).tolist() == [0, 3, 3, 3]
    assert len(np.unique(idx)) == 9


def test_balanced_spearman_of_ordered_depth_is_its_ceiling():
    levels = np.array([1] * 30 + [2] * 300 + [3] * 1000 + [4] * 1000)
    depth = levels + np.random.default_rng(1).uniform(0, 0.9, len(levels))
    rho, ceiling = metrics.balanced_spearman(levels, depth, draws=5)
    assert rho == pytest.approx(ceiling)
    assert ceiling == pytest.approx(math.sqrt(1 - 4 * (30**3 - 30) / (120**3 - 120)))  # ~0.968
