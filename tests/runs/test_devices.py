"""Device choice: auto = cuda, then mps, then cpu; unknown or absent devices are readable errors."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import torch

from mmviz.errors import MmvizError
from mmviz.runs.devices import available_devices, pick_device


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch):
    """Pretend this machine has ``gpus`` CUDA GPUs (H100s, current device 0) and maybe an Apple GPU."""

    def configure(gpus: int = 0, mps: bool = False) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
        monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
        monkeypatch.setattr(
            torch.cuda, "get_device_properties",
            lambda i: SimpleNamespace(name=f"NVIDIA H100 #{i}", total_memory=80 * 2**30),
        )
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return configure


@pytest.mark.parametrize(
    ("gpus", "mps", "expected"),
    [(0, False, "cpu"), (0, True, "mps"), (1, False, "cuda:0"), (2, True, "cuda:0")],
)
def test_auto_prefers_cuda_then_mps_then_cpu(machine, gpus, mps, expected):
    machine(gpus=gpus, mps=mps)
    assert pick_device("auto") == torch.device(expected)
    assert pick_device() == torch.device(expected)
    assert available_devices()[0]["name"] == expected  # the list is in auto's order


@pytest.mark.parametrize(
    ("name", "expected"),
    [("cpu", "cpu"), ("CPU", "cpu"), (" cuda ", "cuda:0"), ("cuda:1", "cuda:1"), ("mps", "mps")],
)
def test_explicit_devices(machine, name, expected):
    machine(gpus=2, mps=True)
    assert pick_device(name) == torch.device(expected)


@pytest.mark.parametrize(
    ("gpus", "mps", "name", "message"),
    [
        (0, False, "cuda", "device 'cuda' is not available here \\(no CUDA GPU\\); use auto, cpu$"),
        (1, False, "cuda:1", "device 'cuda:1' is not available here \\(1 CUDA GPU\\); use auto, cuda:0, cpu$"),
        (0, False, "mps", "device 'mps' is not available here \\(no Apple GPU\\); use auto, cpu$"),
        (0, True, "tpu", "unknown device 'tpu'; use auto, mps, cpu$"),
        (0, False, "meta", "unknown device 'meta'; use auto, cpu$"),
        (0, False, "", "unknown device ''; use auto, cpu$"),
    ],
)
def test_unknown_or_absent_devices_are_readable_errors(machine, gpus, mps, name, message):
    machine(gpus=gpus, mps=mps)
    with pytest.raises(MmvizError, match=message):
        pick_device(name)


def test_available_devices_describe_gpus(machine):
    machine(gpus=2, mps=False)
    devices = available_devices()
    assert [(d["name"], d["kind"]) for d in devices] == [("cuda:0", "cuda"), ("cuda:1", "cuda"), ("cpu", "cpu")]
    assert devices[1]["description"] == "NVIDIA H100 #1, 80.0 GiB"
    assert devices[2]["description"].startswith(f"CPU, {os.cpu_count()} cores")


def test_this_machine_has_a_usable_device():
    """No mocks: whatever auto picks here is listed and can hold a tensor."""
    device = pick_device("auto")
    assert str(device) in [d["name"] for d in available_devices()]
    assert torch.ones(2, device=device).sum().item() == 2.0
