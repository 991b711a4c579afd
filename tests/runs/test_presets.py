"""Presets: a registry of small experiments whose configs pass the trainer's validation."""

from __future__ import annotations

import pytest

from mmviz.errors import MmvizError
from mmviz.runs import presets
from mmviz.runs.presets import Preset, get_preset, list_presets, preset_configs, register_preset


@pytest.mark.parametrize("key", [p.key for p in list_presets()])
def test_every_preset_resolves_to_small_valid_runs(key):
    configs = preset_configs(key)
    assert len(configs) >= 2
    names = [c["name"] for c in configs]
    assert len(set(names)) == len(names)
    for config in configs:
        assert config["steps"] <= 500 and config["batch_size"] <= 256  # a minute on a CPU, not an hour
        assert config["eval_every"] < config["steps"] and config["device"] == "auto"
    # a comparison changes one thing: the data, steps and seed are shared
    assert len({(c["dataset"], str(c["dataset_params"]), c["steps"], c["seed"]) for c in configs}) == 1


def test_clip_vs_meru_trains_both_models_on_trifeature_captions():
    preset = get_preset("clip-vs-meru")
    assert list_presets()[0] is preset
    configs = preset_configs("clip-vs-meru")
    assert [c["model"] for c in configs] == ["clip", "meru"]
    assert {c["dataset"] for c in configs} == {"trifeature-captions"}
    assert configs[0]["model_params"]["dim"] == configs[1]["model_params"]["dim"] == 32


def test_registry_refuses_a_second_preset_with_the_same_key_and_runs_without_names(monkeypatch):
    monkeypatch.setattr(presets, "_REGISTRY", dict(presets._REGISTRY))
    run = presets.small_captions_run("x", "clip")
    with pytest.raises(MmvizError, match="registered twice"):
        register_preset(Preset("clip-vs-meru", "t", "d", (run,)))
    with pytest.raises(MmvizError, match="name"):
        register_preset(Preset("unnamed", "t", "d", ({**run, "name": ""},)))
    added = register_preset(Preset("mine", "Mine", "d", (run,)))
    assert get_preset("mine") is added and list_presets()[-1] is added


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(MmvizError, match="clip-vs-meru"):
        get_preset("nope")
