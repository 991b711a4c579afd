"""Geometry: the manifolds embeddings live in, the one Poincaré-disk toolkit, and disk scenes.

- :mod:`~mmviz.geometry.constants`: geometry names, the hyperbolic ones, the cone constant K.
- :mod:`~mmviz.geometry.manifolds`: torch manifolds for training and measurement
  (``get_geometry(name, curvature)``), float32 in and out, exact where float32 is not.
- :mod:`~mmviz.geometry.disk`: numpy float64 maths on the drawn unit disk (Möbius addition,
  recentring, geodesics, circles, distances).
- :mod:`~mmviz.geometry.scenes`: what the Geometry page and the Hierarchy lab draw, built from
  the two above.
"""


from __future__ import annotations

import importlib
from typing import Any

from mmviz.geometry.constants import DEFAULT_CONE_MIN_RADIUS, GEOMETRY_NAMES, HYPERBOLIC

_MANIFOLDS = (
    "EuclideanGeometry", "Geometry", "LorentzGeometry", "LorentzTensorCurvature", "PoincareGeometry",
    "PoincareTensorCurvature", "SphereGeometry", "as_tensor", "geometry_with_curvature", "get_geometry",
)
__all__ = ["DEFAULT_CONE_MIN_RADIUS", "GEOMETRY_NAMES", "HYPERBOLIC", *_MANIFOLDS]


def __getattr__(name: str) -> Any:
    # The manifolds import torch and geoopt (~1 s): only code that uses them pays for them, so
    # the data layer can read the constants and the CLI's `check` stays quick.
    if name in _MANIFOLDS:
        return getattr(importlib.import_module("mmviz.geometry.manifolds"), name)
    raise AttributeError(f"module 'mmviz.geometry' has no attribute {name!r}")
