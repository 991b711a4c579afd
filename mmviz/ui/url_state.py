"""Widget state that lives in the URL (``st.query_params``), so a view can be shared as a link.

A page states its URL parameters once, as a spec ``{url key: UrlParam}``. ``seed_from_url``
fills ``st.session_state`` from the URL once per session (values checked against the spec, bad
ones fall back to the default), under ``prefix + url key`` (the page's
``PageEntry.state_prefix``); widgets then use those keys; ``write_to_url`` puts the current
values back into the URL at the end of the run.

``url_slider`` and ``url_number_input`` draw the widget of a spec entry with the bounds (and
step, or choices) of its :class:`UrlParam`, so each bound is written once::

    URL = {"du": UrlParam(16, 2, 32), "noise": UrlParam(0.1, 0.01, 2.0, step=0.01)}
    seed_from_url(URL, P)
    url_slider("du: dimension of u", "du", URL, P)        # st.slider(..., 2, 32, key=P + "du")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st


@dataclass(frozen=True)
class UrlParam:
    """A URL-backed value: its default and, for numbers, inclusive bounds ``lo``, ``hi`` and the
    ``step`` its widget moves by (the widget's default when None); or allowed choices."""

    default: Any
    lo: float | None = None
    hi: float | None = None
    choices: Sequence[Any] | None = None
    step: float | None = None

    def parse(self, raw: str) -> Any:
        """The value ``raw`` stands for, or the default when it is malformed or out of range."""
        try:
            if self.choices is not None:  # as str() or as format() writes it (a choice 1.0 is written "1")
                return next((c for c in self.choices if raw in (str(c), self.format(c))), self.default)
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

    def format(self, value: Any) -> str:
        """``value`` as the URL writes it."""
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    def is_default(self, value: Any) -> bool:
        return value == self.default


@dataclass(frozen=True)
class UrlList(UrlParam):
    """A list of strings (a multiselect's value), comma-joined in the URL: ``?runs=a,b``. With
    ``choices``, items the URL names that are not among them are dropped."""

    default: tuple[str, ...] = ()

    def parse(self, raw: str) -> list[str]:
        items = [item for item in raw.split(",") if item]
        return items if self.choices is None else [item for item in items if item in self.choices]

    def format(self, value: Any) -> str:
        return ",".join(value)

    def is_default(self, value: Any) -> bool:
        return list(value) == list(self.default)


UrlSpec = Mapping[str, UrlParam]
"""A page's URL parameters: URL key → :class:`UrlParam`."""


def seed_from_url(spec: UrlSpec, prefix: str = "", initial: Mapping[str, Any] | None = None) -> None:
    """Put each key's URL value (or default) into session_state, once per session.

    ``initial``: values to start from instead of the default where the URL states none (or only
    the default), e.g. a run list chosen from the store; they are still written to the URL."""
    initial = initial or {}
    for key, param in spec.items():
        state_key = prefix + key
        if state_key in st.session_state:
            continue
        raw = st.query_params.get(key)
        value = param.default if raw is None else param.parse(raw)
        if key in initial and param.is_default(value):
            value = initial[key]
        st.session_state[state_key] = value


def write_to_url(spec: UrlSpec, prefix: str = "") -> None:
    """Mirror the current values into the URL (only those that differ from the default)."""
    values = {}
    for key, param in spec.items():
        value = st.session_state.get(prefix + key, param.default)
        if not param.is_default(value):
            values[key] = param.format(value)
    if dict(st.query_params) != values:
        st.query_params.from_dict(values)


def url_slider(label: str, key: str, spec: UrlSpec, prefix: str = "", *, where: Any = st,
               **kwargs: Any) -> Any:
    """The slider of URL parameter ``key``: session key ``prefix + key``, bounds and step from
    ``spec[key]`` (a ``select_slider`` over its choices when it has some). ``where``: the
    container to draw in (a column, ``st.sidebar``; by default ``st``, i.e. wherever the page
    draws now); ``kwargs`` go to the widget (``help``, ``format``, ``disabled``...). Returns the
    widget's value."""
    param = spec[key]
    if param.choices is not None:
        return where.select_slider(label, param.choices, key=prefix + key, **kwargs)
    if param.step is not None:
        kwargs["step"] = param.step
    return where.slider(label, param.lo, param.hi, key=prefix + key, **kwargs)


def url_number_input(label: str, key: str, spec: UrlSpec, prefix: str = "", *, where: Any = st,
                     **kwargs: Any) -> Any:
    """:func:`url_slider`'s number box: ``st.number_input`` with the bounds and step of ``spec[key]``."""
    param = spec[key]
    if param.step is not None:
        kwargs["step"] = param.step
    return where.number_input(label, param.lo, param.hi, key=prefix + key, **kwargs)
