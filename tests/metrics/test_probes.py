"""R/U/S probes: labels, subsets, and the probe-hygiene controls of issue #13 (what the true
labels alone let a probe do, and the floor of untrained encoders)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmviz.data.trifeature_datasets import is_test_combination, load_trifeature_pairs
from mmviz.metrics import probes as P


def _test_pairs(n: int = 2048, size: int = 8, **kw):
    params = dict(n_train=16, n_test=n, size=size, seed=0, biased=True, synergy_fraction=0.5, mapping_seed=0)
    return load_trifeature_pairs("test", **{**params, **kw})


@pytest.fixture(scope="module")
def meta():
    return _test_pairs().metadata


def test_test_pairs_come_from_all_1000_combinations(meta):
    held = is_test_combination(meta.shape1_id, meta.texture1_id, meta.color1_id)
    assert 0.15 < held.mean() < 0.25  # ~200/1000 triples are the old held-out ones, the rest are not
    assert len(set(zip(meta.shape1_id, meta.texture1_id, meta.color1_id))) > 850


def test_probe_labels_and_subsets(meta):
    mapping = np.array(_test_pairs(n=16).extras["mapping"])
    assert np.array_equal(meta.synergy, (mapping[meta.texture1_id] == meta.color2_id).astype(int))
    sub = P.probe_subsets(meta)
    assert len(sub["R"]) == len(meta)
    assert (meta.synergy.to_numpy()[sub["U"]] == 0).all() and len(sub["U"]) == 1024
    s = meta.iloc[sub["S"]]
    counts = s.groupby(["shape1_id", "color2_id"]).synergy.agg(["sum", "count"])
    assert (counts["count"] == 2 * counts["sum"]).all()  # balanced in every (shape, colour 2) cell
    assert len(s) > 0.7 * len(meta)


def test_probe_reads_the_label_it_is_given(meta):
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(len(meta), 8))
    perfect = np.concatenate([P.one_hot(meta, ["share", "unique1", "unique2"]),
                              meta.synergy.to_numpy()[:, None], noise], axis=1)
    out = P.rus_probes(perfect, meta)
    assert out["R"] > 0.98 and out["U1"] > 0.98 and out["U2"] > 0.98 and out["S"] > 0.98
    chance = P.rus_probes(noise, meta)
    assert abs(chance["R"] - 0.1) < 0.04 and abs(chance["U1"] - 0.1) < 0.05 and abs(chance["S"] - 0.5) < 0.05


def test_true_labels_do_not_give_synergy_away(meta):
    """Single attributes and every pairwise product but texture 1 × colour 2: S stays ~50%."""
    s = P.probe_subsets(meta)["S"]
    y = meta.synergy.to_numpy()[s]
    sub = meta.iloc[s]
    assert abs(P.linear_probe(P.one_hot(sub, P.ATTRIBUTE_COLUMNS), y) - 0.5) < 0.04
    assert abs(P.linear_probe(P.pair_products(sub, P.leak_pairs()), y) - 0.5) < 0.05
    assert ("texture1_id", "color2_id") not in P.leak_pairs() and len(P.leak_pairs()) == 9
    assert P.linear_probe(P.pair_products(sub, [("texture1_id", "color2_id")]), y) > 0.99  # the real thing


def test_image_2_does_not_give_texture_1_away_on_s0(meta):
    image2 = ["shape1_id", "texture2_id", "color2_id"]
    u = P.probe_subsets(meta)["U"]
    assert abs(P.linear_probe(P.one_hot(meta.iloc[u], image2), meta.unique1.to_numpy()[u]) - 0.1) < 0.03
    # the leak the S = 0 restriction removes: on S = 1 pairs colour 2 = mapping[texture 1]
    assert P.linear_probe(P.one_hot(meta, image2), meta.unique1.to_numpy()) > 0.4


@pytest.mark.slow
def test_untrained_encoders_give_the_floor():
    """An untrained cross model (random CNNs) at 32 px: R and U well below a trained model's, S ~50%."""
    from mmviz.models.registry import build_model, model_inputs

    data = _test_pairs(n=1024, size=32)
    torch.manual_seed(0)
    model = build_model("cross", model_inputs(data))
    x = data.torch_dataset().tensors
    out = P.rus_probes(model.probe_features(x["image1"], x["image2"]), data.metadata)
    assert out["R"] < 0.75 and out["U1"] < 0.45 and abs(out["S"] - 0.5) < 0.07, out


def test_probe_nan_when_a_class_is_too_small():
    assert np.isnan(P.linear_probe(np.zeros((3, 2)), np.array([0, 0, 1])))
    assert np.isnan(P.linear_probe(np.zeros((4, 2)), np.zeros(4, int)))
