"""A training run's configuration: the keys, their defaults and checks, and ``--set`` overrides.

A config is a plain JSON-able dict stored with the run::

    dataset, dataset_params, model, model_params,      # what to train
    steps, batch_size, lr, weight_decay, warmup_steps,  # optimisation (TRAIN_PARAMS)
    grad_clip, seed, device, amp, eval_every, eval_size, log_every, checkpoint_every,
    name, resume,
    parent, unlearn                                     # a child run (runs/lineage.py, runs/unlearn.py)

:func:`resolve_config` fills in defaults and validates everything against the dataset,
model and training schemas, so a bad config fails before a run is created.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mmviz.data.base import ParamSpec
from mmviz.data.registry import get_info, resolve_params
from mmviz.errors import ConfigError, MmvizError
from mmviz.models.config import param, param_specs
from mmviz.models.registry import check_compatible, get_model_info, resolve_model_params, with_legacy_params
from mmviz.runs.devices import pick_device
from mmviz.runs.store import check_run_id
from mmviz.runs.unlearn_params import resolve_unlearn


@dataclass(frozen=True)
class TrainParams:
    """Optimisation and bookkeeping settings (defaults tuned for trifeature-captions on CPU)."""

    steps: int = param(2500, "int", "Optimiser steps.", min=1, max=10_000_000)
    batch_size: int = param(256, "int", "Pairs per step (global batch; split across processes).",
                            min=2, max=65_536)
    lr: float = param(3e-3, "float", "Peak learning rate (AdamW).", min=1e-8, max=1e8)
    weight_decay: float = param(0.05, "float", "AdamW weight decay (not on biases, norms, scalars).",
                                min=0.0, max=10.0)
    warmup_steps: int = param(100, "int", "Linear warm-up steps before the cosine decay.",
                              min=0, max=10_000_000)
    grad_clip: float = param(1.0, "float", "Clip the gradient's global norm to this (0 = off).",
                             min=0.0, max=1e6, advanced=True)
    seed: int = param(0, "int", "Seed of the initial weights and of the batch order.", min=0,
                      max=2**31 - 1)
    device: str = param("auto", "str", "auto, cpu, cuda, cuda:N or mps.")
    amp: bool = param(True, "bool", "Mixed precision (bfloat16) on CUDA; geometry stays float32.",
                      advanced=True)
    threads: int = param(0, "int", "CPU threads (0 = all cores, or 1 when other work keeps them busy).",
                         min=0, max=1024, advanced=True)
    eval_every: int = param(250, "int", "Evaluate on the held-out split every this many steps.",
                            min=1, max=10_000_000)
    eval_size: int = param(1000, "int", "Held-out pairs used for evaluation (the first ones).",
                           min=10, max=100_000, advanced=True)
    log_every: int = param(10, "int", "Log training metrics every this many steps.", min=1,
                           max=10_000_000, advanced=True)
    checkpoint_every: int = param(500, "int", "Checkpoint every this many steps.", min=1,
                                  max=10_000_000, advanced=True)


TRAIN_PARAMS: tuple[ParamSpec, ...] = param_specs(TrainParams)
"""The training schema (forms, ``--set train.KEY=VALUE``)."""

_SPECS = {p.name: p for p in TRAIN_PARAMS}
_TOP_KEYS = ("dataset", "dataset_params", "model", "model_params", "name", "resume", "parent", "unlearn")


def train_defaults() -> dict[str, Any]:
    return {p.name: p.default for p in TRAIN_PARAMS}


def resolve_config(config: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in, every value validated (MmvizError naming the first bad key).

    Needs ``dataset`` and ``model``; ``dataset_params`` and ``model_params`` are checked
    against their registries' schemas.
    """

    unknown = sorted(set(config) - set(_SPECS) - set(_TOP_KEYS))
    if unknown:
        raise MmvizError(f"unknown config key {unknown[0]!r}; keys: {', '.join(list(_TOP_KEYS) + list(_SPECS))}")
    for key in ("dataset", "model"):
        if not config.get(key):
            raise MmvizError(f"the config needs a {key}")
    get_info(config["dataset"])
    check_compatible(config["model"], config["dataset"])

    model_defaults = dict(get_model_info(config["model"]).train_defaults)
    out: dict[str, Any] = {
        "dataset": config["dataset"],
        "dataset_params": resolve_params(config["dataset"], dict(config.get("dataset_params") or {})),
        "model": config["model"],
        "model_params": resolve_model_params(config["model"], dict(config.get("model_params") or {})),
        "name": config.get("name"),
        "resume": bool(config.get("resume", False)),
    }
    if config.get("parent"):
        try:
            out["parent"] = check_run_id(config["parent"])
        except MmvizError as err:
            raise ConfigError(f"parent: {err}", "parent") from None
    if config.get("unlearn"):
        if not out.get("parent"):
            raise ConfigError("an unlearning run needs a parent run to forget from", "parent")
        if not isinstance(config["unlearn"], dict):
            raise ConfigError("unlearn must be a table of settings (concept, method, ...)", "unlearn")
        out["unlearn"] = resolve_unlearn(config["unlearn"])
    for key, spec in _SPECS.items():
        try:
            out[key] = spec.validate(config.get(key, model_defaults.get(key, spec.default)))
        except ValueError as err:
            raise ConfigError(str(err), f"train.{key}") from None
    size_of = get_info(out["dataset"]).train_size
    if size_of is not None and out["batch_size"] > (size := size_of(out["dataset_params"])):
        raise ConfigError(f"batch_size {out['batch_size']:,} is larger than the training set: {out['dataset']} has "
                          f"{size:,} training pairs with these parameters; lower batch_size or add data",
                          "train.batch_size")
    try:
        pick_device(out["device"])  # unknown or unavailable device → refused now, not mid-run
    except MmvizError as err:
        raise ConfigError(str(err), "train.device") from None
    return out


