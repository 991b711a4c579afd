"""Similarity in each geometry, hardest negatives, retrieval, zero-shot, the modality gap and
its shift experiment, batch orders, and pairing embeddings: all on tiny inputs worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mmviz.data.embeddings_io import EmbeddingSet
from mmviz.errors import MmvizError
from mmviz.metrics import similarity as ms
from mmviz.ui import similarity_data as sd


def test_sphere_similarity_is_the_cosine_of_directions():
    np.testing.assert_allclose(
        ms.similarity_matrix(np.array([[3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 2.0]]), "sphere"), [[0.6, 0.8]])


def test_euclidean_similarity_is_minus_distance():
    np.testing.assert_allclose(ms.similarity_matrix(np.zeros((1, 2)), np.array([[3.0, 4.0]]), "euclidean"), [[-5.0]])


@pytest.mark.parametrize("c", [1.0, 4.0])
def test_poincare_similarity_is_minus_the_geodesic_distance(c):
    # d(0, x) = 2/√c artanh(√c ‖x‖)
    x = 0.5 / math.sqrt(c)
    got = ms.similarity_matrix(np.zeros((1, 2)), np.array([[x, 0.0]]), "poincare", c)
    assert got[0, 0] == pytest.approx(-2 / math.sqrt(c) * math.atanh(0.5), rel=1e-9)


def test_lorentz_similarity_uses_the_curvature():
    # origin (1/√c, 0) and the point at distance r along the first axis: (cosh(√c r)/√c, sinh(√c r)/√c)
    c, r = 2.0, 0.7
    s = math.sqrt(c)
    o = np.array([[1 / s, 0.0]])
    p = np.array([[math.cosh(s * r) / s, math.sinh(s * r) / s]])
    assert ms.similarity_matrix(o, p, "lorentz", c)[0, 0] == pytest.approx(-r, rel=1e-9)


LG = np.array([[5.0, 1.0, 6.0], [0.0, 5.0, 4.0], [2.0, 3.0, 5.0]])


def test_hardest_negatives_by_hand():
    table = ms.hardest_negatives(LG, k=3)
    assert table["row"].tolist() == [0, 1, 2]
    assert table["negative"].tolist() == [2, 2, 1]
    assert table["margin"].tolist() == [1.0, -1.0, -2.0]


def test_hardest_negatives_skip_equivalent_candidates():
    relevant = np.zeros((3, 3), bool)
    relevant[0, 2] = True  # e.g. the same caption: not a negative
    table = ms.hardest_negatives(LG, k=1, relevant=relevant)
    assert table.iloc[0].to_dict() == {"row": 1, "negative": 2, "positive_logit": 5.0,
                                       "negative_logit": 4.0, "margin": -1.0}
    assert ms.hardest_negatives(LG, k=3, relevant=relevant)["margin"].tolist() == [-1.0, -2.0, -4.0]


def test_recall_both_ways_by_hand():
    scores = np.array([[0.9, 0.1], [0.8, 0.2]])
    table = ms.recall_both_ways(scores, np.eye(2, dtype=bool), ks=(1, 5))
    assert table.loc["a→b"].tolist() == [0.5, 1.0]  # row 1 ranks column 0 first
    assert table.loc["b→a"].tolist() == [1.0, 1.0]


META = pd.DataFrame({
    "shape": ["star", "star", "plus"], "texture": ["dots", "waves", "dots"], "color": ["red", "red", "blue"],
    "names_shape": [True, True, True], "names_texture": [False, True, False], "names_color": [True, False, False],
    "caption": ["a red star", "a waved star", "a plus"],
})


def test_pair_relevance_counts_every_caption_true_of_the_image():
    rel = ms.pair_relevance(META, META, text_side=1)
    # caption 0 "a red star" is true of images 0, 1; caption 1 "a waved star" only of 1; "a plus" of 2
    np.testing.assert_array_equal(rel, [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(ms.pair_relevance(META, META, text_side=0), rel.T)


def test_pair_relevance_by_label_or_identity():
    lab = pd.DataFrame({"label": [1, 2, 1]})
    np.testing.assert_array_equal(ms.pair_relevance(lab, lab), [[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    no_labels = pd.DataFrame(index=range(2))
    np.testing.assert_array_equal(ms.pair_relevance(no_labels, no_labels), np.eye(2))


CAPS = pd.DataFrame({
    "caption": ["a star", "a plus", "something dotted", "a red thing", "a red star", "a star"],
    "shape": ["star", "plus", None, None, "star", "star"],
    "texture": [None, None, "dots", None, None, None],
    "color": [None, None, None, "red", "red", None],
})


def test_zero_shot_prompts_name_only_their_attribute():
    shape = ms.zero_shot_prompts(CAPS, "shape")
    assert shape.to_dict("list") == {"position": [0, 1], "value": ["star", "plus"], "caption": ["a star", "a plus"]}
    assert ms.zero_shot_prompts(CAPS, "color")["caption"].tolist() == ["a red thing"]


def test_zero_shot_accuracy_and_confusion_by_hand():
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    acc, matrix = ms.zero_shot(scores, ["star", "plus", "plus"], ["star", "plus"])
    assert acc == pytest.approx(2 / 3)
    np.testing.assert_array_equal(matrix, [[1, 0], [1, 1]])  # row = true, column = predicted


A = np.array([[1.0, 0.0], [0.0, 1.0]])
B = -A


def test_gap_vector_and_shift_by_hand():
    np.testing.assert_allclose(ms.gap_vector(A, B), [1.0, 1.0])  # (½, ½) − (−½, −½)
    sa, sb = ms.shift_modalities(A, B, 1.0)
    np.testing.assert_allclose(sa, [[0.5, -0.5], [-0.5, 0.5]])
    np.testing.assert_allclose(sb, [[-0.5, 0.5], [0.5, -0.5]])
    np.testing.assert_allclose(ms.gap_vector(sa, sb), 0.0, atol=1e-12)


def test_modality_gap_matches_metrics_on_normalised_points():
    from mmviz import metrics

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(20, 5)) + 2, rng.normal(size=(20, 5))
    u, v = ms.gap_space(a, "sphere"), ms.gap_space(b, "sphere")
    assert np.linalg.norm(ms.gap_vector(u, v)) == pytest.approx(metrics.modality_gap(u, v))


@pytest.mark.parametrize("geometry", ["sphere", "euclidean", "lorentz", "poincare"])
def test_shift_experiment_closes_the_gap_at_lambda_one(geometry):
    rng = np.random.default_rng(0)
    u = rng.normal(size=(16, 3)) * 0.3
    a_tan, b_tan = u + np.array([0.4, 0, 0]), u - np.array([0.4, 0, 0])  # same structure, shifted apart
    a, b = ms.from_gap_space(a_tan, geometry), ms.from_gap_space(b_tan, geometry)
    table = ms.shift_experiment(a, b, [0.0, 1.0], tau=0.1, relevant=np.eye(16, dtype=bool),
                                geometry=geometry, batch_size=8)
    assert table["gap"].iloc[0] > 0.3
    if geometry != "sphere":  # the sphere re-normalises after the shift: the means nearly meet
        assert table["gap"].iloc[1] == pytest.approx(0.0, abs=1e-9)
        assert table["r1_a_to_b"].iloc[1] == 1.0  # a pure translation apart: closing it pairs everything
    assert table["gap"].iloc[1] < 0.5 * table["gap"].iloc[0]
    assert table["loss"].iloc[1] < table["loss"].iloc[0]


def test_mean_batch_loss_uses_consecutive_batches():
    from mmviz.losses import batch as lb

    sim = np.eye(4)
    assert ms.mean_batch_loss(sim, 1.0, 2) == pytest.approx(lb.batch_loss(np.eye(2)))


def test_order_by_metadata_is_stable_and_lexicographic():
    meta = pd.DataFrame({"shape": ["b", "a", "b", "a"], "color": ["y", "y", "x", "x"]})
    assert ms.order_by(meta, ["shape"]).tolist() == [1, 3, 0, 2]
    assert ms.order_by(meta, ["shape", "color"]).tolist() == [3, 1, 2, 0]


def test_cluster_order_makes_blocks_contiguous():
    groups = np.array([0, 1, 0, 1, 0, 1])
    sim = (groups[:, None] == groups[None, :]).astype(float)
    order = ms.cluster_order(sim)
    assert sorted(order.tolist()) == list(range(6))
    assert np.abs(np.diff(groups[order])).sum() == 1  # one boundary between the two blocks


# --- pairing embeddings -------------------------------------------------------------------------

def _export() -> EmbeddingSet:
    meta = pd.DataFrame({
        "modality": ["image", "image", "image", "text", "text", "text", "caption"],
        "pair_index": [2, 0, 1, 0, 1, 3, np.nan],
        "caption": ["c2", "c0", "c1", "c0", "c1", "c3", "a star"],
    })
    points = np.arange(14, dtype=np.float32).reshape(7, 2) + 1
    return EmbeddingSet(points, meta, geometry="sphere")


def test_pairs_match_by_pair_index_and_keep_the_captions():
    pairs = sd.pairs_from_embeddings(_export())
    assert pairs.names == ("image", "text") and pairs.text_side == 1
    assert pairs.pair_index.tolist() == [0, 1]
    np.testing.assert_array_equal(pairs.a, [[3, 4], [5, 6]])  # image rows with pair_index 0, 1
    np.testing.assert_array_equal(pairs.b, [[7, 8], [9, 10]])
    assert pairs.captions["caption"].tolist() == ["a star"] and pairs.caption_points.shape == (1, 2)
    rows, cols = sd.axis_labels(pairs, np.array([1]))
    assert rows == ["image 1 · c1"]
    assert cols == ["text 1 · “c1”"]


def test_pairs_by_order_need_equal_counts():
    meta = pd.DataFrame({"modality": ["u", "u", "v"]})
    with pytest.raises(MmvizError, match="pair_index"):
        sd.pairs_from_embeddings(EmbeddingSet(np.ones((3, 2)), meta))
    with pytest.raises(MmvizError, match="two modalities"):
        sd.pairs_from_embeddings(EmbeddingSet(np.ones((3, 2)), pd.DataFrame({"x": [1, 2, 3]})))
    ok = sd.pairs_from_embeddings(EmbeddingSet(np.ones((4, 2)), pd.DataFrame({"modality": list("uuvv")})))
    assert len(ok) == 2 and ok.pair_index is None and ok.text_side is None


def test_batch_indices_are_seeded_sorted_and_capped():
    a = sd.batch_indices(100, 8, seed=1)
    assert len(a) == 8 and np.all(np.diff(a) > 0)
    np.testing.assert_array_equal(a, sd.batch_indices(100, 8, seed=1))
    assert len(sd.batch_indices(5, 8, seed=0)) == 5


def test_metadata_read_back_from_a_file_with_string_flags_and_nans():
    as_saved = META.astype(str)  # a saved export: "True"/"False" flags
    np.testing.assert_array_equal(ms.pair_relevance(as_saved, as_saved), ms.pair_relevance(META, META))
    caps = CAPS.astype(str)  # None → "None"; NaN → "nan"
    assert ms.zero_shot_prompts(caps, "shape")["caption"].tolist() == ["a star", "a plus"]
    np.testing.assert_array_equal(ms.is_missing(pd.Series(["nan", None, "x", "", "None"])), [1, 1, 0, 1, 1])


def test_recall_at_1_by_argmax_matches_the_sorting_version():
    rng = np.random.default_rng(2)
    scores, relevant = rng.normal(size=(30, 30)), rng.random((30, 30)) < 0.1
    np.fill_diagonal(relevant, True)
    table = ms.recall_both_ways(scores, relevant, ks=(1,))
    assert ms.recall_at_1(scores, relevant) == (table.iloc[0, 0], table.iloc[1, 0])


def test_pairs_survive_a_save_and_load_round_trip(tmp_path):
    from mmviz.data.embeddings_io import load_embeddings, save_embeddings

    path = tmp_path / "export.npz"
    save_embeddings(path, _export())
    pairs = sd.pairs_from_embeddings(load_embeddings(path))
    assert pairs.pair_index.tolist() == [0, 1] and pairs.geometry == "sphere"
    np.testing.assert_array_equal(pairs.b, [[7, 8], [9, 10]])
