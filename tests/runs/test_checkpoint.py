"""Checkpoints: exact round trips of weights, optimizer and RNG state; crash-safe writes."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from mmviz.errors import MmvizError
from mmviz.runs import checkpoint as ckpt
from mmviz.runs.checkpoint import (
    capture_rng_state,
    checkpoint_info,
    flatten_tensors,
    load_checkpoint,
    load_config,
    restore_rng_state,
    save_checkpoint,
    save_config,
    unflatten_tensors,
)


@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
              torch.uint8, torch.bool],
)
def test_state_round_trip_is_exact(tmp_path: Path, dtype):
    generator = torch.Generator().manual_seed(0)
    state = {
        "w": (torch.randn(3, 4, generator=generator) * 100).to(dtype),
        "scalar": torch.tensor(7).to(dtype),
        "empty": torch.zeros(0, 2, dtype=dtype),
    }
    save_checkpoint(tmp_path, state, {"step": 3})
    loaded, meta = load_checkpoint(tmp_path)
    assert meta == {"step": 3}
    assert set(loaded) == set(state)
    for name, tensor in state.items():
        assert loaded[name].dtype == dtype and torch.equal(loaded[name], tensor)


def test_checkpoint_file_holds_only_the_weights(tmp_path: Path):
    """Any safetensors reader gets exactly the model's state dict."""
    model = torch.nn.Linear(3, 2)
    save_checkpoint(tmp_path, model.state_dict(), {"step": 1, "rng": capture_rng_state()})
    assert set(load_file(tmp_path / ckpt.CHECKPOINT_FILE)) == {"weight", "bias"}


def test_tied_and_view_tensors_are_saved(tmp_path: Path):
    base = torch.arange(12.0)
    state = {"a": base, "a_again": base, "half": base[:6], "strided": base.view(3, 4).t()}
    save_checkpoint(tmp_path, state, {})
    loaded, _ = load_checkpoint(tmp_path)
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


@pytest.mark.parametrize(
    "meta",
    [
        {"step": 5, "nested": {"a": [1, 2.5, None, True, "x"], "t": (1, (2, 3))}},
        {"state": {0: {"m": torch.ones(2)}, 1: {"m": torch.zeros(3)}}, "groups": [{"params": [0, 1]}]},
        {"keys": {(1, 2): "tuple key", 3.5: "float key"}, "__tensor__": "a key that looks like a marker"},
        {"a/b": torch.ones(1), "a": {"b": torch.zeros(1)}},  # two paths that spell one tensor name
        {"np": np.float32(0.5), "npi": np.int64(3), "nan": float("nan")},
    ],
)
def test_flatten_and_unflatten_are_inverse(meta):
    skeleton, tensors = flatten_tensors(meta)
    rebuilt = unflatten_tensors(skeleton, tensors)
    assert_same(rebuilt, meta)


def assert_same(a, b) -> None:
    if isinstance(b, torch.Tensor):
        assert isinstance(a, torch.Tensor) and torch.equal(a, b)
    elif isinstance(b, dict):
        assert type(a) is dict and list(a) == list(b)
        for key in b:
            assert_same(a[key], b[key])
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(b, float) and np.isnan(b):
        assert np.isnan(a)
    else:
        assert a == b and type(a) is type(b.item() if isinstance(b, np.generic) else b)


@pytest.mark.parametrize("bad", [{1, 2}, object(), np.zeros(3)])
def test_unsupported_meta_values_name_their_place(bad):
    with pytest.raises(TypeError, match="cannot store .* at '/outer/inner'"):
        flatten_tensors({"outer": {"inner": bad}})


def make_model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.2), torch.nn.ReLU(), torch.nn.Linear(8, 2))


