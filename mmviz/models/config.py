"""Typed model configurations. Each field carries its form schema, so the dataclass is the
one place a default lives: :func:`param_specs` turns the fields into
:class:`~mmviz.data.base.ParamSpec` entries for pages and the CLI.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mmviz.data.base import ParamSpec, ParamType
from mmviz.geometry.constants import DEFAULT_CONE_MIN_RADIUS
from mmviz.models.encoders import CNN_NORMS


def param(default: Any, type: ParamType, help: str, *, min: float | None = None,
          max: float | None = None, choices: Sequence[Any] | None = None,
          advanced: bool = False) -> Any:
    """A dataclass field with its :class:`ParamSpec` (everything but the name) as metadata."""
    spec = {"type": type, "help": help, "min": min, "max": max, "choices": choices, "advanced": advanced}
    return field(default=default, metadata={"spec": spec})


def param_specs(config_cls: type) -> tuple[ParamSpec, ...]:
    """The form schema of a config dataclass, one :class:`ParamSpec` per field, in order."""
    return tuple(
        ParamSpec(name=f.name, default=f.default, **f.metadata["spec"])
        for f in dataclasses.fields(config_cls)
    )


def parse_widths(text: str) -> tuple[int, ...]:
    """``"16,32,64"`` → ``(16, 32, 64)``; raises ``ValueError`` saying what is wrong."""
    try:
        widths = tuple(int(part) for part in str(text).split(",") if part.strip())
    except ValueError:
        raise ValueError(f"cnn_widths must be comma-separated whole numbers, got {text!r}") from None
    if not widths or not all(1 <= w <= 1024 for w in widths) or len(widths) > 8:
        raise ValueError(f"cnn_widths must be 1 to 8 widths between 1 and 1024, got {text!r}")
    return widths


@dataclass(frozen=True)
class ContrastiveConfig:
    """Encoders and temperature: what every contrastive model shares."""

    dim: int = param(64, "int", "Embedding dimension (tangent space for hyperbolic models).", min=2, max=1024)
    cnn_widths: str = param("16,32,64,64", "str",
                            "Channels of each conv block of the image encoder, comma-separated.")
    cnn_norm: str = param("group", "str", "Normalisation of the image encoder's conv blocks: group "
                          "(each image on its own) or batch (trains faster, uses batch statistics).",
                          choices=CNN_NORMS, advanced=True)
    text_layers: int = param(0, "int", "Transformer layers of the text encoder (0 = bag of words + MLP).",
                             min=0, max=6)
    text_width: int = param(64, "int", "Token embedding width of the text encoder.", min=8, max=1024,
                            advanced=True)
    mlp_hidden: int = param(128, "int", "Hidden width of the vector (MLP) encoder.", min=4, max=4096,
                            advanced=True)
    mlp_depth: int = param(2, "int", "Hidden layers of the vector (MLP) encoder.", min=0, max=8, advanced=True)
    init_temperature: float = param(0.07, "float", "Initial softmax temperature τ (logit scale 1/τ).",
                                    min=0.01, max=1.0)
    learn_temperature: bool = param(True, "bool", "Learn the temperature.", advanced=True)
    max_logit_scale: float = param(100.0, "float", "Upper bound of the logit scale 1/τ.", min=1.0,
                                   max=1000.0, advanced=True)

    def __post_init__(self) -> None:
        parse_widths(self.cnn_widths)
        if 1.0 / self.init_temperature > self.max_logit_scale:
            raise ValueError(f"init_temperature {self.init_temperature:g} gives a logit scale above "
                             f"max_logit_scale {self.max_logit_scale:g}")


@dataclass(frozen=True)
class ClipConfig(ContrastiveConfig):
    """CLIP: L2-normalised features on the sphere, symmetric InfoNCE."""


MERU_EXP_MAP_LIMIT = math.asinh(2.0**15)
"""≈ 11.09: MERU's ``exp_map0`` clamps √c‖v‖ there (its ``sinh`` input), so the space part of a
point has norm at most 2¹⁵/√c and its distance from the origin is at most 11.09/√c."""


@dataclass(frozen=True)
class MeruConfig(ContrastiveConfig):
    """MERU: features lifted onto a hyperbolic space, entailment cones."""

    curvature: float = param(1.0, "float", "Initial curvature c (the space curves at −c).",
                             min=0.1, max=10.0)
    learn_curvature: bool = param(True, "bool", "Learn the curvature (kept in [0.1, 10]).")
    entail_weight: float = param(0.2, "float", "Weight of the entailment-cone loss (0 = off).",
                                 min=0.0, max=10.0)
    min_radius: float = param(DEFAULT_CONE_MIN_RADIUS, "float",
                              "Cone min radius K: half-aperture = asin(2K / √c‖x_space‖).",
                              min=0.001, max=1.0, advanced=True)
    exp_map_limit: float = param(MERU_EXP_MAP_LIMIT, "float",
                                 "MERU's clamp of √c‖v‖ in exp_map0: no point lies further than this / √c "
                                 "from the origin (MERU: asinh(2¹⁵) ≈ 11.09). 0 = no clamp (only the float "
                                 "overflow cap, 84/√c in float32).", min=0.0, max=84.0, advanced=True)
