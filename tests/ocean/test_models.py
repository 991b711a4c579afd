"""The lab's encoders, its probabilistic loss and a short run through the engine."""

from __future__ import annotations

import numpy as np
import torch

from mmviz.data import ocean
from mmviz.models.registry import build_model
from mmviz.ocean import generation as gen
from mmviz.ocean.models import probabilistic_loss
from mmviz.ocean.study import evaluate_lab

PARAMS = dict(n=64, n_test=32, drifters=4, steps=3, grid=8, seed=0)


def test_the_track_encoder_ignores_the_order_of_the_drifters():
    data = ocean.load_ocean("train", **PARAMS)
    model = build_model("ocean-clip", data, dim=8, hidden=16)
    tracks = torch.from_numpy(data.modalities["tracks"][:5])
    shuffled = tracks[:, torch.tensor([2, 0, 3, 1])]
    with torch.no_grad():
        np.testing.assert_allclose(model.embed(shuffled, 0), model.embed(tracks, 0), atol=1e-6)
        # but not of where they are: another flow's tracks embed elsewhere
        assert not torch.allclose(model.embed(tracks[1:2], 0), model.embed(tracks[:1], 0))
    fields = torch.from_numpy(data.modalities["field"][:5])
    assert model.embed(fields, 1).shape == (5, 8)


def test_probabilistic_loss_matches_the_gaussian_likelihood_by_hand():
    rng = np.random.default_rng(0)
    za, zb = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    value = float(probabilistic_loss(torch.tensor(za), torch.tensor(zb)))

    def nll(x, partner):  # −f + log E_{z'~N(m, S)} e^{−½‖x − z'‖²}, averaged
        m, S = partner.mean(0), np.cov(partner, rowvar=False)
        inner = np.eye(2) + S
        f = -0.5 * ((za - zb) ** 2).sum(1)
        d = x - m
        log_z = -0.5 * np.log(np.linalg.det(inner)) - 0.5 * np.einsum("bi,ij,bj->b", d, np.linalg.inv(inner), d)
        return np.mean(-f + log_z)

    assert abs(value - 0.5 * (nll(za, zb) + nll(zb, za))) < 1e-10


def test_generation_weights_and_samples():
    w = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    pool = gen.Pool(torch.zeros(3, 2), np.arange(3 * 2 * 2 * 2, dtype=np.float32).reshape(3, 2, 2, 2),
                    np.array([0, 1, 1]))
    np.testing.assert_allclose(gen.conditional_mean(w, pool)[0], pool.truth[1])
    idx = gen.sample_indices(w, 200, np.random.default_rng(0))
    assert set(idx[0]) == {1} and set(idx[1]) == {0, 1}
    np.testing.assert_allclose(gen.effective_sample_size(w), [1.0, 2.0])
    np.testing.assert_allclose(gen.regime_probabilities(w, pool, 2), [[0, 1], [0.5, 0.5]])


def test_both_models_train_through_the_engine_and_evaluate(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path))
    from mmviz.runs.loop import load_run_model, train_run
    from mmviz.runs.store import RunStore
    from mmviz.runs.train_config import resolve_config

    store = RunStore(tmp_path)
    for model in ("ocean-clip", "ocean-prob"):
        config = resolve_config({"dataset": "ocean-drifters", "dataset_params": PARAMS, "model": model,
                                 "model_params": {"dim": 8, "hidden": 16}, "steps": 30, "batch_size": 16,
                                 "eval_every": 30, "eval_size": 32, "checkpoint_every": 30, "device": "cpu"})
        run_id = store.create_run(config, dataset=config["dataset"], model=model, total_steps=config["steps"])
        assert train_run(store, run_id) == "finished"
        metrics = store.metrics(run_id)
        names = set(metrics["name"])
        assert {"eval/r1_tracks_to_field", "eval/gen_rel_rmse", "eval/gen_regime_acc"} <= names
        trained, _ = load_run_model(store, run_id)
        train, test = ocean.load_ocean("train", **PARAMS), ocean.load_ocean("test", **PARAMS)
        ev = evaluate_lab(trained, train, test)
        assert set(ev.rel_rmse) == {"contrastive", "oi", "exact", "climatology", "analog"}
        assert ev.rel_rmse["climatology"] == 1.0 and ev.rel_rmse["exact"] < 1.0
        assert 0.0 <= ev.r1["contrastive"] <= 1.0 and ev.top5.shape == (32, 5)
