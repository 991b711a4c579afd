"""Where mmviz keeps its state: runs, caches. Everything lives under ``MMVIZ_HOME``."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS = REPO_ROOT / "assets"


def mmviz_home() -> Path:
    """The state folder: ``$MMVIZ_HOME`` or ``./runs``; created on first use."""
    home = Path(os.environ.get("MMVIZ_HOME", "runs")).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def cache_dir(kind: str) -> Path:
    """A cache sub-folder of ``MMVIZ_HOME`` (e.g. ``datasets``, ``projections``)."""
    path = mmviz_home() / "cache" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path
