"""Read a checkpoint's weights without running code from it, and check its keys.

``.safetensors`` files are read by safetensors; anything else by ``torch.load(...,
weights_only=True)``, which unpickles tensors and plain containers only. A file that needs
more (a pickled class, a function) is refused, never unpickled in full.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch

from mmviz.errors import MmvizError

SAFETENSORS_SUFFIX = ".safetensors"
# Keys under which trainers nest the state dict (MERU: "model"; Lightning and others: "state_dict").
NESTED_KEYS = ("model", "state_dict", "module")
SHOWN_KEYS = 5


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file, as a flat ``{name: tensor}`` dict on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise MmvizError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise MmvizError(f"{path}: the checkpoint file is empty")
    if path.suffix == SAFETENSORS_SUFFIX:
        return _read_safetensors(path)
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MmvizError(
            f"{path}: refused, the checkpoint holds more than tensors and plain containers "
            f"and mmviz does not unpickle arbitrary objects ({first[:160]})"
        ) from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as err:
        raise MmvizError(
            f"{path}: not a readable PyTorch checkpoint (corrupted or truncated?): {_first_line(err)}") from None
    return _flatten(loaded, path)


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as err:
        raise MmvizError(f"{path}: not a readable safetensors file: {_first_line(err)}") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:200]


def _flatten(loaded: object, path: Path) -> dict[str, torch.Tensor]:
    """A state dict from what ``torch.load`` returned: the dict itself or one nested under a
    trainer's key; non-tensor entries (step counters, configs) are dropped."""
    if not isinstance(loaded, Mapping):
        raise MmvizError(f"{path}: expected a dict of tensors, found a {type(loaded).__name__}")
    for key in NESTED_KEYS:
        inner = loaded.get(key)
        if isinstance(inner, Mapping) and any(isinstance(v, torch.Tensor) for v in inner.values()):
            loaded = inner
            break
    tensors = {str(k): v for k, v in loaded.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise MmvizError(f"{path}: the checkpoint holds no tensors")
    # DataParallel / DDP prefix every name with "module.".
    if all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module."):]: v for k, v in tensors.items()}
    return tensors


def check_keys(state: Mapping[str, torch.Tensor], expected: Iterable[str], architecture: str, source: str = "") -> None:
    """Refuse a state dict whose keys differ from ``expected``, naming the first few of each
    difference and the architecture that was expected."""
    expected = set(expected)
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if not missing and not unexpected:
        return
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing key(s): {_few(missing)}")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected key(s): {_few(unexpected)}")
    where = f"{source}: " if source else ""
    raise MmvizError(f"{where}not a {architecture} checkpoint; " + "; ".join(parts))


def check_shapes(state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], architecture: str,
                 source: str = "") -> None:
    """Refuse tensors whose shapes differ from the model's (same keys, another size)."""
    wrong = [k for k in sorted(expected) if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if wrong:
        k = wrong[0]
        where = f"{source}: " if source else ""
        raise MmvizError(
            f"{where}not a {architecture} checkpoint; {len(wrong)} tensor(s) have other shapes, e.g. {k} is "
            f"{tuple(state[k].shape)} where {architecture} has {tuple(expected[k].shape)}"
        )


def _few(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_KEYS])
    return shown + (", …" if len(names) > SHOWN_KEYS else "")
