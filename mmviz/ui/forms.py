"""Form fields built from a parameter schema (``ParamSpec``), so pages never hard-code them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from mmviz.data.base import ParamSpec


def _field(spec: ParamSpec, key: str, value: Any) -> Any:
    label, help_ = spec.name.replace("_", " "), spec.help or None
    # A value the page put in session state (e.g. a model's own training defaults) is the widget's
    # value; passing a default as well would make Streamlit warn on the page.
    seeded = key in st.session_state
    if spec.type == "bool":
        return st.toggle(label, **({} if seeded else {"value": bool(value)}), key=key, help=help_)
    if spec.type == "choice":
        options = list(spec.choices or [])
        index = options.index(value) if value in options else 0
        return st.selectbox(label, options, **({} if seeded else {"index": index}), key=key, help=help_)
    if spec.type == "int":
        return int(st.number_input(label, min_value=None if spec.min is None else int(spec.min),
                                   max_value=None if spec.max is None else int(spec.max),
                                   **({} if seeded else {"value": int(value)}), step=1, key=key, help=help_))
    if spec.type == "float":
        return float(st.number_input(label, min_value=spec.min, max_value=spec.max,
                                     **({} if seeded else {"value": float(value)}), key=key, help=help_,
                                     format="%g"))
    return st.text_input(label, **({} if seeded else {"value": str(value)}), key=key, help=help_)


def param_form(specs: Sequence[ParamSpec], key: str, values: dict[str, Any] | None = None,
               columns: int = 3, slots: dict[str, Any] | None = None) -> dict[str, Any]:
    """Widgets for ``specs`` laid out in ``columns``; advanced ones in a collapsed expander.

    ``values`` overrides defaults (e.g. from the URL). ``slots``, if given, receives an empty
    placeholder under each field (name → ``st.empty()``) for a message about that value.
    Returns {name: value}.
    """
    values = values or {}
    out: dict[str, Any] = {}
    basic = [s for s in specs if not s.advanced]
    advanced = [s for s in specs if s.advanced]

    def place(spec: ParamSpec) -> None:
        out[spec.name] = _field(spec, f"{key}.{spec.name}", values.get(spec.name, spec.default))
        if slots is not None:
            slots[spec.name] = st.empty()

    cols = st.columns(columns)
    for i, spec in enumerate(basic):
        with cols[i % columns]:
            place(spec)
    if advanced:
        with st.expander("Advanced parameters"):
            cols = st.columns(columns)
            for i, spec in enumerate(advanced):
                with cols[i % columns]:
                    place(spec)
    return out
