"""The way back from a lesson's view: on the page a lesson step opened, a bar above the page with
the step's question and a link back to the lesson. ``app.py`` draws it above every page; it shows
only on the page of the step the Lessons page last showed in this session.

A page rewrites its URL when it adds a value it derives (a learned τ, a default run selection),
and every rewrite is a browser-history entry, so the browser's Back button can take two presses to
leave a view: the bar's link always takes one. Light on purpose (no lesson files, no page specs):
it runs on every page.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from mmviz.ui.shell import PRESENTER_KEY

RETURN_KEY = "lessons.return"
LESSONS_PAGE = "pages/lessons.py"


@dataclass(frozen=True)
class OpenStep:
    """The step the Lessons page shows: its lesson (key, title), number (from 1) of ``steps``, the
    page it opens and its question."""

    lesson: str
    title: str
    number: int
    steps: int
    page: str
    question: str


def remember(step: OpenStep) -> None:
    """Note the step shown, so its page can offer the way back."""
    st.session_state[RETURN_KEY] = step


def return_bar(url_path: str) -> None:
    """On the page of the step last shown: the step's question and a link back to the lesson."""
    step = st.session_state.get(RETURN_KEY)
    if not isinstance(step, OpenStep) or step.page != url_path or url_path == "lessons":
        return
    query = {"lesson": step.lesson, "step": str(step.number)}
    if st.session_state.get(PRESENTER_KEY):
        query["present"] = "1"
    with st.container(border=True, key="lesson_return"):
        text, link = st.columns([4, 1], vertical_alignment="center")
        text.markdown(f":material/school: **{step.title} · step {step.number} of {step.steps}.** {step.question}")
        link.page_link(LESSONS_PAGE, label="Back to the lesson", icon=":material/arrow_back:", query_params=query)
