"""Read plotly figures out of an AppTest run (arrays come as base64 typed arrays in the JSON)."""

from __future__ import annotations

import base64
import json

import numpy as np


def decode(value):
    """A plotly JSON value → numpy array where it is a typed array {dtype, bdata[, shape]}."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            arr = arr.reshape([int(s) for s in str(value["shape"]).split(",")])
        return arr
    if isinstance(value, list):
        return np.array([np.nan if v is None else v for v in value], dtype=float) \
            if all(v is None or isinstance(v, (int, float)) for v in value) else value
    return value


def figure(at, key: str) -> dict:
    """The JSON figure of the plotly chart whose element key contains ``key``."""
    charts = [el for el in at.get("plotly_chart") if el.proto.id and key in el.proto.id]
    assert charts, f"no plotly chart {key!r}"
    return json.loads(charts[0].proto.spec)


def xy(trace: dict) -> np.ndarray:
    """(n, 2) float array of a scatter trace's x and y."""
    return np.stack([np.asarray(decode(trace["x"]), float), np.asarray(decode(trace["y"]), float)], axis=1)
