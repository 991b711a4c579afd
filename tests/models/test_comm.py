"""CoMM, cross and cross-self: label-preserving views, masked views that carry nothing of the
masked modality, the loss against a hand computation, and a tiny run through the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmviz.data.trifeature import BACKGROUND, COLOR_RGB
from mmviz.data.trifeature_datasets import load_trifeature_pairs
from mmviz.errors import MmvizError
from mmviz.losses.comm import comm_loss, nt_xent
from mmviz.models import comm as comm_module
from mmviz.models.comm_views import augment
from mmviz.models.registry import (
    build_model,
    model_inputs,
    models_for,
    resolve_model_params,
    with_legacy_params,
)


@pytest.fixture(scope="module")
def pairs():
    return load_trifeature_pairs("train", n_train=16, n_test=16, size=16, seed=0, biased=True,
                                 synergy_fraction=0.5, mapping_seed=0)


def _batch(data, n=8):
    t = data.torch_dataset().tensors
    return t["image1"][:n], t["image2"][:n]


# --- views -------------------------------------------------------------------------------------

def test_augment_keeps_every_pixel_value_without_shift(pairs):
    images = _batch(pairs)[0]
    torch.manual_seed(0)
    views = augment(images, max_shift=0)
    assert views.shape == images.shape and views.dtype == torch.uint8
    assert not torch.equal(views, images)  # it did something
    for v, x in zip(views, images):  # a rotation/flip permutes pixels: same multiset, exact colours
        assert torch.equal(v.flatten(1).sort(dim=1).values, x.flatten(1).sort(dim=1).values)


def test_augment_shift_brings_in_only_background(pairs):
    images = _batch(pairs)[0]
    torch.manual_seed(1)
    views = augment(images, max_shift=3)
    for v, x in zip(views, images):
        colours = {tuple(p) for p in x.flatten(1).T.tolist()} | {(BACKGROUND,) * 3}
        assert {tuple(p) for p in v.flatten(1).T.tolist()} <= colours


def test_gray_option_turns_that_fraction_grey(pairs):
    images = _batch(pairs, 16)[0]
    torch.manual_seed(2)
    grey = augment(images, max_shift=0, gray_prob=1.0)
    assert torch.equal(grey[:, 0], grey[:, 1]) and torch.equal(grey[:, 1], grey[:, 2])
    assert torch.equal(augment(images, max_shift=0, gray_prob=0.0).sum(), images.sum())


# --- masking -----------------------------------------------------------------------------------

def _captured_forward(model, a, b, monkeypatch):
    seen = {}

    def spy(full1, full2, masked1, masked2, scale, **kw):
        seen.update(full1=full1, full2=full2, masked1=masked1, masked2=masked2)
        return comm_loss(full1, full2, masked1, masked2, scale, **kw)

    monkeypatch.setattr(comm_module, "comm_loss", spy)
    torch.manual_seed(123)  # the same augmentations both times
    model(a, b)
    return seen


def test_masked_view_carries_nothing_of_the_masked_modality(pairs, monkeypatch):
    torch.manual_seed(0)
    model = build_model("comm", pairs, dim=16, cnn_widths="8,16", fusion_width=16, head_hidden=32)
    a, b = _batch(pairs)
    other_b = torch.flip(b, dims=[0])  # a different image 2 for every pair
    first = _captured_forward(model, a, b, monkeypatch)
    second = _captured_forward(model, a, other_b, monkeypatch)
    # modality 1's masked views (index 0 of each augmentation's list) do not change when
    # image 2 does ...
    for aug in ("masked1", "masked2"):
        assert torch.equal(first[aug][0], second[aug][0])
    # ... while the fused views and modality 2's masked views do
    assert not torch.allclose(first["full1"], second["full1"])
    assert not torch.allclose(first["masked1"][1], second["masked1"][1])
    # no gradient path either: d(masked view of 1)/d(tokens of 2) does not exist
    ta = model.tokens(a, 0)
    tb = model.tokens(b, 1).detach().requires_grad_(True)
    assert torch.autograd.grad(model.fuse(ta, tb).sum(), tb)[0].abs().sum() > 0
    assert torch.autograd.grad(model.fuse(ta).sum(), tb, allow_unused=True)[0] is None
    assert torch.equal(model.features(a, 0), model.head(model.fuse(model.tokens(a, 0))))


def test_ablation_has_only_the_two_view_term(pairs):
    torch.manual_seed(0)
    model = build_model("comm", pairs, dim=16, cnn_widths="8,16", fusion_width=16, modality_terms=False)
    out = model(*_batch(pairs))
    assert set(out) == {"loss", "views", "contrastive"}
    assert torch.equal(out["loss"], out["views"])


# --- losses ------------------------------------------------------------------------------------

def _hand_nt_xent(z1: np.ndarray, z2: np.ndarray, tau: float) -> float:
    """SimCLR's loss written out row by row."""
    z = np.concatenate([z1 / np.linalg.norm(z1, axis=1, keepdims=True),
                        z2 / np.linalg.norm(z2, axis=1, keepdims=True)])
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        pos = (i + n) % (2 * n)
        denom = sum(math.exp(z[i] @ z[k] / tau) for k in range(2 * n) if k != i)
        total += -math.log(math.exp(z[i] @ z[pos] / tau) / denom)
    return total / (2 * n)


