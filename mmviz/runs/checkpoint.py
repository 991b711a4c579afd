"""Checkpoints as safetensors: model weights, optimizer/RNG state, written atomically. No pickle.

Files in a run folder:

- ``checkpoint.safetensors``: the model's state dict, nothing else (any safetensors reader can
  load it). Its header holds the step and a token naming this save.
- ``optimizer.safetensors``: everything in ``meta`` (optimizer state dict, RNG states, step, ...).
  Tensors are stored as named entries; the rest of the structure is JSON in the file's header,
  with each tensor replaced by ``{"__tensor__": name}``. Same token as the checkpoint it belongs to.
- ``optimizer.prev.safetensors``: the previous training state, kept while a save is in flight.

Each file is written to a temp file and renamed into place. The two renames are not one atomic
step, so the checkpoint file is renamed last (it is the commit) and the training state that
matches it stays reachable under the ``prev`` name: a crash at any point leaves a loadable pair.
"""

from __future__ import annotations

import json
import os
import random
import secrets
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from mmviz.errors import MmvizError
from mmviz.runs.files import (
    CHECKPOINT_FILE,
    STEP_KEY,
    checkpoint_info,
    fsync_dir,
    load_config,
    save_config,
    write_atomically,
)

__all__ = [
    "CHECKPOINT_FILE", "TRAINING_STATE_FILE", "save_checkpoint", "load_checkpoint", "checkpoint_info",
    "capture_rng_state", "restore_rng_state", "flatten_tensors", "unflatten_tensors",
    "save_config", "load_config",
]

TRAINING_STATE_FILE = "optimizer.safetensors"
PREVIOUS_TRAINING_STATE_FILE = "optimizer.prev.safetensors"
FORMAT_VERSION = "1"
_TOKEN, _META, _FORMAT = "mmviz.token", "mmviz.meta", "mmviz.format"
_MARKERS = ("__tensor__", "__tuple__", "__items__")


# -- nested structures <-> (JSON skeleton, named tensors) --------------------------------------