def with_stored_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """A config read from the run store with the parameters the run predates set to the value it
    was trained with (the model's ``legacy_params``), not today's default (a copy)."""

    if not config.get("model"):
        return dict(config)
    return {**config, "model_params": with_legacy_params(config["model"], dict(config.get("model_params") or {}))}


def resolve_stored_config(config: dict[str, Any]) -> dict[str, Any]:
    """:func:`resolve_config` of a config read from the run store (see :func:`with_stored_defaults`)."""
    return resolve_config(with_stored_defaults(config))


def apply_overrides(config: dict[str, Any], assignments: Iterable[str]) -> dict[str, Any]:
    """Apply ``--set`` assignments to a config (a new dict is returned).

    ``data.KEY=V`` sets a dataset parameter, ``model.KEY=V`` a model parameter and
    ``train.KEY=V`` a training setting; a bare ``KEY=V`` means the model parameter if the
    model has one of that name, else the training setting. Values are validated later by
    :func:`resolve_config`; an unknown key raises MmvizError naming it.
    """

    out = {**config, "dataset_params": dict(config.get("dataset_params") or {}),
           "model_params": dict(config.get("model_params") or {})}
    data_keys = {p.name for p in get_info(out["dataset"]).params}
    model_keys = {p.name for p in get_model_info(out["model"]).params}
    for text in assignments:
        key, sep, value = str(text).partition("=")
        key = key.strip()
        if not sep or not key:
            raise MmvizError(f"--set wants KEY=VALUE (e.g. dim=32, data.n=2000), got {text!r}")
        scope, dot, name = key.partition(".")
        if not dot:
            scope, name = ("model" if key in model_keys else "train"), key
        if scope == "data" and name in data_keys:
            out["dataset_params"][name] = value
        elif scope == "model" and name in model_keys:
            out["model_params"][name] = value
        elif scope == "train" and name in _SPECS:
            out[name] = value
        else:
            raise MmvizError(
                f"unknown --set key {key!r}: model {out['model']!r} takes {', '.join(sorted(model_keys))}; "
                f"dataset {out['dataset']!r} takes data.{{{','.join(sorted(data_keys))}}}; "
                f"training takes {', '.join(_SPECS)}"
            )
    return out


def train_params(config: dict[str, Any]) -> TrainParams:
    """The training settings of a resolved config as a :class:`TrainParams`."""
    return TrainParams(**{f.name: config[f.name] for f in dataclasses.fields(TrainParams)})
