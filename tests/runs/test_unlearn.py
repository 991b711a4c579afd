"""Child runs and unlearning: a child starts from its parent's weights and never touches the
parent; the unlearning trainer logs forget/retain accuracy; the losses do what they say."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from mmviz.data.captions import attribute_token_ids
from mmviz.data.registry import load
from mmviz.errors import ConfigError, MmvizError
from mmviz.models.registry import build_model, model_inputs
from mmviz.runs.lineage import child_config, children, load_parent_weights, negation_changes
from mmviz.runs.loop import load_run_model, train_run
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config
from mmviz.runs.unlearn import forget_log_probs, relabel_tokens, unlearn_config, unlearning_loss
from mmviz.runs.unlearn_params import resolve_unlearn

DATA = {"n": 400, "n_test": 200, "size": 16}
PARENT = {"name": "tiny parent", "dataset": "trifeature-captions", "dataset_params": DATA, "model": "clip",
          "model_params": {"dim": 8, "cnn_widths": "8,8", "text_width": 16, "mlp_hidden": 16}, "steps": 4,
          "batch_size": 32, "eval_every": 4, "eval_size": 200, "checkpoint_every": 4, "warmup_steps": 1,
          "device": "cpu", "threads": 1}


def _train(store: RunStore, config: dict) -> str:
    config = resolve_config(config)
    run_id = store.create_run(config, dataset=config["dataset"], model=config["model"],
                              total_steps=config["steps"], status="running")
    assert train_run(store, run_id) == "finished", store.get_run(run_id)["error"]
    return run_id


def _fingerprint(store: RunStore, run_id: str) -> dict:
    folder = store.home / run_id
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}
    row = store.get_run(run_id)
    return {"files": files, "metrics": store.metrics(run_id).to_dict("list"),
            "row": {k: row[k] for k in ("status", "step", "config", "finished")}}


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("lineage"))
    return store, _train(store, PARENT)


def test_unlearning_leaves_the_parent_untouched_and_logs_forget_and_retain(parent):
    store, parent_id = parent
    before = _fingerprint(store, parent_id)
    config = unlearn_config(store, parent_id, concept="color:red", method="npo", steps=6)
    config.update(threads=1, eval_every=3)
    child_id = _train(store, config)
    assert _fingerprint(store, parent_id) == before
    assert [r["id"] for r in children(store, parent_id)] == [child_id]
    assert store.get_run(child_id)["config"]["parent"] == parent_id
    history = store.metrics(child_id)
    forget = history[history.name == "eval/forget_acc"]
    assert forget.step.tolist() == [0, 3, 6] and forget.value.between(0, 1).all()
    assert set(history.name) >= {"eval/retain_acc", "train/forget", "train/retain", "eval/r1_image_to_text"}
    # the first forget/retain evaluation is the parent's own accuracy: the child started from its weights
    parent_model, _ = load_run_model(store, parent_id)
    child_first = history[(history.name == "train/forget_nll")].value.iloc[0]
    assert np.isfinite(child_first)
    assert not torch.equal(next(parent_model.parameters()), next(load_run_model(store, child_id)[0].parameters()))


def test_a_negation_child_grows_the_vocabulary_and_keeps_the_old_rows(parent):
    store, parent_id = parent
    config = child_config(store, parent_id, name="neg", **{**negation_changes(steps=2), "eval_every": 2})
    config.update(threads=1, batch_size=32)
    test = load("trifeature-captions", "test", **{**DATA, "negation": 0.3})
    grown = build_model("clip", model_inputs(test), **resolve_config(config)["model_params"])
    load_parent_weights(grown, store, parent_id)
    parent_model, _ = load_run_model(store, parent_id)
    old = parent_model.encoders[1][0].embed.weight
    new = grown.encoders[1][0].embed.weight
    assert new.shape[0] == old.shape[0] + 3
    assert torch.equal(new[: old.shape[0]], old)
    _train(store, config)


def test_a_child_must_keep_its_parents_model(parent):
    store, parent_id = parent
    other = build_model("clip", load("trifeature-captions", "test", **DATA), dim=4, cnn_widths="8,8")
    with pytest.raises(MmvizError, match="keeps its parent's model"):
        load_parent_weights(other, store, parent_id)


def test_configs_are_checked_before_a_run_exists():
    with pytest.raises(ConfigError, match="needs a parent"):
        resolve_config({**PARENT, "unlearn": {"concept": "color:red"}})
    with pytest.raises(ConfigError, match="method"):
        resolve_config({**PARENT, "parent": "x", "unlearn": {"method": "forget-harder"}})
    assert resolve_unlearn({})["method"] == "graddiff"


def _toy_batch(n: int = 6, n_forget: int = 2):
    torch.manual_seed(0)
    test = load("trifeature-captions", "test", **DATA)
    model = build_model("clip", test, dim=8, cnn_widths="8,8", text_width=16)
    a = torch.as_tensor(test.modalities["image"][:n])
    b = torch.as_tensor(test.modalities["text"][:n])
    return model, model.embed(a, 0), model.embed(b, 1), n_forget


def test_graddiff_ascends_the_forget_pairs_and_npo_starts_as_its_scaled_copy():
    model, za, zb, nf = _toy_batch()
    settings = resolve_unlearn({"method": "graddiff", "retain_weight": 2.0})
    out = unlearning_loss(model, za, zb, nf, settings)
    log_p = forget_log_probs(model, za, zb, nf)
    retain = model.loss(za[nf:], zb[nf:])["loss"]
    torch.testing.assert_close(out["loss"], log_p.mean() + 2.0 * retain)
    # NPO at the parent's own weights: (2/β) softplus(0) = (2/β) log 2, and its gradient is GradDiff's
    npo = unlearning_loss(model, za, zb, nf, resolve_unlearn({"method": "npo", "beta": 0.5}), log_p.detach())
    torch.testing.assert_close(npo["forget"], torch.tensor(4.0 * float(np.log(2.0))))
    g_npo = torch.autograd.grad(npo["forget"], model.logit_scale, retain_graph=True)[0]
    g_ga = torch.autograd.grad(out["forget"], model.logit_scale, retain_graph=True)[0]
    torch.testing.assert_close(g_npo, g_ga)
    # once forgetting stops, only the retain term is left
    off = unlearning_loss(model, za, zb, nf, settings, forgetting=False)
    torch.testing.assert_close(off["loss"], 2.0 * retain)


def test_relabelling_swaps_only_the_concept_word():
    words = attribute_token_ids("color")
    tokens = torch.tensor([[1, words[0], 20, 2], [1, 5, 20, 2]])
    out = relabel_tokens(tokens, "color:red", np.random.default_rng(0))
    assert out[0, 1] in words[1:] and torch.equal(out[1], tokens[1])
    assert torch.equal(out[:, [0, 2, 3]], tokens[:, [0, 2, 3]])


def test_the_cli_unlearns_into_a_child_and_refuses_bad_input_in_one_line(parent, capsys):
    import json

    from mmviz.cli import main

    store, parent_id = parent
    before = _fingerprint(store, parent_id)
    assert main(["unlearn", parent_id, "--concept", "shape:star", "--method", "relabel", "--steps", "3",
                 "--home", str(store.home), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["status"] == "finished" and "eval/forget_acc" in out["metrics"]
    assert store.get_run(out["run_id"])["config"]["unlearn"]["concept"] == "shape:star"
    assert _fingerprint(store, parent_id) == before
    assert main(["unlearn", parent_id, "--concept", "colour:red", "--home", str(store.home)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unlearn: concept must be one of") and "\n" not in err
    assert main(["unlearn", "no-such-run", "--home", str(store.home)]) == 2
