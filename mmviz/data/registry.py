"""One registry for every dataset: ``list_datasets()`` to build forms, ``load()`` to get data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mmviz.data.base import DatasetInfo, Hierarchy, Loader, PairedDataset
from mmviz.errors import ConfigError, MmvizError

_REGISTRY: dict[str, tuple[DatasetInfo, Loader]] = {}

ViewRenderer = Callable[[PairedDataset, np.ndarray, int, np.random.Generator], dict[str, np.ndarray]]
"""``(data, index (B,), views V, rng) → {modality: (B, V, ...) array}``: V new samples of each
indexed pair's items with the same labels (e.g. fresh renders of the same attributes)."""
_VIEW_RENDERERS: dict[str, ViewRenderer] = {}


def register(info: DatasetInfo):
    """Decorator: ``@register(DatasetInfo(...))`` over ``def load(split, **params)``."""

    def wrap(fn: Loader) -> Loader:
        if info.name in _REGISTRY:
            raise RuntimeError(f"dataset {info.name!r} registered twice")
        _REGISTRY[info.name] = (info, fn)
        return fn

    return wrap


def register_view_renderer(name: str):
    """Decorator: ``@register_view_renderer("dataset")`` over a :data:`ViewRenderer`."""

    def wrap(fn: ViewRenderer) -> ViewRenderer:
        _VIEW_RENDERERS[name] = fn
        return fn

    return wrap


def view_renderer(name: str) -> ViewRenderer | None:
    """The dataset's renderer of fresh training views, or None if it has none."""
    return _VIEW_RENDERERS.get(name)


def list_datasets(kind: str | None = None) -> list[DatasetInfo]:
    """Every registered dataset (optionally only ``kind`` = "pairs" or "hierarchy")."""
    return [info for info, _ in _REGISTRY.values() if kind is None or info.kind == kind]


def get_info(name: str) -> DatasetInfo:
    if name not in _REGISTRY:
        raise MmvizError(f"unknown dataset {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name][0]


def resolve_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in and every value checked against the schema (MmvizError if bad)."""
    info = get_info(name)
    known = {p.name for p in info.params}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(
            f"dataset {name!r} has no parameter {unknown[0]!r}; it takes: {', '.join(sorted(known)) or 'none'}",
            f"data.{unknown[0]}")
    out = info.defaults()
    for key, value in params.items():
        try:
            out[key] = info.param(key).validate(value)
        except ValueError as err:
            raise ConfigError(f"dataset {name!r}: {err}", f"data.{key}") from None
    for spec in info.params:
        if spec.required and not str(out[spec.name]).strip():
            raise ConfigError(f"dataset {name!r} needs a {spec.name} ({spec.help}): --set data.{spec.name}=…",
                              f"data.{spec.name}")
    return out


def load(name: str, split: str = "train", **params: Any) -> PairedDataset | Hierarchy:
    """Load dataset ``name`` (deterministic by its ``seed`` parameter).

    Generated datasets marked ``cacheable`` are kept on disk as HF datasets under
    ``MMVIZ_HOME/cache/datasets`` keyed by name, version, split and parameters.
    """
    info = get_info(name)
    if split not in info.splits:
        raise MmvizError(f"dataset {name!r} has no split {split!r}; splits: {', '.join(info.splits)}")
    resolved = resolve_params(name, params)
    loader = _REGISTRY[name][1]
    if info.cacheable and info.kind != "hierarchy":
        # Lazy for cost only: the Hugging Face cache imports `datasets` (~0.5 s), which only the
        # generated image sets need (not hierarchies, files or the Gaussian lab).
        from mmviz.data.cache import cached_load

        return cached_load(info, split, resolved, lambda: loader(split=split, **resolved))
    return loader(split=split, **resolved)
