"""Contrastive models: one registry (``list_models``, ``build_model``); encoders in
:mod:`mmviz.models.encoders`, each model in its own module."""

from mmviz.models.base import ContrastiveModel
from mmviz.models.encoders import ModalitySpec, describe_modality
from mmviz.models.registry import (
    ModelInfo,
    build_model,
    get_model_info,
    list_models,
    model_inputs,
    resolve_model_params,
)

__all__ = [
    "ContrastiveModel", "ModalitySpec", "ModelInfo", "build_model", "describe_modality",
    "get_model_info", "list_models", "model_inputs", "resolve_model_params",
]
