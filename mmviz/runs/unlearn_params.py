"""The settings of an unlearning run (the ``unlearn`` section of its config), checked before
the run exists; the trainer and methods are in :mod:`.unlearn`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmviz.data.trifeature_datasets import EXCLUDE_CHOICES
from mmviz.errors import ConfigError
from mmviz.models.config import param, param_specs

METHODS: dict[str, str] = {
    "graddiff": "gradient difference: ascend the forget pairs' loss, descend the retain pairs' (Liu et al. 2022)",
    "npo": "negative preference optimisation: bounded ascent against the parent (Zhang et al. 2024)",
    "relabel": "relabelling: train the forget images with the concept's word swapped for another value's "
               "(Graves et al. 2021)",
}
CHANCE = 0.1
"""Zero-shot chance level of an attribute with 10 values."""
UNLEARN_STREAM = 91
"""The random stream of an unlearning run's forget/retain batch draws."""


@dataclass(frozen=True)
class UnlearnParams:
    """What to forget and how."""

    concept: str = param("color:red", "choice",
                         "The concept to forget: its images captioned with its name are the forget set.",
                         choices=EXCLUDE_CHOICES[1:])
    method: str = param("graddiff", "choice", "Unlearning method.", choices=tuple(METHODS))
    retain_weight: float = param(1.0, "float", "λ: weight of the retain pairs' loss.", min=0.0, max=100.0)
    forget_fraction: float = param(0.5, "float", "Share of each step's batch drawn from the forget set.",
                                   min=0.05, max=0.95)
    beta: float = param(0.1, "float", "NPO's β (smaller: closer to plain gradient ascent).", min=1e-3, max=10.0)
    until_chance: bool = param(True, "bool", "Stop the forget term once the forget accuracy falls to chance "
                               "(1 in 10, what a model that never saw the concept can do) at an evaluation; "
                               "later steps train the retain pairs only.")


UNLEARN_PARAMS = param_specs(UnlearnParams)


def resolve_unlearn(values: dict[str, Any]) -> dict[str, Any]:
    """An ``unlearn`` config section with defaults filled in and checked (ConfigError naming it)."""
    specs = {p.name: p for p in UNLEARN_PARAMS}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ConfigError(f"unlearn has no setting {unknown[0]!r}; it takes {', '.join(specs)}",
                          f"unlearn.{unknown[0]}")
    out = {}
    for name, spec in specs.items():
        try:
            out[name] = spec.validate(values.get(name, spec.default))
        except ValueError as err:
            raise ConfigError(f"unlearn: {err}", f"unlearn.{name}") from None
    return out


UNLEARN_PROTOCOL: dict[str, dict[str, Any]] = {
    "graddiff": {"lr": 1e-4, "retain_weight": 5.0},
    "npo": {"lr": 3e-4, "retain_weight": 3.0},
    "relabel": {"lr": 3e-4, "retain_weight": 1.0},
}
"""Each method's learning rate and retain weight for 150 steps of 256 pairs (half forget, half
retain), as calibrated on the reference runs (see bench/beyond_targets.py)."""
UNLEARN_STEPS = 150


def unlearn_changes(concept: str, method: str, *, steps: int = UNLEARN_STEPS, **settings: Any) -> dict[str, Any]:
    """The config keys an unlearning child changes (its protocol unless ``settings`` say otherwise)."""
    protocol = {**UNLEARN_PROTOCOL[method], **settings}
    lr = protocol.pop("lr")
    unlearn = resolve_unlearn({"concept": concept, "method": method, **protocol})
    return {"steps": steps, "lr": lr, "warmup_steps": 0, "eval_every": 5, "log_every": 5,
            "checkpoint_every": steps, "unlearn": unlearn}


def unlearn_name(parent_id: str, concept: str, method: str) -> str:
    return f"{parent_id} − {concept} ({method})"
