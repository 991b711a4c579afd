"""A run folder's files without tensors: atomic writes (temp file in the same folder +
``os.replace``), ``config.json``, and a checkpoint's header (step) read without torch."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safetensors import safe_open

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.safetensors"
EMBEDDINGS_FILE = "embeddings.npz"  # the held-out embeddings a run exported (mmviz.runs.embeddings)
CROSS_FILE = "cross_views.json"
"""A CoMM n = 3 run's saved cross-view read-out (:mod:`mmviz.runs.triple_views`)."""
STEP_KEY = "mmviz.step"  # header entry of checkpoint.safetensors that holds the step (JSON)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entry list, so a rename inside it survives a power cut (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_path_for(path: Path) -> Path:
    """A fresh, empty temp file next to ``path`` (same folder, so ``os.replace`` is atomic)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(temp_path)``, fsync the result and rename it over ``path``.

    A reader sees either the old file or the new one, never a half-written file; on error the
    temp file is removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = temp_path_for(path)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_json_atomically(path: Path, obj: object) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True) + "\n"
    write_atomically(Path(path), lambda tmp: tmp.write_text(text))


def save_config(run_dir: Path, config: dict) -> Path:
    """Write ``run_dir/config.json`` atomically; returns its path."""
    path = Path(run_dir) / CONFIG_FILE
    write_json_atomically(path, config)
    return path


def load_config(run_dir: Path) -> dict:
    """Read ``run_dir/config.json``."""
    return json.loads((Path(run_dir) / CONFIG_FILE).read_text())


def checkpoint_info(run_dir: Path) -> dict[str, Any] | None:
    """``{"step": int | None, "saved": unix time}`` of the run's checkpoint, read from its header
    without loading tensors (or torch), or None if there is none."""
    path = Path(run_dir) / CHECKPOINT_FILE
    try:
        with safe_open(str(path), framework="numpy") as f:
            header = f.metadata() or {}
        saved = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return {"step": json.loads(header.get(STEP_KEY, "null")), "saved": saved}
