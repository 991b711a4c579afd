"""Probe hygiene of the three-modality study: what the true labels alone let a probe do. S1
needs images 1 and 2 together, S2 all three; U1 and U2 are read where their leak is closed."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from mmviz.data import load
from mmviz.metrics import probes as P
from mmviz.metrics.triple_probes import (
    ATTRIBUTE_COLUMNS,
    CROSS_PREDICTIONS,
    MODALITY_COLUMNS,
    cross_view_predictions,
    cross_views,
    triple_probe_subsets,
    triple_probes,
)


@pytest.fixture(scope="module")
def meta():
    return load("trifeature-triples", "test", n_train=16, n_test=3000, size=16).metadata


def _products(sub, pairs):
    return P.pair_products(sub, list(pairs))


def test_subsets_close_the_leaks_and_balance_the_cells(meta):
    sub = triple_probe_subsets(meta)
    assert len(sub["R"]) == len(sub["U3"]) == len(meta)
    assert (meta.synergy12.to_numpy()[sub["U1"]] == 0).all() and (meta.synergy123.to_numpy()[sub["U2"]] == 0).all()
    s1, s2 = meta.iloc[sub["S1"]], meta.iloc[sub["S2"]]
    c1 = s1.groupby(["shape1_id", "color2_id"]).synergy12.agg(["sum", "count"])
    c2 = s2.groupby(["shape1_id", "bass_id"]).synergy123.agg(["sum", "count"])
    assert (c1["count"] == 2 * c1["sum"]).all() and (c2["count"] == 2 * c2["sum"]).all()
    assert len(s1) > 0.6 * len(meta) and len(s2) > 0.6 * len(meta)


def test_probes_read_the_labels_they_are_given(meta):
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(len(meta), 8))
    perfect = np.concatenate([P.one_hot(meta, ["share", "unique1", "unique2", "unique3"]),
                              meta[["synergy12", "synergy123"]].to_numpy(), noise], axis=1)
    out = triple_probes(perfect, meta)
    assert min(out.values()) > 0.98, out
    chance = triple_probes(noise, meta)
    for name in ("R", "U1", "U2", "U3"):
        assert abs(chance[name] - 0.1) < 0.05, chance
    assert abs(chance["S1"] - 0.5) < 0.05 and abs(chance["S2"] - 0.5) < 0.05, chance


def test_no_pair_of_modalities_gives_s2_away(meta):
    """S2 from every pairwise product of the attributes two modalities show together: ~50%, for
    each of the three pairs of modalities; a three-way quantity gives it at once."""
    s = triple_probe_subsets(meta)["S2"]
    sub, y = meta.iloc[s], meta.synergy123.to_numpy()[s]
    for m1, m2 in combinations(MODALITY_COLUMNS, 2):
        seen = sorted(set(MODALITY_COLUMNS[m1]) | set(MODALITY_COLUMNS[m2]))
        acc = P.linear_probe(_products(sub, combinations(seen, 2)), y)
        assert abs(acc - 0.5) < 0.05, (m1, m2, acc)
    sub = sub.assign(c1_t2=(sub.color1_id + sub.texture2_id) % 10)
    assert P.linear_probe(_products(sub, [("c1_t2", "bass_id")]), y) > 0.99  # the real thing


def test_s1_needs_both_images_and_nothing_else_gives_it(meta):
    s = triple_probe_subsets(meta)["S1"]
    sub, y = meta.iloc[s], meta.synergy12.to_numpy()[s]
    assert abs(P.linear_probe(P.one_hot(sub, ATTRIBUTE_COLUMNS), y) - 0.5) < 0.05
    leaks = [p for p in combinations(ATTRIBUTE_COLUMNS, 2) if set(p) != {"texture1_id", "color2_id"}]
    assert len(leaks) == 20
    assert abs(P.linear_probe(_products(sub, leaks), y) - 0.5) < 0.06
    assert P.linear_probe(_products(sub, [("texture1_id", "color2_id")]), y) > 0.99


def test_u_leaks_are_closed_where_the_probes_read(meta):
    sub = triple_probe_subsets(meta)
    # U1 (texture 1) from image 2's attributes: chance on S1 = 0, far above on every example
    image2 = list(MODALITY_COLUMNS["image2"])
    assert abs(P.linear_probe(P.one_hot(meta.iloc[sub["U1"]], image2), meta.unique1.to_numpy()[sub["U1"]]) - 0.1) < 0.04
    assert P.linear_probe(P.one_hot(meta, image2), meta.unique1.to_numpy()) > 0.4
    # U2 (texture 2) from image 1 and the tone together: chance on S2 = 0, far above on every example
    meta = meta.assign(b_c1=(meta.bass_id - meta.color1_id) % 10)
    u2 = sub["U2"]
    assert abs(P.linear_probe(P.one_hot(meta.iloc[u2], ["b_c1"]), meta.unique2.to_numpy()[u2]) - 0.1) < 0.04
    assert P.linear_probe(P.one_hot(meta, ["b_c1"]), meta.unique2.to_numpy()) > 0.4
    # U3 (rhythm) is in no relation: nothing else predicts it
    others = [c for c in ATTRIBUTE_COLUMNS if c != "rhythm_id"]
    assert abs(P.linear_probe(P.one_hot(meta, others), meta.unique3.to_numpy()) - 0.1) < 0.04


def test_cross_view_cells_read_the_other_side_of_each_relation(meta):
    """A view that knows texture 1 predicts colour 2 where S1 holds; knowing colour 1 and texture 2
    side by side does not linearly give the bass (a sum mod 10), their sum does; no image alone
    predicts the bass; the tone's own bass is read perfectly."""
    rng = np.random.default_rng(0)
    onehot = lambda *cols: np.concatenate([np.eye(10)[meta[c].to_numpy()] for c in cols], axis=1)  # noqa: E731
    noise = lambda f: f + 0.1 * rng.normal(size=f.shape)  # noqa: E731
    summed = np.eye(10)[(meta.color1_id.to_numpy() + meta.texture2_id.to_numpy()) % 10]
    features = {(0,): noise(onehot("shape1_id", "texture1_id", "color1_id")),
                (1,): noise(onehot("shape1_id", "texture2_id", "color2_id")),
                (0, 1): noise(onehot("color1_id", "texture2_id")),
                (2,): noise(onehot("shape1_id", "rhythm_id", "bass_id"))}
    assert cross_views() == tuple(features)
    out = cross_view_predictions(features, meta)
    assert [c.key for c in CROSS_PREDICTIONS] == list(out)
    assert out["1→c2"] > 0.98 and out["3→bass"] > 0.98, out
    assert abs(out["1→bass"] - 0.1) < 0.04 and abs(out["2→bass"] - 0.1) < 0.04, out
    assert out["12→bass"] < 0.25, out  # both attributes, but not their sum: a linear probe cannot add mod 10
    out = cross_view_predictions({**features, (0, 1): noise(summed)}, meta)
    assert out["12→bass"] > 0.98, out
