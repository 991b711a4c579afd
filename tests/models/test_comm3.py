"""The three-modality models: CoMM n = 3's masked views each see exactly one modality, its loss
against a hand computation for n = 3, the alignment baselines' terms, and a run through the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmviz.data import load
from mmviz.losses import symmetric_info_nce
from mmviz.losses.comm import comm_loss
from mmviz.models import comm3 as comm3_module
from mmviz.models.registry import build_model, models_for
from tests.models.test_comm import _hand_nt_xent

TINY = {"dim": 16, "cnn_widths": "8,16", "tone_widths": "8,16"}
TINY_COMM = {**TINY, "fusion_width": 16, "head_hidden": 32}


@pytest.fixture(scope="module")
def triples():
    return load("trifeature-triples", "train", n_train=16, n_test=16, size=16)


def _batch(data, n=8):
    t = data.torch_dataset().tensors
    return t["image1"][:n], t["image2"][:n], t["tone"][:n]


def test_comm_loss_for_three_modalities_against_a_hand_computation():
    """n = 3: the mean of 4 terms, L(Z′, Z″) and ½(L(Z_i′, Z″) + L(Z_i″, Z′)) for i = 1, 2, 3."""
    z = {k: np.array(v, dtype=np.float64) for k, v in {
        "f1": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "f2": [[0.9, 0.1], [0.2, 1.0], [1.0, 0.7]],
        "a1": [[1.0, 0.2], [0.1, 0.8], [0.5, 1.0]], "a2": [[0.7, -0.1], [0.0, 1.0], [1.0, 1.2]],
        "b1": [[0.3, 1.0], [1.0, 0.0], [1.0, -1.0]], "b2": [[1.0, 0.5], [-0.4, 1.0], [0.6, 0.6]],
        "c1": [[-1.0, 0.2], [0.5, 0.5], [0.0, 1.0]], "c2": [[1.0, 0.0], [0.0, -1.0], [0.8, 0.8]],
    }.items()}
    t = {k: torch.tensor(v) for k, v in z.items()}
    out = comm_loss(t["f1"], t["f2"], [t["a1"], t["b1"], t["c1"]], [t["a2"], t["b2"], t["c2"]], 10.0)
    views = _hand_nt_xent(z["f1"], z["f2"], 0.1)
    terms = [0.5 * (_hand_nt_xent(z[m + "1"], z["f2"], 0.1) + _hand_nt_xent(z[m + "2"], z["f1"], 0.1))
             for m in "abc"]
    assert float(out["views"]) == pytest.approx(views, rel=1e-12)
    for i, term in enumerate(terms):
        assert float(out[f"modality_{i + 1}"]) == pytest.approx(term, rel=1e-12)
    assert float(out["loss"]) == pytest.approx((views + sum(terms)) / 4, rel=1e-12)


def _captured(model, batch, monkeypatch):
    seen = {}

    def spy(full1, full2, masked1, masked2, scale, **kw):
        seen.update(full1=full1, masked1=masked1, masked2=masked2)
        return comm_loss(full1, full2, masked1, masked2, scale, **kw)

    monkeypatch.setattr(comm3_module, "comm_loss", spy)
    torch.manual_seed(7)  # the same augmentations every time
    out = model(*batch)
    return seen, out


def test_every_masked_view_sees_exactly_one_modality(triples, monkeypatch):
    torch.manual_seed(0)
    model = build_model("comm3", triples, **TINY_COMM)
    batch = _batch(triples)
    base, _ = _captured(model, batch, monkeypatch)
    assert len(base["masked1"]) == len(base["masked2"]) == 3
    for changed in range(3):
        other = list(batch)
        other[changed] = torch.flip(other[changed], dims=[0])  # another input for every example
        seen, _ = _captured(model, other, monkeypatch)
        assert not torch.allclose(seen["full1"], base["full1"])
        for view in range(3):
            for aug in ("masked1", "masked2"):
                same = torch.equal(seen[aug][view], base[aug][view])
                assert same == (view != changed), (changed, view, aug)
    # the fused sequence a masked view feeds the transformer is [CLS] + one modality's g² tokens
    lengths = []
    hook = model.fusion.register_forward_pre_hook(lambda mod, args: lengths.append(args[0].shape[1]))
    model(*batch)
    hook.remove()
    assert lengths == [1 + 3 * 4, 1 + 4]


def test_the_ablation_drops_the_chosen_modality_terms(triples):
    torch.manual_seed(0)
    none = build_model("comm3", triples, **TINY_COMM, masked_terms="")
    out = none(*_batch(triples))
    assert set(out) == {"loss", "views", "contrastive"} and torch.equal(out["loss"], out["views"])
    torch.manual_seed(0)
    some = build_model("comm3", triples, **TINY_COMM, masked_terms="1,3")
    out = some(*_batch(triples))
    assert set(out) == {"loss", "views", "contrastive", "modality_1", "modality_3"}
    parts = (out["views"] + out["modality_1"] + out["modality_3"]).detach()
    assert float(out["loss"].detach()) == pytest.approx(float(parts) / 3, rel=1e-6)
    with pytest.raises(Exception, match="masked_terms"):
        build_model("comm3", triples, **TINY_COMM, masked_terms="1,4")


@pytest.mark.parametrize("name,pairs", [("pairwise3", ["pair_12", "pair_13", "pair_23"]),
                                        ("anchor3", ["pair_12", "pair_13"])])
def test_alignment_baselines_sum_infonce_over_their_pairs(triples, name, pairs):
    torch.manual_seed(0)
    model = build_model(name, triples, **TINY).eval()
    batch = _batch(triples)
    with torch.no_grad():
        out = model(*batch)
        z = [model.embed(x, side) for side, x in enumerate(batch)]
    assert sorted(k for k in out if k.startswith("pair_")) == pairs
    for key in pairs:
        i, j = int(key[5]) - 1, int(key[6]) - 1
        logits = model.scale() * z[i] @ z[j].T
        assert float(out[key]) == pytest.approx(float(symmetric_info_nce(logits, logits.T)), rel=1e-5)
    assert float(out["loss"]) == pytest.approx(sum(float(out[k]) for k in pairs), rel=1e-6)


def test_anchor_can_be_the_tone(triples):
    model = build_model("anchor3", triples, **TINY, anchor="tone")
    assert model.aligned_pairs() == [(0, 2), (1, 2)]


@pytest.mark.parametrize("name", ["comm3", "pairwise3", "anchor3"])
def test_models_train_a_step_on_fresh_renders(triples, name):
    from mmviz.data.registry import view_renderer

    torch.manual_seed(0)
    model = build_model(name, triples, **(TINY_COMM if name == "comm3" else TINY))
    fresh = view_renderer("trifeature-triples")(triples, np.arange(8), model.rendered_views, np.random.default_rng(0))
    batch = [torch.from_numpy(fresh[m]) for m in ("image1", "image2", "tone")]
    out = model(*batch)
    out["loss"].backward()
    assert math.isfinite(out["loss"].item())
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    feats = model.probe_features(*_batch(triples))
    assert feats.shape[0] == 8 and np.isfinite(feats).all()
    z = model.embed(_batch(triples)[0], 0)
    assert torch.allclose(z.norm(dim=1), torch.ones(8), atol=1e-5)


def test_registry_lists_them_for_triples_only(triples):
    names = [m.name for m in models_for("trifeature-triples")]
    assert {"comm3", "pairwise3", "anchor3", "clip"} <= set(names)
    assert "comm3" not in [m.name for m in models_for("trifeature-pairs")]
    pairs = load("trifeature-pairs", "train", n_train=16, n_test=16, size=16)
    with pytest.raises(Exception, match="modalities"):
        build_model("comm3", pairs, **TINY_COMM)


@pytest.mark.slow
def test_comm3_trains_through_the_engine_with_all_six_probes(tmp_path):
    from mmviz.runs.loop import load_run_model, train_run
    from mmviz.runs.store import RunStore
    from mmviz.runs.train_config import resolve_config

    store = RunStore(tmp_path)
    config = resolve_config({
        "dataset": "trifeature-triples", "dataset_params": {"n_train": 64, "n_test": 200, "size": 16},
        "model": "comm3", "model_params": TINY_COMM,
        "steps": 4, "batch_size": 16, "eval_every": 2, "eval_size": 64, "device": "cpu", "threads": 1,
    })
    run_id = store.create_run(config, dataset="trifeature-triples", model="comm3", total_steps=4)
    assert train_run(store, run_id) == "finished"
    latest = store.latest_metrics(run_id)
    for key in ("eval/probe_R", "eval/probe_U3", "eval/probe_S1", "eval/probe_S2", "train/modality_3",
                "eval/r1_image1_to_image2"):
        assert key in latest
    assert len(store.metrics(run_id, names=["eval/probe_S2"])) == 2
    model, _ = load_run_model(store, run_id)
    assert model.probe_features(*_batch(load("trifeature-triples", "test", n_test=16, size=16), 4)).shape == (4, 16)


def test_pair_views_see_exactly_their_two_modalities(triples, monkeypatch):
    torch.manual_seed(0)
    model = build_model("comm3", triples, **TINY_COMM, pair_views=True)
    batch = _batch(triples)
    base, out = _captured(model, batch, monkeypatch)
    assert len(base["masked1"]) == 6  # three single-modality views, then pairs 12, 13, 23
    assert {"modality_1", "modality_2", "modality_3", "modalities_12", "modalities_13", "modalities_23"} <= set(out)
    terms = [out[k] for k in ("views", "modality_1", "modality_2", "modality_3",
                              "modalities_12", "modalities_13", "modalities_23")]
    assert float(out["loss"].detach()) == pytest.approx(float(torch.stack(terms).detach().mean()), rel=1e-6)
    pair_sides = {3: (0, 1), 4: (0, 2), 5: (1, 2)}
    for changed in range(3):
        other = list(batch)
        other[changed] = torch.flip(other[changed], dims=[0])
        seen, _ = _captured(model, other, monkeypatch)
        for view, sides in pair_sides.items():
            assert torch.equal(seen["masked1"][view], base["masked1"][view]) == (changed not in sides), (changed, view)


def test_subset_features_read_only_the_kept_modalities(triples):
    torch.manual_seed(0)
    model = build_model("comm3", triples, **TINY_COMM).eval()
    batch = _batch(triples)
    with torch.no_grad():
        full = model.probe_triples(*batch)
        assert torch.equal(model.subset_features(*batch, sides=(0, 1, 2)), full)
        base = {sides: model.subset_features(*batch, sides=sides) for sides in ((0,), (1,), (0, 1), (2,))}
        for changed in range(3):
            other = list(batch)
            other[changed] = torch.flip(other[changed], dims=[0])
            for sides, before in base.items():
                after = model.subset_features(*other, sides=sides)
                assert torch.equal(after, before) == (changed not in sides), (changed, sides)
