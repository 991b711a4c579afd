"""Which torch device a run trains on: ``auto`` picks cuda, then mps, then cpu."""

from __future__ import annotations

import os

import torch

from mmviz.errors import MmvizError

DEVICE_KINDS = ("cuda", "mps", "cpu")


def _cuda_count() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[dict[str, str]]:
    """The devices this machine can train on, in the order ``auto`` prefers them.

    Each is ``{"name": "cuda:0" | "mps" | "cpu", "kind": "cuda" | "mps" | "cpu", "description": ...}``;
    a CUDA description names the GPU and its memory, e.g. ``"NVIDIA H100 80GB HBM3, 79.1 GiB"``.
    """
    devices = []
    for index in range(_cuda_count()):
        props = torch.cuda.get_device_properties(index)
        devices.append({
            "name": f"cuda:{index}",
            "kind": "cuda",
            "description": f"{props.name}, {props.total_memory / 2**30:.1f} GiB",
        })
    if _mps_available():
        devices.append({"name": "mps", "kind": "mps", "description": "Apple GPU (Metal Performance Shaders)"})
    devices.append({
        "name": "cpu",
        "kind": "cpu",
        "description": f"CPU, {os.cpu_count() or 1} cores ({torch.get_num_threads()} torch threads)",
    })
    return devices


def pick_device(name: str = "auto") -> torch.device:
    """The torch device for ``name``: ``auto``, ``cpu``, ``mps``, ``cuda`` or ``cuda:N``.

    ``auto`` gives the current CUDA device if there is a GPU, else ``mps`` on Apple silicon, else
    ``cpu``. A name that is unknown or not available here raises MmvizError listing what is.
    """
    wanted = str(name).strip().lower()
    if wanted == "auto":
        if _cuda_count():
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("mps" if _mps_available() else "cpu")
    try:
        device = torch.device(wanted)
    except (RuntimeError, ValueError):
        device = None
    choices = f"use auto, {', '.join(_names())}"
    if device is None or device.type not in DEVICE_KINDS:
        raise MmvizError(f"unknown device '{name}'; {choices}")
    if device.type == "cuda":
        count = _cuda_count()
        index = 0 if device.index is None else device.index
        if index >= count:
            raise MmvizError(f"device '{name}' is not available here ({_gpu_phrase(count)}); {choices}")
        return torch.device("cuda", index)
    if device.type == "mps" and not _mps_available():
        raise MmvizError(f"device '{name}' is not available here (no Apple GPU); {choices}")
    return device


def _names() -> list[str]:
    return [d["name"] for d in available_devices()]


def _gpu_phrase(count: int) -> str:
    return "no CUDA GPU" if count == 0 else f"{count} CUDA GPU{'s' if count > 1 else ''}"
