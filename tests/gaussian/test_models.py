"""Gaussian lab models: registry, losses, and training through the engine against the
closed-form references on a small config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmviz.errors import MmvizError
from mmviz.models.registry import build_model, models_for
from mmviz.runs.loop import load_run_model, train_run
from mmviz.runs.presets import get_preset, preset_configs
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config

MODELS = ("gauss-cosine", "gauss-l2", "gauss-dot", "gauss-prob")
SMALL = {"du": 6, "dv": 5, "k": 2, "rho_max": 0.9, "decay": 0.6, "noise": 0.3, "n": 40000, "n_test": 600}


def small_run(model: str, steps: int = 400, **model_params) -> dict:
    return {"dataset": "gaussian", "dataset_params": SMALL, "model": model,
            "model_params": {"dim": 2, **model_params}, "steps": steps, "batch_size": 256, "lr": 0.1,
            "weight_decay": 0.0, "warmup_steps": 20, "eval_every": steps, "eval_size": 600,
            "log_every": 50, "checkpoint_every": steps, "threads": 1, "device": "cpu"}


def train(store: RunStore, config: dict) -> tuple[str, dict[str, float]]:
    config = resolve_config(config)
    run_id = store.create_run(config, dataset="gaussian", model=config["model"], total_steps=config["steps"])
    assert train_run(store, run_id) == "finished", store.get_run(run_id)["error"]
    latest = store.latest_metrics(run_id)
    return run_id, {k[5:]: v["value"] for k, v in latest.items() if k.startswith("eval/")}


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "home")


def test_registered_for_gaussian_only():
    assert set(MODELS) <= {m.name for m in models_for("gaussian")}
    assert not set(MODELS) & {m.name for m in models_for("trifeature-captions")}
    with pytest.raises(MmvizError, match="cannot train"):
        resolve_config({"dataset": "digits", "model": "gauss-l2"})
    with pytest.raises(MmvizError, match="linear encoders"):
        resolve_config({"dataset": "gaussian", "model": "gauss-prob", "model_params": {"encoder": "mlp"}})
    assert len(preset_configs("gauss-tilts")) == 3 and get_preset("gauss-l2-direction")


@pytest.mark.parametrize("name", MODELS)
def test_loss_and_gradients(name):
    from mmviz.models.encoders import ModalitySpec

    model = build_model(name, (ModalitySpec("u", "vector", (6,)), ModalitySpec("v", "vector", (5,))), dim=3)
    a, b = torch.randn(32, 6), torch.randn(32, 5)
    model.set_marginals(a, b)
    out = model(a, b)
    out["loss"].backward()
    assert torch.isfinite(out["loss"])
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.encoders.parameters())
    assert model.geometry_name == ("sphere" if name == "gauss-cosine" else "euclidean")


@pytest.mark.slow
def test_probabilistic_l2_reaches_the_reference(store):
    """Training through the engine lands within a few degrees / percent of the closed form."""
    _, both = train(store, small_run("gauss-prob"))
    assert both["angle_u_max"] < 5.0 and both["angle_v_max"] < 5.0
    assert both["form_rel_err"] < 0.05
    _, one = train(store, small_run("gauss-prob", direction="v|u"))
    assert one["form_rel_err"] < 0.05
    assert one["cond_cov_rel_err"] < 0.03  # the one-sided L2 tilt reproduces the conditional
    assert both["cond_cov_rel_err"] > 2 * one["cond_cov_rel_err"]  # the symmetric one cannot


@pytest.mark.slow
def test_infonce_tilts_and_generation(store):
    """InfoNCE with the L2 tilt finds the subspace; the cosine tilt finds it too but not the
    conditional covariance; a stored run reloads and generates from its learned conditional."""
    run_l2, l2 = train(store, small_run("gauss-l2", steps=300))
    assert l2["angle_u_max"] < 8.0 and l2["form_rel_err"] < 0.1
    run_cos, cos = train(store, small_run("gauss-cosine", steps=300))
    assert cos["angle_u_max"] < 10.0 and "form_rel_err" not in cos
    assert cos["cond_cov_rel_err"] > 0.1
    rng = np.random.default_rng(0)
    for run_id in (run_l2, run_cos):
        model, config = load_run_model(store, run_id)
        from mmviz.data.registry import load

        test = load("gaussian", "test", **config["dataset_params"])
        truth = test.extras["model"]
        u0 = test.modalities["u"][0].astype(np.float64)
        draws = model.generate(u0, 2000, rng, test.modalities["v"].astype(np.float64))
        assert draws.shape == (2000, 5)
        true_mean = truth.cond_mean_v_given_u(u0[None])[0]
        spread = np.sqrt(np.trace(truth.cov_vv))
        assert np.linalg.norm(draws.mean(0) - true_mean) < 0.5 * spread


def test_mlp_encoders_are_compared_through_importance_sampling():
    from mmviz.data.registry import load
    from mmviz.gaussian.models import compare

    test = load("gaussian", "test", **SMALL)
    model = build_model("gauss-l2", test, dim=2, encoder="mlp")
    u, v = (torch.as_tensor(test.modalities[m]) for m in ("u", "v"))
    model.set_marginals(u, v)
    out = compare(model, test.extras["model"], test.modalities["u"], test.modalities["v"])
    assert "angle_u_max" not in out and "form_rel_err" not in out
    assert np.isfinite(out["cond_mean_rel_err"]) and out["cond_cov_rel_err"] > 0
    assert model.gaussian_conditional() is None


@pytest.mark.slow
def test_tilts_on_digits_retrieve_and_classify(store):
    """The L2 tilt on digits ↔ captions learns retrieval; classification as retrieval agrees with
    the engine's zero-shot metric, then a fine-tuning step over the class captions lowers its loss
    and raises the accuracy."""
    from mmviz.data.registry import load
    from mmviz.gaussian.models import classification_accuracy, finetune_classifier
    from mmviz.gaussian.presets import digits_run

    config = resolve_config({**digits_run("l2", "l2", steps=150), "device": "cpu", "threads": 1,
                             "eval_every": 150})
    run_id = store.create_run(config, dataset="digits", model="tilt", total_steps=150)
    assert train_run(store, run_id) == "finished", store.get_run(run_id)["error"]
    latest = {k: v["value"] for k, v in store.latest_metrics(run_id).items()}
    assert latest["eval/r1_image_to_text"] > 0.3 and latest["eval/zeroshot_label"] > 0.3  # chance: 0.1
    model, config = load_run_model(store, run_id)
    assert model.geometry_name == "euclidean"
    data = load("digits", "test", **config["dataset_params"])
    images, labels = torch.tensor(data.modalities["image"]), torch.tensor(data.metadata["label"].to_numpy())
    prompts = torch.tensor(data.extras["prompts"])
    before = classification_accuracy(model, images, labels, prompts)
    # The engine scores the same 360 test images by the same argmax (eval_size covers the split),
    # so the two agree up to float32 rounding of the mean, not merely "both above chance".
    assert before == pytest.approx(latest["eval/zeroshot_label"], abs=1e-6)
    losses = finetune_classifier(model, images, labels, prompts, steps=60)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    # Fine-tuning on these labelled images must help, not merely "not hurt by more than 2 points":
    # seeded, it goes 287 → 311 of 360 (+6.7 points; 30 steps changed no prediction at all). The
    # +4 point bound leaves room for another CPU/BLAS, and fails if fine-tuning does nothing or harm.
    after = classification_accuracy(model, images, labels, prompts)
    assert after >= before + 0.04, (before, after)
