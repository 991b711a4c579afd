"""The shapes every dataset comes in: parameter schemas, paired datasets, hierarchies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

ParamType = Literal["int", "float", "bool", "choice", "str"]


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a dataset (or model): enough for a page to build a form field.

    ``min``/``max`` are inclusive bounds for numbers; ``choices`` lists the values of a
    ``choice`` parameter. ``advanced`` parameters go in a collapsed section of a form.
    """

    name: str
    type: ParamType
    default: Any
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: Sequence[Any] | None = None
    advanced: bool = False
    required: bool = False
    """A ``str`` parameter that must be given (a user's file path): empty is refused up front."""

    def validate(self, value: Any) -> Any:
        """Coerce ``value`` to this parameter's type; raise ``ValueError`` saying what is wrong."""
        name = self.name
        if self.type == "bool":
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError(f"{name} must be true or false, got {value!r}")
            return bool(value)
        if self.type in ("int", "float"):
            try:
                num = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, got {value!r}") from None
            if not np.isfinite(num):
                raise ValueError(f"{name} must be finite, got {value!r}")
            if self.type == "int":
                if num != int(num):
                    raise ValueError(f"{name} must be a whole number, got {value!r}")
                num = int(num)
            if self.min is not None and num < self.min:
                raise ValueError(f"{name} must be ≥ {self.min:g}, got {num:g}")
            if self.max is not None and num > self.max:
                raise ValueError(f"{name} must be ≤ {self.max:g}, got {num:g}")
            return num
        if self.type == "choice":
            assert self.choices is not None
            for choice in self.choices:
                if value == choice or str(value) == str(choice):
                    return choice
            raise ValueError(f"{name} must be one of {', '.join(map(str, self.choices))}; got {value!r}")
        return str(value)


@dataclass(frozen=True)
class DatasetInfo:
    """A registry entry: what a dataset is and which parameters it takes.

    ``kind`` is ``"pairs"`` or ``"images"`` (a :class:`PairedDataset`; "images" has one modality)
    or ``"hierarchy"`` (a :class:`Hierarchy`).
    ``modalities`` names the arrays a paired dataset carries, in pair order.
    ``version`` is part of the cache key: bump it when the generator's output changes.
    ``user_file``: the data is a file of the user's (a ``path`` parameter), not generated or shipped;
    pages that list the built-in datasets leave it out.
    """

    name: str
    description: str
    kind: Literal["pairs", "images", "hierarchy"]
    params: tuple[ParamSpec, ...]
    modalities: tuple[str, ...] = ()
    splits: tuple[str, ...] = ("train", "test")
    version: int = 1
    cacheable: bool = False
    user_file: bool = False
    train_size: Callable[[dict[str, Any]], int] | None = None
    """Training pairs for resolved parameters, without loading (a batch larger than this is
    refused before a run exists); None where the size is only known once loaded."""

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


@dataclass
class PairedDataset:
    """Aligned samples of two (or more) modalities.

    ``modalities[m]`` is an array whose first axis is the sample: images are
    ``(N, 3, H, W)`` uint8 (models scale to [0, 1]), vectors ``(N, D)`` float32, token ids
    ``(N, L)`` int64 (0 = padding). ``metadata`` has one row per sample (labels, attributes, caption
    level, names...). ``extras`` holds dataset-level facts (closed-form covariances,
    vocabularies, the list of distinct captions, the synergy mapping...).
    """

    name: str
    split: str
    params: dict[str, Any]
    modalities: dict[str, np.ndarray]
    metadata: pd.DataFrame
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.metadata)
        for key, arr in self.modalities.items():
            if len(arr) != n:
                raise ValueError(f"modality {key!r} has {len(arr)} rows, metadata has {n}")

    def __len__(self) -> int:
        return len(self.metadata)

    @property
    def pair(self) -> tuple[str, str]:
        """The two modalities a contrastive model aligns, in order."""
        names = list(self.modalities)
        return names[0], names[1]

    def subset(self, index: np.ndarray | Sequence[int]) -> PairedDataset:
        """Rows ``index`` of every modality and of the metadata (extras shared)."""
        idx = np.asarray(index)
        return PairedDataset(
            self.name, self.split, dict(self.params),
            {k: v[idx] for k, v in self.modalities.items()},
            self.metadata.iloc[idx].reset_index(drop=True), self.extras,
        )

    def torch_dataset(self) -> TorchPairs:
        """A ``torch.utils.data.Dataset`` yielding ``{modality: tensor, "index": int}``."""
        return TorchPairs(self)


class TorchPairs:
    """Torch view of a :class:`PairedDataset` (map-style; tensors share numpy memory)."""

    def __init__(self, data: PairedDataset) -> None:
        import torch

        self.data = data
        self.tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in data.modalities.items()}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> dict[str, Any]:
        out: dict[str, Any] = {k: t[i] for k, t in self.tensors.items()}
        out["index"] = i
        return out

    def batch(self, index) -> dict[str, Any]:
        """A whole batch at once (faster than a DataLoader for in-memory data)."""
        import torch

        idx = torch.as_tensor(index, dtype=torch.long)
        return {k: t[idx] for k, t in self.tensors.items()}


@dataclass
class Hierarchy:
    """A tree or DAG of named nodes.

    ``names[i]`` is node i's readable name, ``ids[i]`` its stable id (e.g. a synset).
    ``edges`` is ``(E, 2)`` int64 of direct (child, parent) pairs. ``depth[i]`` is the
    length of the shortest path from a root. ``closure`` is ``(P, 2)`` int64 of all
    (descendant, ancestor) pairs, without self pairs.
    """

    name: str
    params: dict[str, Any]
    ids: list[str]
    names: list[str]
    edges: np.ndarray
    depth: np.ndarray
    closure: np.ndarray
    extras: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def roots(self) -> np.ndarray:
        """Indices of the nodes without a parent."""
        has_parent = np.zeros(len(self), dtype=bool)
        if len(self.edges):
            has_parent[self.edges[:, 0]] = True
        return np.flatnonzero(~has_parent)


Loader = Callable[..., "PairedDataset | Hierarchy"]