def test_nt_xent_matches_a_hand_computation():
    z1 = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    z2 = np.array([[0.8, 0.6], [-1.0, 1.0], [1.0, -0.5]])
    got = float(nt_xent(torch.tensor(z1), torch.tensor(z2), scale=10.0))
    assert got == pytest.approx(_hand_nt_xent(z1, z2, 0.1), rel=1e-9)
    # two samples, orthogonal views, τ = 1: row 0 scores (self excluded) [0, 1, 0] vs positive 1
    e = math.e
    two = float(nt_xent(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), 1.0))
    assert two == pytest.approx(-math.log(e / (1 + e + 1)))


def _reference_nt_xent(z1: np.ndarray, z2: np.ndarray, tau: float) -> float:
    """NT-Xent as CoMM's code defines it: the 2N × 2N block matrix [[z1·z2, z1·z1], [z2·z2, z2·z1]]/τ
    with the self-similarities pushed to −∞, log-softmax over each row, the mean of minus its
    diagonal (which holds each row's positive)."""
    z1 = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
    z2 = z2 / np.linalg.norm(z2, axis=1, keepdims=True)
    n = len(z1)
    inf = 1e8 * np.eye(n)
    block = np.block([[z1 @ z2.T / tau, z1 @ z1.T / tau - inf], [z2 @ z2.T / tau - inf, z2 @ z1.T / tau]])
    log_softmax = block - np.log(np.exp(block - block.max(1, keepdims=True)).sum(1, keepdims=True)) \
        - block.max(1, keepdims=True)
    return float(-np.diag(log_softmax).mean())


def test_comm_loss_is_the_mean_of_its_terms_as_in_the_reference():
    g = torch.Generator().manual_seed(0)
    f1, f2, a1, a2, b1, b2 = (torch.randn(4, 3, generator=g, dtype=torch.float64) for _ in range(6))
    out = comm_loss(f1, f2, [a1, b1], [a2, b2], 10.0)
    expect = {
        "views": _hand_nt_xent(f1.numpy(), f2.numpy(), 0.1),
        "modality_1": 0.5 * (_hand_nt_xent(a1.numpy(), f2.numpy(), 0.1) + _hand_nt_xent(a2.numpy(), f1.numpy(), 0.1)),
        "modality_2": 0.5 * (_hand_nt_xent(b1.numpy(), f2.numpy(), 0.1) + _hand_nt_xent(b2.numpy(), f1.numpy(), 0.1)),
    }
    for key, value in expect.items():
        assert float(out[key]) == pytest.approx(value, rel=1e-9)
    # CoMMLoss.forward: for each of the n + 1 embeddings (the fused one last here), the mean of
    # InfoNCE(aug1_i, aug2_fused) and InfoNCE(aug2_i, aug1_fused); then the mean over the n + 1.
    ref = np.mean([
        0.5 * (_reference_nt_xent(x1.numpy(), f2.numpy(), 0.1) + _reference_nt_xent(x2.numpy(), f1.numpy(), 0.1))
        for x1, x2 in ((a1, a2), (b1, b2), (f1, f2))])
    assert float(out["loss"]) == pytest.approx(ref, rel=1e-9)
    # mmviz's old reduction, kept for stored runs, is exactly 3× with two modalities
    summed = comm_loss(f1, f2, [a1, b1], [a2, b2], 10.0, reduction="sum")
    assert float(summed["loss"]) == pytest.approx(3 * ref, rel=1e-9)
    assert float(summed["loss"]) == pytest.approx(sum(expect.values()), rel=1e-9)
    with pytest.raises(ValueError, match="reduction"):
        comm_loss(f1, f2, None, None, 10.0, reduction="max")