def train_steps(model: torch.nn.Module, optimizer: torch.optim.Optimizer, steps: int) -> None:
    """Steps whose data, dropout and shuffling all draw from the global RNGs."""
    for _ in range(steps):
        x = torch.randn(16, 4) + torch.from_numpy(np.random.standard_normal((16, 4))).float()
        x = x[torch.randperm(16)] * random.uniform(0.5, 1.5)
        loss = model(x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@pytest.mark.parametrize(
    ("optimizer_cls", "kwargs"),
    [
        (torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1}),
        (torch.optim.AdamW, {"lr": 1e-2, "amsgrad": True}),
        (torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9, "nesterov": True}),
    ],
)
def test_resume_from_checkpoint_matches_an_uninterrupted_run(tmp_path: Path, optimizer_cls, kwargs):
    torch.manual_seed(1), np.random.seed(1), random.seed(1)
    model = make_model(seed=0)
    optimizer = optimizer_cls(model.parameters(), **kwargs)
    train_steps(model, optimizer, 3)
    save_checkpoint(tmp_path, model.state_dict(),
                    {"step": 3, "optimizer": optimizer.state_dict(), "rng": capture_rng_state()})
    train_steps(model, optimizer, 2)
    uninterrupted = [p.detach().clone() for p in model.parameters()]

    torch.manual_seed(99), np.random.seed(99), random.seed(99)  # a new process would differ
    resumed = make_model(seed=5)
    resumed_optimizer = optimizer_cls(resumed.parameters(), **kwargs)
    state, meta = load_checkpoint(tmp_path)
    resumed.load_state_dict(state)
    resumed_optimizer.load_state_dict(meta["optimizer"])
    restore_rng_state(meta["rng"])
    assert meta["step"] == 3
    train_steps(resumed, resumed_optimizer, 2)
    for expected, got in zip(uninterrupted, resumed.parameters()):
        assert torch.equal(expected, got)


def test_rng_state_restores_every_generator():
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    np.random.standard_normal()  # leaves a cached Gaussian in numpy's legacy state
    state = capture_rng_state()
    first = (torch.rand(3), np.random.standard_normal(3), random.random())
    restore_rng_state(state)
    again = (torch.rand(3), np.random.standard_normal(3), random.random())
    assert torch.equal(first[0], again[0]) and np.array_equal(first[1], again[1]) and first[2] == again[2]


def test_no_checkpoint_gives_none(tmp_path: Path):
    assert load_checkpoint(tmp_path) is None and checkpoint_info(tmp_path) is None


def test_checkpoint_info_reads_the_step_only(tmp_path: Path):
    save_checkpoint(tmp_path, {"w": torch.ones(2)}, {"step": 42})
    info = checkpoint_info(tmp_path)
    assert info["step"] == 42 and info["saved"] == pytest.approx((tmp_path / ckpt.CHECKPOINT_FILE).stat().st_mtime)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize(
    "dies_at", [ckpt.PREVIOUS_TRAINING_STATE_FILE, ckpt.TRAINING_STATE_FILE, ckpt.CHECKPOINT_FILE]
)
def test_saves_that_die_midway_leave_the_last_checkpoint_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dies_at
):
    """Saves 1 and 2 succeed; save 3 dies at its rename onto ``dies_at``, then save 4 dies at the
    last rename. Loading still gives save 2, weights and meta together."""
    def save(step: int) -> None:
        save_checkpoint(tmp_path, {"w": torch.full((2,), float(step))}, {"step": step, "m": torch.tensor(step)})

    save(1), save(2)
    real_replace = os.replace

    def replace_dying_at(name: str):
        def replace(src, dst):
            if Path(dst).name == name:
                raise OSError("disk gone")
            real_replace(src, dst)
        return replace

    for step, name in ((3, dies_at), (4, ckpt.CHECKPOINT_FILE)):
        monkeypatch.setattr(os, "replace", replace_dying_at(name))
        with pytest.raises(OSError, match="disk gone"):
            save(step)
    monkeypatch.setattr(os, "replace", real_replace)
    state, meta = load_checkpoint(tmp_path)
    assert torch.equal(state["w"], torch.full((2,), 2.0)) and meta["step"] == 2 and meta["m"].item() == 2
    assert leftovers(tmp_path) == []
    save(5)
    state, meta = load_checkpoint(tmp_path)
    assert state["w"][0].item() == 5.0 and meta["m"].item() == 5


def test_mismatched_files_are_a_readable_error(tmp_path: Path):
    save_checkpoint(tmp_path, {"w": torch.ones(1)}, {"step": 1})
    other = tmp_path / "other"
    save_checkpoint(other, {"w": torch.ones(1)}, {"step": 2})
    (other / ckpt.TRAINING_STATE_FILE).replace(tmp_path / ckpt.TRAINING_STATE_FILE)
    (tmp_path / ckpt.PREVIOUS_TRAINING_STATE_FILE).unlink(missing_ok=True)
    with pytest.raises(MmvizError, match="has no matching optimizer.safetensors"):
        load_checkpoint(tmp_path)


def test_config_round_trip(tmp_path: Path):
    config = {"dataset": "toy", "lr": 0.001, "model_params": {"dim": 8}, "resume": False}
    path = save_config(tmp_path, config)
    assert path == tmp_path / "config.json" and load_config(tmp_path) == config
    assert leftovers(tmp_path) == []
