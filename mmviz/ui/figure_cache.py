"""Figures every session of the server builds alike, built once.

``shared_figure(builder, *args, **kwargs)`` calls ``builder(*args, **kwargs)`` the first time and
hands that same figure to every later call with equal arguments, from any session
(``st.cache_resource``, keyed by the builder's name and a hash of its arguments: numpy arrays,
frames, dicts and tuples of them hash by content). Meant for figures of small inputs (a spectrum,
an ellipse, a few curves), where hashing the inputs costs far less than building the figure.
What it returns is shared: never mutate it (``show_chart`` sends a copy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st


@st.cache_resource(show_spinner=False, max_entries=128)
def _build(module: str, name: str, args: tuple, kwargs: dict[str, Any], _builder: Callable[..., Any]) -> Any:
    return _builder(*args, **kwargs)


def shared_figure(builder: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``builder(*args, **kwargs)``, built once per distinct arguments for the whole server (read-only)."""
    return _build(builder.__module__, builder.__qualname__, args, kwargs, builder)
