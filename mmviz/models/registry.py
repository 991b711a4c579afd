"""One registry for every contrastive model: ``list_models()`` to build forms,
``build_model()`` to get a model for a dataset's two modalities."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from mmviz.data.base import PairedDataset, ParamSpec
from mmviz.errors import MmvizError
from mmviz.models.base import ContrastiveModel
from mmviz.models.clip import Clip
from mmviz.models.config import ClipConfig, ContrastiveConfig, MeruConfig, param_specs
from mmviz.models.encoders import ModalitySpec, describe_modality
from mmviz.models.meru import Meru, MeruPoincare


@dataclass(frozen=True)
class ModelInfo:
    """A registry entry: the model's name, geometry, config dataclass and form schema."""

    name: str
    description: str
    geometry: str
    config_cls: type[ContrastiveConfig]
    model_cls: Callable[..., ContrastiveModel]

    @property
    def params(self) -> tuple[ParamSpec, ...]:
        """The form schema, one :class:`ParamSpec` per config field."""
        return param_specs(self.config_cls)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


_REGISTRY: dict[str, ModelInfo] = {
    info.name: info for info in (
        ModelInfo("clip", "CLIP: cosine similarity on the unit sphere, learnable temperature, "
                  "symmetric InfoNCE.", "sphere", ClipConfig, Clip),
        ModelInfo("meru", "MERU: Lorentz hyperboloid, logits = −distance, learnable curvature, "
                  "entailment cones (captions entail their images).", "lorentz", MeruConfig, Meru),
        ModelInfo("meru-poincare", "MERU's loss on the Poincaré ball (logits = −d_H/τ), "
                  "with Ganea's entailment cones.", "poincare", MeruConfig, MeruPoincare),
    )
}


def list_models() -> list[ModelInfo]:
    """Every registered model."""
    return list(_REGISTRY.values())


def get_model_info(name: str) -> ModelInfo:
    """The entry of model ``name`` (MmvizError naming the known models if unknown)."""
    if name not in _REGISTRY:
        raise MmvizError(f"unknown model {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def resolve_model_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in and every value checked against the schema (MmvizError if bad)."""
    info = get_model_info(name)
    specs = {p.name: p for p in info.params}
    unknown = sorted(set(params) - set(specs))
    if unknown:
        raise MmvizError(f"model {name!r} has no parameter {unknown[0]!r}; it takes: {', '.join(specs)}")
    out = info.defaults()
    try:
        for key, value in params.items():
            out[key] = specs[key].validate(value)
        info.config_cls(**out)  # cross-field checks
    except ValueError as err:
        raise MmvizError(f"model {name!r}: {err}") from None
    return out


def model_inputs(data: PairedDataset) -> tuple[ModalitySpec, ModalitySpec]:
    """The encoder inputs of a dataset's pair: image, text (with the vocabulary size) or vector."""
    vocab = data.extras.get("vocab")
    specs = []
    for name in data.pair:
        array = np.asarray(data.modalities[name])
        try:
            specs.append(describe_modality(name, array, len(vocab) if vocab is not None else None))
        except ValueError as err:
            raise MmvizError(str(err)) from None
    return specs[0], specs[1]


def build_model(name: str, inputs: tuple[ModalitySpec, ModalitySpec] | PairedDataset,
                **cfg: Any) -> ContrastiveModel:
    """Model ``name`` for two modalities, configured by ``cfg`` (validated; unknown key →
    MmvizError naming it). ``inputs``: the pair's :class:`ModalitySpec` or a dataset."""
    info = get_model_info(name)
    if isinstance(inputs, PairedDataset):
        inputs = model_inputs(inputs)
    config = info.config_cls(**resolve_model_params(name, cfg))
    return info.model_cls(inputs, config)


def model_config(model: ContrastiveModel) -> dict[str, Any]:
    """The config of a built model as a plain dict."""
    return dataclasses.asdict(model.config)