def test_comm_gradients_are_a_third_of_the_summed_form():
    g = torch.Generator().manual_seed(1)
    leaves = [torch.randn(5, 4, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(6)]
    f1, f2, a1, a2, b1, b2 = leaves
    mean = torch.autograd.grad(comm_loss(f1, f2, [a1, b1], [a2, b2])["loss"], leaves)
    summed = torch.autograd.grad(comm_loss(f1, f2, [a1, b1], [a2, b2], reduction="sum")["loss"], leaves)
    for m, s in zip(mean, summed):
        torch.testing.assert_close(3 * m, s, rtol=1e-12, atol=1e-15)


def test_cross_self_cross_term_is_nt_xent_as_in_the_reference(pairs, monkeypatch):
    torch.manual_seed(0)
    model = build_model("cross-self", pairs, dim=16, cnn_widths="8,16", head_hidden=32)
    calls = []

    def spy(z1, z2, scale=10.0):
        calls.append((z1.detach().double().numpy(), z2.detach().double().numpy()))
        return nt_xent(z1, z2, scale)

    monkeypatch.setattr(comm_module, "nt_xent", spy)
    out = model(*_batch(pairs))
    za, zb = calls[0]  # the cross term comes first, then each modality's SimCLR term
    assert len(calls) == 3 and za.shape == zb.shape == (len(_batch(pairs)[0]), 16)
    assert float(out["contrastive"].detach()) == pytest.approx(_reference_nt_xent(za, zb, 0.1), rel=1e-5)
    # CLIP's two-way InfoNCE on the same embeddings (mmviz's old cross term) is another number:
    # its rows have B − 1 negatives from the other modality, NT-Xent's 2B − 2 from both
    clip = comm_module.symmetric_info_nce(torch.tensor(za @ zb.T / 0.1), torch.tensor(zb @ za.T / 0.1))
    assert float(clip) < _reference_nt_xent(za, zb, 0.1) - 0.1


def test_stored_pairs_runs_keep_the_forms_they_were_trained_with():
    assert with_legacy_params("comm", {})["loss_reduction"] == "sum"
    assert with_legacy_params("cross-self", {})["cross_loss"] == "clip"
    assert with_legacy_params("comm", {"loss_reduction": "mean"})["loss_reduction"] == "mean"
    assert resolve_model_params("comm", {})["loss_reduction"] == "mean"
    assert resolve_model_params("cross-self", {})["cross_loss"] == "nt-xent"


# --- models ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cross", "cross-self", "comm"])
def test_models_train_a_step_and_embed_on_the_sphere(pairs, name):
    torch.manual_seed(0)
    model = build_model(name, model_inputs(pairs), dim=16, cnn_widths="8,16")
    a, b = _batch(pairs)
    out = model(a, b)
    assert all(torch.isfinite(v) for v in out.values()) and "contrastive" in out
    out["loss"].backward()
    assert model.scalars()["temperature"] == pytest.approx(0.1)
    model.eval()
    z = model.embed(a, 0)
    assert z.shape == (8, 16) and torch.allclose(z.norm(dim=1), torch.ones(8), atol=1e-5)
    feats = model.probe_features(a, b)
    assert feats.shape[0] == 8 and np.isfinite(feats).all()


def test_runs_stored_before_cnn_norm_load_with_group_norm(pairs, tmp_path):
    """The pairs models default to BatchNorm and rendered views now; a run stored before
    ``cnn_norm`` and ``views`` existed was trained with GroupNorm on augmentations of the stored
    images and must still load (and train again) as it was."""
    from mmviz.runs.train_config import resolve_config, resolve_stored_config

    new = resolve_config({"dataset": "trifeature-pairs", "model": "comm"})
    assert new["model_params"]["cnn_norm"] == "batch"
    old = {**new, "model_params": {k: v for k, v in new["model_params"].items() if k not in ("cnn_norm", "views")}}
    assert resolve_stored_config(old)["model_params"]["cnn_norm"] == "group"
    assert resolve_stored_config(new)["model_params"]["cnn_norm"] == "batch"
    # and on augmentations of the stored images, before fresh renders existed
    assert new["model_params"]["views"] == "render"
    assert resolve_stored_config(old)["model_params"]["views"] == "augment"
    clip = resolve_config({"dataset": "trifeature-pairs", "model": "clip"})
    assert clip["model_params"]["cnn_norm"] == "group"  # other models keep GroupNorm
    torch.manual_seed(0)
    small = {"dim": 16, "cnn_widths": "8,16", "fusion_width": 16}
    legacy_state = build_model("comm", pairs, cnn_norm="group", **small).state_dict()
    stored = resolve_stored_config({**old, "model_params": small})
    build_model("comm", pairs, **stored["model_params"]).load_state_dict(legacy_state)  # strict
    with pytest.raises(RuntimeError, match="running_mean"):
        build_model("comm", pairs, **small).load_state_dict(legacy_state)


def test_models_take_fresh_renders_view_by_view(pairs):
    """With ``views=render`` the loop hands (B, V, C, H, W) renders: view k is the k-th render,
    augmented (a rotation or flip keeps every pixel value); in eval a view is the image itself."""
    from mmviz.data.registry import view_renderer

    small = {"dim": 16, "cnn_widths": "8,16", "max_shift": 0}
    models = {name: build_model(name, pairs, **small, **({"fusion_width": 16} if name == "comm" else {}))
              for name in ("cross", "cross-self", "comm")}
    assert {n: m.rendered_views for n, m in models.items()} == {"cross": 1, "cross-self": 2, "comm": 2}
    assert build_model("cross-self", pairs, views="augment", **small).rendered_views == 0
    fresh = view_renderer("trifeature-pairs")(pairs, np.arange(8), 2, np.random.default_rng(0))
    a, b = torch.from_numpy(fresh["image1"]), torch.from_numpy(fresh["image2"])
    comm = models["comm"].train()
    for k in range(2):
        view = comm.view(a, k)
        assert view.shape == (8, 3, 16, 16)
        assert torch.equal(view.flatten(1).sort(1).values, a[:, k].flatten(1).sort(1).values)
        assert not torch.equal(view.flatten(1).sort(1).values, a[:, 1 - k].flatten(1).sort(1).values)
    for model in models.values():
        out = model.train()(a, b)
        assert torch.isfinite(out["loss"])
    comm.eval()
    assert torch.equal(comm.view(a[:, 0], 0), a[:, 0])


def test_probes_read_the_whole_test_split_up_to_probe_pairs(monkeypatch):
    """The probes are fitted on ``probe_pairs`` test pairs, not only the evaluation's subset."""
    from mmviz.runs.evaluate import prepare_eval_set

    test = load_trifeature_pairs("test", n_train=16, n_test=96, size=16, seed=0, biased=True,
                                 synergy_fraction=0.5, mapping_seed=0)
    seen = []
    monkeypatch.setattr(comm_module, "rus_probes",
                        lambda feats, meta: seen.append((len(feats), list(meta.unique1))) or {"R": 0.5})
    ev = prepare_eval_set(test, 32)
    assert len(ev.data) == 32
    for probe_pairs, expect in ((64, 64), (4096, 96)):
        model = build_model("comm", test, dim=16, cnn_widths="8,16", fusion_width=16, probe_pairs=probe_pairs)
        out = model.extra_eval(ev, None, None, torch.device("cpu"))
        assert out["probe_R"] == 0.5 and seen[-1] == (expect, list(test.metadata.unique1[:expect]))


def test_models_only_for_trifeature_pairs():
    assert {"comm", "cross", "cross-self"} <= {m.name for m in models_for("trifeature-pairs")}
    assert "comm" not in {m.name for m in models_for("trifeature-captions")}
    from mmviz.runs.train_config import resolve_config

    with pytest.raises(MmvizError, match="cannot train on"):
        resolve_config({"dataset": "trifeature-captions", "model": "comm"})


def test_presets_resolve_with_the_same_budget():
    from mmviz.runs.presets import preset_configs

    configs = preset_configs("comm-vs-cross")
    assert [c["model"] for c in configs] == ["comm", "cross", "cross-self"]
    assert len({(c["steps"], c["batch_size"], c["dataset_params"]["biased"]) for c in configs}) == 1
    unbiased = preset_configs("comm-vs-cross-unbiased")
    assert [c["dataset_params"]["biased"] for c in unbiased] == [False] * 3
    assert {(c["steps"], c["batch_size"]) for c in unbiased} == {(configs[0]["steps"], configs[0]["batch_size"])}
    ablation = preset_configs("comm-ablation")
    assert [c["model_params"]["modality_terms"] for c in ablation] == [True, False]


@pytest.mark.slow
def test_comm_trains_through_the_engine_with_probes(tmp_path):
    from mmviz.runs.loop import load_run_model, train_run
    from mmviz.runs.store import RunStore
    from mmviz.runs.train_config import resolve_config

    store = RunStore(tmp_path)
    config = resolve_config({
        "dataset": "trifeature-pairs", "dataset_params": {"n_train": 64, "n_test": 128, "size": 16},
        "model": "comm", "model_params": {"dim": 16, "cnn_widths": "8,16", "fusion_width": 16},
        "steps": 4, "batch_size": 16, "eval_every": 2, "eval_size": 128, "device": "cpu", "threads": 1,
    })
    run_id = store.create_run(config, dataset="trifeature-pairs", model="comm", total_steps=4)
    assert train_run(store, run_id) == "finished"
    latest = store.latest_metrics(run_id)
    for key in ("eval/probe_R", "eval/probe_U1", "eval/probe_S", "train/modality_1", "train/views"):
        assert key in latest
    assert 0.0 <= latest["eval/probe_S"]["value"] <= 1.0
    assert len(store.metrics(run_id, names=["eval/probe_S"])) == 2  # steps 2 and 4
    model, _ = load_run_model(store, run_id)
    assert model.probe_features(torch.zeros(2, 3, 16, 16, dtype=torch.uint8),
                                torch.zeros(2, 3, 16, 16, dtype=torch.uint8)).shape == (2, 16)


def test_the_loop_hands_the_model_fresh_renders_of_its_batch(tmp_path):
    """views=render: each step's batch is V new renders of the pairs the batch order picks, a
    function of (seed, step); views=augment: the stored images."""
    from mmviz.runs.loop import Trainer, batch_indices
    from mmviz.runs.store import RunStore
    from mmviz.runs.train_config import resolve_config

    def trainer(views: str) -> Trainer:
        store = RunStore(tmp_path / views)
        config = resolve_config({
            "dataset": "trifeature-pairs", "dataset_params": {"n_train": 64, "n_test": 32, "size": 16},
            "model": "comm", "model_params": {"dim": 16, "cnn_widths": "8,16", "fusion_width": 16, "views": views},
            "steps": 2, "batch_size": 16, "eval_size": 32, "device": "cpu", "threads": 1})
        run_id = store.create_run(config, dataset="trifeature-pairs", model="comm", total_steps=2)
        t = Trainer(store, run_id, config, torch.device("cpu"))
        t._load_data()
        t._build()
        return t

    t = trainer("render")
    a, b = t._batch(0)
    assert a.shape == b.shape == (16, 2, 3, 16, 16) and a.dtype == torch.uint8
    assert torch.equal(t._batch(0)[1], b) and not torch.equal(t._batch(1)[0], a)
    idx = batch_indices(64, 16, 0, 0)
    rgb = torch.as_tensor(COLOR_RGB[t.train_data.metadata.color2_id.to_numpy()[idx]])[:, :, None, None]
    assert (b == rgb[:, None]).all(dim=2).flatten(2).any(dim=2).float().mean() > 0.85  # the batch's pairs (~10% if not)
    stored = torch.as_tensor(t.train_data.modalities["image2"][idx])
    assert not (b[:, 0] == stored).flatten(1).all(dim=1).any()  # new poses
    assert torch.isfinite(t._step(0)["train/loss"] * torch.ones(1)).all()
    t = trainer("augment")
    a, b = t._batch(0)
    assert a.shape == (16, 3, 16, 16) and torch.equal(b, stored)
