"""Reference runs in the app: installed into the run store once per server and home, and the
page default for pages that inspect runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from mmviz.gallery.install import install_references, reference_root
from mmviz.paths import mmviz_home
from mmviz.runs.store import RunStore


@st.cache_resource(show_spinner="Adding the reference runs…")
def _installed(home: str) -> tuple[str, ...]:
    root = reference_root()
    return tuple(install_references(RunStore(home), root)) if root is not None else ()


def ensure_references() -> None:
    """Install the shipped reference runs into this server's store (once per server and home)."""
    _installed(str(mmviz_home().resolve()))


def default_run(runs: Sequence[dict[str, Any]], preferred: Sequence[str]) -> str | None:
    """The id a page opens on: the first of ``preferred`` (reference run ids) that exists,
    else the newest run, else None."""
    ids = [run["id"] for run in runs]
    for run_id in preferred:
        if run_id in ids:
            return run_id
    return ids[0] if ids else None
