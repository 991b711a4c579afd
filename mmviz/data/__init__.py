"""Datasets: one registry (``list_datasets``, ``load``); each generator in its own module.

Importing this package registers every built-in dataset.
"""

# Built-in datasets register themselves on import.
from mmviz.data import (  # noqa: E402,F401
    digits,
    edgelist,
    gaussian,
    hierarchies,
    ocean,
    trifeature_datasets,
    trifeature_triples,
    wordnet,
)
from mmviz.data.base import DatasetInfo, Hierarchy, PairedDataset, ParamSpec
from mmviz.data.registry import get_info, list_datasets, load, register, resolve_params

__all__ = [
    "DatasetInfo", "Hierarchy", "PairedDataset", "ParamSpec",
    "get_info", "list_datasets", "load", "register", "resolve_params",
]
