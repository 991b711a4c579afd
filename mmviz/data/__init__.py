"""Datasets: one registry (``list_datasets``, ``load``); each generator in its own module.

Importing this package registers every built-in dataset.
"""

from mmviz.data.base import DatasetInfo, Hierarchy, PairedDataset, ParamSpec
from mmviz.data.registry import get_info, list_datasets, load, register, resolve_params

# Built-in datasets register themselves on import.
from mmviz.data import gaussian, trifeature_datasets, digits, hierarchies  # noqa: E402,F401

__all__ = [
    "DatasetInfo", "Hierarchy", "PairedDataset", "ParamSpec",
    "get_info", "list_datasets", "load", "register", "resolve_params",
]