def flatten_tensors(obj: Any, prefix: str = "") -> tuple[Any, dict[str, torch.Tensor]]:
    """Split a nested structure (dicts, lists, tuples, numbers, strings, None, tensors) into a
    JSON-able skeleton and a flat ``{name: tensor}`` dict.

    Tensors become ``{"__tensor__": name}`` (name = path of keys, e.g. ``optimizer/state/0/exp_avg``);
    tuples become ``{"__tuple__": [...]}``; dicts whose keys are not all strings (an optimizer's
    ``state`` has int keys) become ``{"__items__": [[key, value], ...]}``. Inverse: unflatten_tensors.
    """
    tensors: dict[str, torch.Tensor] = {}

    def encode(value: Any, path: str) -> Any:
        if isinstance(value, torch.Tensor):
            name = path or "tensor"
            while name in tensors:  # two paths can spell the same name ("a/b" key vs a -> b)
                name += "'"
            tensors[name] = value
            return {"__tensor__": name}
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, tuple):
            return {"__tuple__": [encode(v, f"{path}/{i}") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [encode(v, f"{path}/{i}") for i, v in enumerate(value)]
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value) and not any(m in value for m in _MARKERS):
                return {k: encode(v, f"{path}/{k}") for k, v in value.items()}
            return {"__items__": [[encode(k, f"{path}/key"), encode(v, f"{path}/{k}")] for k, v in value.items()]}
        raise TypeError(
            f"cannot store {type(value).__name__} at '{path}' in a checkpoint: use tensors, numbers, "
            "strings, lists, tuples and dicts"
        )

    return encode(obj, prefix), tensors


def unflatten_tensors(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Rebuild the structure that flatten_tensors split into ``skeleton`` and ``tensors``."""

    def decode(value: Any) -> Any:
        if isinstance(value, list):
            return [decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__tensor__" in value:
            return tensors[value["__tensor__"]]
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        if "__items__" in value:
            return {_hashable(decode(k)): decode(v) for k, v in value["__items__"]}
        return {k: decode(v) for k, v in value.items()}

    return decode(skeleton)


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, (list, tuple)) else key


def _owned_cpu_tensors(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """CPU, contiguous tensors with no two sharing memory (safetensors refuses shared storage,
    e.g. tied weights or a tensor stored twice)."""
    owned: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for name, tensor in tensors.items():
        t = tensor.detach().to("cpu").contiguous()
        ptr = t.untyped_storage().data_ptr()
        if ptr in seen or t.untyped_storage().nbytes() != t.nbytes:
            t = t.clone()
            ptr = t.untyped_storage().data_ptr()
        if t.nbytes:  # empty tensors have no storage to share
            seen.add(ptr)
        owned[name] = t
    return owned


def _save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    save_file(_owned_cpu_tensors(tensors), str(path), metadata=metadata)


def _read_token(path: Path) -> str | None:
    if not path.exists():
        return None
    with safe_open(str(path), framework="pt") as f:
        return (f.metadata() or {}).get(_TOKEN)


# -- checkpoints -----------------------------------------------------------------------------


def save_checkpoint(run_dir: Path, state: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Write a checkpoint: ``state`` (a model's state dict, ``{name: Tensor}``) to
    ``checkpoint.safetensors`` and ``meta`` (step, ``optimizer``: an optimizer's state dict,
    ``rng``: capture_rng_state(), anything else made of tensors/numbers/strings/lists/dicts) to
    ``optimizer.safetensors``. Both are written atomically; returns the checkpoint's path.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise TypeError("save_checkpoint: state must map str names to tensors (a model's state_dict())")
    skeleton, meta_tensors = flatten_tensors(meta)
    token = secrets.token_hex(8)
    step = meta.get("step")
    checkpoint_path = run_dir / CHECKPOINT_FILE
    training_path = run_dir / TRAINING_STATE_FILE
    previous_path = run_dir / PREVIOUS_TRAINING_STATE_FILE

    header = {_TOKEN: token, _FORMAT: FORMAT_VERSION}
    # The training state goes first; the checkpoint rename below is the commit.
    committed_token = _read_token(checkpoint_path)
    if committed_token is not None and _read_token(training_path) == committed_token:
        # The current training state matches the committed checkpoint: keep it as the fallback.
        # (If it does not match, an earlier save died half-way and prev already holds the match.)
        os.replace(training_path, previous_path)
    write_atomically(
        training_path,
        lambda tmp: _save_tensors(tmp, meta_tensors, {**header, _META: json.dumps(skeleton)}),
    )
    write_atomically(
        checkpoint_path,
        lambda tmp: _save_tensors(tmp, state, {**header, STEP_KEY: json.dumps(step)}),
    )
    fsync_dir(run_dir)
    return checkpoint_path


def load_checkpoint(
    run_dir: Path, device: str | torch.device = "cpu", *, weights_only: bool = False
) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
    """The last checkpoint of a run as ``(state, meta)`` (as given to save_checkpoint), or None if
    the run has none. Model tensors are put on ``device``; meta tensors stay on the CPU (RNG state
    must; ``optimizer.load_state_dict`` moves its state to the parameters' device itself).
    ``weights_only``: return ``(state, {})`` without reading the training state (which a shipped
    reference run does not have).
    """
    run_dir = Path(run_dir)
    checkpoint_path = run_dir / CHECKPOINT_FILE
    if not checkpoint_path.exists():
        return None
    with safe_open(str(checkpoint_path), framework="pt", device=str(device)) as f:
        token = (f.metadata() or {}).get(_TOKEN)
        state = {name: f.get_tensor(name) for name in f.keys()}
    if weights_only:
        return state, {}
    for candidate in (run_dir / TRAINING_STATE_FILE, run_dir / PREVIOUS_TRAINING_STATE_FILE):
        if token is not None and _read_token(candidate) == token:
            with safe_open(str(candidate), framework="pt") as f:
                skeleton = json.loads(f.metadata()[_META])
                tensors = {name: f.get_tensor(name) for name in f.keys()}
            return state, unflatten_tensors(skeleton, tensors)
    raise MmvizError(
        f"the checkpoint in {run_dir} has no matching {TRAINING_STATE_FILE}; the run can be "
        "inspected but not resumed"
    )


# -- random number generators ------------------------------------------------------------------


def capture_rng_state() -> dict[str, Any]:
    """The global RNG states: torch CPU (uint8 tensor), CUDA (one tensor per device, if any),
    numpy's legacy global generator and Python's ``random`` (both as JSON-able values).

    A ``torch.Generator``'s ``get_state()`` or a numpy Generator's ``bit_generator.state`` can be
    put in a checkpoint's meta as they are.
    """
    kind, key, pos, has_gauss, cached_gaussian = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "key": key.tolist(), "pos": int(pos), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached_gaussian)},
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Put back RNG states captured by capture_rng_state (CUDA only if the device count matches)."""
    torch.set_rng_state(state["torch"].to("cpu", torch.uint8))
    numpy_state = state["numpy"]
    np.random.set_state((
        numpy_state["kind"], np.asarray(numpy_state["key"], dtype=np.uint32), numpy_state["pos"],
        numpy_state["has_gauss"], numpy_state["cached_gaussian"],
    ))
    random.setstate(_as_tuples(state["python"]))
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _as_tuples(value: Any) -> Any:
    """random.setstate wants tuples all the way down."""
    return tuple(_as_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value
