"""Presets: one-click experiments, each a few small runs meant to be compared side by side.

A preset is a list of run configs (the keys of :mod:`mmviz.runs.train_config`); the Train
page shows a button per preset, launches its runs and overlays their curves. Other parts
of mmviz add their own with :func:`register_preset`.

The built-in ones train on a small Trifeature-captions set and show learning within a
minute on a laptop CPU (two runs at once): held-out retrieval rises from chance after a few
dozen steps, and MERU's caption levels spread out from the origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmviz.errors import MmvizError
from mmviz.models.registry import load_plugins
from mmviz.runs.train_config import resolve_config


@dataclass(frozen=True)
class Preset:
    """A named experiment: ``runs`` are run configs (unresolved: missing keys take the
    training defaults), each with a ``name`` that labels its curves."""

    key: str
    title: str
    description: str
    runs: tuple[dict[str, Any], ...]


_REGISTRY: dict[str, Preset] = {}


def register_preset(preset: Preset) -> Preset:
    """Add a preset (MmvizError if its key is taken or a run has no name); returns it."""
    if preset.key in _REGISTRY:
        raise MmvizError(f"preset {preset.key!r} is registered twice")
    if not preset.runs or any(not run.get("name") for run in preset.runs):
        raise MmvizError(f"preset {preset.key!r} needs at least one run, each with a name")
    _REGISTRY[preset.key] = preset
    return preset


def _load_plugins() -> None:
    load_plugins()  # model plugins register their presets when imported


def list_presets() -> list[Preset]:
    """Every registered preset, in registration order."""
    _load_plugins()
    return list(_REGISTRY.values())


def get_preset(key: str) -> Preset:
    """The preset ``key`` (MmvizError naming the known ones if unknown)."""
    _load_plugins()
    if key not in _REGISTRY:
        raise MmvizError(f"unknown preset {key!r}; known: {', '.join(_REGISTRY)}")
    return _REGISTRY[key]


def preset_configs(key: str) -> list[dict[str, Any]]:
    """The preset's run configs, defaults filled in and validated (MmvizError if one is bad)."""
    return [resolve_config(run) for run in get_preset(key).runs]


def small_captions_run(name: str, model: str, **model_params: Any) -> dict[str, Any]:
    """A run on 4,000 Trifeature captioned images that takes about a minute on a CPU:
    240 steps of 128 pairs, evaluated on 500 held-out pairs every 20 steps."""
    return {
        "name": name,
        "dataset": "trifeature-captions",
        "dataset_params": {"n": 4000, "n_test": 500},
        "model": model,
        "model_params": {"dim": 32, **model_params},
        "steps": 240,
        "batch_size": 128,
        "lr": 2e-3,
        "warmup_steps": 24,
        "eval_every": 20,
        "eval_size": 500,
        "log_every": 5,
        "checkpoint_every": 120,
        "seed": 0,
    }


CLIP_VS_MERU = register_preset(Preset(
    "clip-vs-meru",
    "CLIP vs MERU on Trifeature captions",
    "The same images and captions, the same steps: CLIP on the sphere against MERU in hyperbolic "
    "space. Compare the losses and retrieval, then watch MERU's curvature and the distance of "
    "generic (level-1) and specific (level-3) captions from the origin.",
    (small_captions_run("CLIP", "clip"), small_captions_run("MERU", "meru")),
))

LORENTZ_VS_POINCARE = register_preset(Preset(
    "lorentz-vs-poincare",
    "MERU: Lorentz vs Poincaré ball",
    "The MERU loss in the two models of hyperbolic space. Same geometry, different coordinates "
    "and numerics: do they learn the same?",
    (small_captions_run("MERU Lorentz", "meru"), small_captions_run("MERU Poincaré", "meru-poincare")),
))

LEARNED_VS_FIXED_TEMPERATURE = register_preset(Preset(
    "clip-temperature",
    "CLIP: learned vs fixed temperature",
    "CLIP learns its temperature τ; here a second run keeps it at 0.07. Watch τ fall and what "
    "that does to the loss.",
    (small_captions_run("τ learned", "clip"),
     small_captions_run("τ fixed at 0.07", "clip", learn_temperature=False)),
))
