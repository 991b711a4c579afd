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


# Where the libraries the app runs (and the trainers and jobs it starts) would write outside
# MMVIZ_HOME by default: ~/.cache (Hugging Face, torch hub, open_clip, numba's and XDG caches),
# matplotlib's config folder and the temporary folder (torch's inductor cache lands there).
CONFINED = (
    ("NUMBA_CACHE_DIR", "cache/numba"),
    ("HF_HOME", "cache/huggingface"),
    ("TORCH_HOME", "cache/torch"),
    ("TORCHINDUCTOR_CACHE_DIR", "cache/torchinductor"),
    ("TRITON_CACHE_DIR", "cache/triton"),
    ("XDG_CACHE_HOME", "cache/xdg"),
    ("MPLCONFIGDIR", "cache/matplotlib"),
)
_confined: dict[str, str] = {}  # what confine_to_home last set: variable -> value ("" -> the home)


def confine_to_home() -> Path:
    """Make the app write nothing outside ``MMVIZ_HOME`` (for this process and the processes it
    starts, which inherit the environment): the library caches of :data:`CONFINED` go under it,
    unless the environment already names a place for one (an explicit choice wins), and temporary
    files go to ``MMVIZ_HOME/tmp`` whatever ``TMPDIR`` says. Called by ``app.py`` on every run (a
    no-op once done for this home), not by the CLI, so ``python -m mmviz`` keeps the usual caches.
    Returns the home folder."""
    home = mmviz_home().resolve()
    if _confined.get("") == str(home):
        return home
    import tempfile

    for var, sub in CONFINED:
        if var not in os.environ or os.environ[var] == _confined.get(var):  # unset, or ours for another home
            os.environ[var] = _confined[var] = str(home / sub)
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = str(tmp)  # gettempdir() may have been asked already (and cached) before this
    _confined[""] = str(home)
    return home


def cache_dir(kind: str) -> Path:
    """A cache sub-folder of ``MMVIZ_HOME`` (e.g. ``datasets``, ``projections``)."""
    path = mmviz_home() / "cache" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path
