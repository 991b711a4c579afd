"""Widget state that lives in the URL (``st.query_params``), so a view can be shared as a link.

``seed_from_url`` fills ``st.session_state`` from the URL once per session (values checked
against the spec, bad ones fall back to the default); widgets then use those keys;
``write_to_url`` puts the current values back into the URL at the end of the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import streamlit as st


@dataclass(frozen=True)
class UrlParam:
    """A URL-backed value: its default and, for numbers, inclusive bounds; or allowed choices."""

    default: Any
    lo: float | None = None
    hi: float | None = None
    choices: Sequence[Any] | None = None

    def parse(self, raw: str) -> Any:
        """The value ``raw`` stands for, or the default when it is malformed or out of range."""
        try:
            if self.choices is not None:
                return next((c for c in self.choices if str(c) == raw), self.default)
            if isinstance(self.default, bool):
                return raw.lower() in ("1", "true", "yes")
            if isinstance(self.default, int):
                value: Any = int(raw)
            elif isinstance(self.default, float):
                value = float(raw)
            else:
                return raw
        except ValueError:
            return self.default
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi) or value != value:
            return self.default
        return value


def seed_from_url(spec: dict[str, UrlParam], prefix: str = "") -> None:
    """Put each key's URL value (or default) into session_state, once per session."""
    for key, param in spec.items():
        state_key = prefix + key
        if state_key in st.session_state:
            continue
        raw = st.query_params.get(key)
        st.session_state[state_key] = param.default if raw is None else param.parse(raw)


def write_to_url(spec: dict[str, UrlParam], prefix: str = "") -> None:
    """Mirror the current values into the URL (only those that differ from the default)."""
    values = {}
    for key, param in spec.items():
        value = st.session_state.get(prefix + key, param.default)
        if value != param.default:
            values[key] = f"{value:.4g}" if isinstance(value, float) else str(value)
    if dict(st.query_params) != values:
        st.query_params.from_dict(values)
