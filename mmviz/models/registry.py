"""One registry for every contrastive model: ``list_models()`` to build forms,
``build_model()`` to get a model for a dataset's two modalities."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmviz.data.base import PairedDataset, ParamSpec
from mmviz.data.registry import get_info
from mmviz.errors import ConfigError, MmvizError
from mmviz.models.base import ContrastiveModel
from mmviz.models.clip import Clip
from mmviz.models.config import ClipConfig, MeruConfig, param_specs
from mmviz.models.encoders import ModalitySpec, describe_modality
from mmviz.models.meru import Meru, MeruPoincare


@dataclass(frozen=True)
class ModelInfo:
    """A registry entry: the model's name, geometry, config dataclass and form schema.

    ``datasets``: the datasets it trains on (empty: any dataset with two paired modalities).
    ``trainer``: ``"module:Class"`` of a trainer replacing :class:`mmviz.runs.loop.Trainer`
    (same constructor, ``fit() -> status``), for models that are not two-tower contrastive
    models (tree embeddings); empty for the standard loop.
    """

    name: str
    description: str
    geometry: str
    config_cls: type[Any]
    model_cls: Callable[..., Any]
    datasets: tuple[str, ...] = ()
    trainer: str = ""
    train_defaults: tuple[tuple[str, Any], ...] = ()
    """Training settings (``steps``, ``lr``...) that replace the global defaults for this model
    when a config leaves them out (tree embeddings want lr 0.1, not CLIP's 3e-3)."""
    legacy_params: tuple[tuple[str, Any], ...] = ()
    """Parameters added after runs were stored, with the value those runs had: a *stored* config
    that leaves one out gets this value, not today's default (its checkpoint was built so)."""
    modalities: int = 2
    """How many of a dataset's modalities the model aligns (its first ones, in order): the
    encoders it builds and the tensors a training step hands :meth:`forward`."""

    def trainer_class(self) -> type | None:
        """The custom trainer class, or None for the standard loop."""
        if not self.trainer:
            return None
        module, _, attr = self.trainer.partition(":")
        return getattr(importlib.import_module(module), attr)

    @property
    def params(self) -> tuple[ParamSpec, ...]:
        """The form schema, one :class:`ParamSpec` per config field."""
        return param_specs(self.config_cls)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


MERU_LEGACY = (("exp_map_limit", 0.0),)
"""MERU runs stored before ``exp_map_limit`` existed had no clamp (only the float overflow cap)."""

_REGISTRY: dict[str, ModelInfo] = {
    info.name: info for info in (
        ModelInfo("clip", "CLIP: cosine similarity on the unit sphere, learnable temperature, "
                  "symmetric InfoNCE.", "sphere", ClipConfig, Clip),
        ModelInfo("meru", "MERU: Lorentz hyperboloid, logits = −distance, learnable curvature, "
                  "entailment cones (captions entail their images).", "lorentz", MeruConfig, Meru,
                  legacy_params=MERU_LEGACY),
        ModelInfo("meru-poincare", "MERU's loss on the Poincaré ball (logits = −d_H/τ), "
                  "with Ganea's entailment cones.", "poincare", MeruConfig, MeruPoincare,
                  legacy_params=MERU_LEGACY),
    )
}


_PLUGINS: tuple[str, ...] = (
    "mmviz.models.comm",
    "mmviz.models.comm3",
    "mmviz.gaussian.models",
    "mmviz.ocean.models",
    "mmviz.gaussian.presets",
    "mmviz.runs.comm_presets",
    "mmviz.runs.comm3_presets",
    "mmviz.trees.models",
)
"""Modules that register more models, presets and trainers when imported, loaded by name on the
first registry lookup (as entry points are). Most sit above this layer (features that use the
engine): naming them here as data is the one place a lower layer knows of a higher one, and it
never imports them (ARCHITECTURE.md, *Plugins*)."""
_plugins_loaded = False


def load_plugins() -> None:
    """Import every plugin module once (each registers its models and presets)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for module in _PLUGINS:
        importlib.import_module(module)


def register_model(info: ModelInfo) -> ModelInfo:
    """Add a model to the registry (MmvizError if the name is taken); returns it."""
    if info.name in _REGISTRY:
        raise MmvizError(f"model {info.name!r} is registered twice")
    _REGISTRY[info.name] = info
    return info


def list_models() -> list[ModelInfo]:
    """Every registered model."""
    load_plugins()
    return list(_REGISTRY.values())


def models_for(dataset: str) -> list[ModelInfo]:
    """The models that can train on ``dataset``: those naming it, plus the generic two-tower
    models when it has two paired modalities."""

    info = get_info(dataset)
    paired = info.kind != "hierarchy" and len(info.modalities) >= 2
    return [m for m in list_models() if (dataset in m.datasets or (not m.datasets and paired))
            and (m.modalities <= 2 or len(info.modalities) >= m.modalities)]


def check_compatible(model: str, dataset: str) -> None:
    """MmvizError unless ``model`` can train on ``dataset`` (naming the models that can)."""
    info = get_model_info(model)
    fitting = [m.name for m in models_for(dataset)]
    if model not in fitting:
        can = f"models for it: {', '.join(fitting)}" if fitting else "no model trains on it"
        trains_on = f"it trains on {', '.join(info.datasets)}" if info.datasets else "it needs paired data"
        raise MmvizError(f"model {model!r} cannot train on dataset {dataset!r} ({trains_on}; {can})")


def get_model_info(name: str) -> ModelInfo:
    """The entry of model ``name`` (MmvizError naming the known models if unknown)."""
    load_plugins()
    if name not in _REGISTRY:
        raise MmvizError(f"unknown model {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def resolve_model_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in and every value checked against the schema (MmvizError if bad)."""
    info = get_model_info(name)
    specs = {p.name: p for p in info.params}
    unknown = sorted(set(params) - set(specs))
    if unknown:
        raise ConfigError(f"model {name!r} has no parameter {unknown[0]!r}; it takes: {', '.join(specs)}",
                          f"model.{unknown[0]}")
    out = info.defaults()
    for key, value in params.items():
        try:
            out[key] = specs[key].validate(value)
        except ValueError as err:
            raise ConfigError(f"model {name!r}: {err}", f"model.{key}") from None
    try:
        info.config_cls(**out)  # cross-field checks
    except ValueError as err:
        # a config's own checks start their message with the parameter they are about, if one
        about = next((k for k in specs if str(err).startswith(k + " ")), "")
        raise ConfigError(f"model {name!r}: {err}", f"model.{about}" if about else "") from None
    return out


def with_legacy_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """A stored run's model parameters with :attr:`ModelInfo.legacy_params` filled in where the
    run predates them (a copy; unknown models are returned as they are)."""
    load_plugins()
    info = _REGISTRY.get(name)
    return {**dict(info.legacy_params if info else ()), **params}


def model_inputs(data: PairedDataset, count: int = 2) -> tuple[ModalitySpec, ...]:
    """The encoder inputs of a dataset's first ``count`` modalities (its pair by default): image,
    text (with the vocabulary size) or vector."""
    vocab = data.extras.get("vocab")
    names = tuple(data.modalities)[:count]
    if len(names) < count:
        raise MmvizError(f"the model aligns {count} modalities; dataset {data.name!r} has {len(names)}")
    specs = []
    for name in names:
        array = np.asarray(data.modalities[name])
        try:
            specs.append(describe_modality(name, array, len(vocab) if vocab is not None else None))
        except ValueError as err:
            raise MmvizError(str(err)) from None
    return tuple(specs)


def build_model(name: str, inputs: tuple[ModalitySpec, ...] | PairedDataset,
                **cfg: Any) -> ContrastiveModel:
    """Model ``name`` for two modalities, configured by ``cfg`` (validated; unknown key →
    MmvizError naming it). ``inputs``: the pair's :class:`ModalitySpec` or a dataset."""
    info = get_model_info(name)
    if isinstance(inputs, PairedDataset):
        inputs = model_inputs(inputs, info.modalities)
    config = info.config_cls(**resolve_model_params(name, cfg))
    return info.model_cls(inputs, config)


def model_config(model: ContrastiveModel) -> dict[str, Any]:
    """The config of a built model as a plain dict."""
    return dataclasses.asdict(model.config)
