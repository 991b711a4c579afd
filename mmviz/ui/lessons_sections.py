"""The Lessons page's sections: the lessons read and checked from their files (cached until a file
changes), the lesson menu, and the current step: its text, its question with the answer revealed
on request, Previous / Next, and a link that opens the step's page in the step's state.

Progress lives in plain session-state keys (``lessons.lesson``, ``lessons.step``,
``lessons.answer``), mirrored in the URL (``?lesson=…&step=…&answer=true``), so a link resumes a
lesson and a visit to another page does not lose the place (widget keys would be cleaned up).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from mmviz import lessons as lesson_files
from mmviz.gallery.package import GALLERY_DIR, shipped_runs
from mmviz.lessons import Lesson, Step
from mmviz.runs.store import RunStore
from mmviz.ui import page_params, preload
from mmviz.ui.charts import show_chart
from mmviz.ui.lesson_return import OpenStep, remember
from mmviz.ui.pages import PAGES, page_entry
from mmviz.ui.shell import PRESENTER_KEY
from mmviz.ui.train_runs import get_store
from mmviz.ui.url_state import UrlSpec

PREFIX = page_entry("lessons").state_prefix
LESSON, STEP, ANSWER, PICK = PREFIX + "lesson", PREFIX + "step", PREFIX + "answer", PREFIX + "pick"
KEPT = {"train": ("runs",)}
"""Values a step's view keeps unless the step sets them: the runs a class launched in a live step stay
selected on the Train page when it opens that view again."""
PAGE_CSS = """
<style>
.st-key-lesson_view [data-testid="stPageLink"] a {
  background-color: #4338ca; border-radius: 0.5rem; padding: 0.6rem 1rem; justify-content: center;
}
.st-key-lesson_view [data-testid="stPageLink"] a * {color: #ffffff !important; font-size: 1.1rem; font-weight: 600;}
.st-key-lesson_preload {
  position: absolute; width: 1px; height: 1px; overflow: hidden; opacity: 0; pointer-events: none;
}
</style>
"""
"""The step's link drawn as the page's main button (the theme's indigo); the preloading chart out of sight."""


@st.cache_resource(show_spinner=False)
def _reference_ids() -> frozenset[str]:
    """The shipped reference runs' ids (``ref-meru``...): what lessons may name."""
    return frozenset(run.run_id for run in shipped_runs(GALLERY_DIR))


@st.cache_data(show_spinner="Reading the lessons…", max_entries=4)
def _load(folder: str, stamps: tuple, home: str, run_ids: tuple[str, ...]) -> tuple[list[Lesson], list[str]]:
    del stamps, run_ids  # part of the cache key only: an edited file or a new run means a new check
    store = RunStore(home)
    files = lesson_files.lesson_files(Path(folder))
    keys = [path.stem for path in files]

    def spec_for(page: str, query: Any) -> UrlSpec:
        return page_params.page_spec(page, query, store, keys)

    return lesson_files.load_lessons(Path(folder), [p.url_path for p in PAGES], spec_for,
                                     _reference_ids())


def available_lessons() -> tuple[list[Lesson], list[str]]:
    """Every lesson that reads and checks (by order), and one line per file that does not.
    Re-read when a file in the folder changes (a teacher's edit shows on the next rerun)."""
    folder = lesson_files.lessons_dir()
    stamps = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in lesson_files.lesson_files(folder))
    store = get_store()
    run_ids = tuple(sorted(r["id"] for r in store.list_runs()))
    return _load(str(folder), stamps, str(store.home), run_ids)


def show_problems(problems: Sequence[str]) -> None:
    """One line per lesson file that cannot be shown, saying where and what."""
    for line in problems:
        st.error(f"This lesson is left out: {line}", icon=":material/error:")


def url_spec(lessons: Sequence[Lesson]) -> UrlSpec:
    """The page's URL parameters: ``lesson`` (a file's name), ``step`` (from 1), ``answer``."""
    return page_params.lessons_url([lesson.key for lesson in lessons])


def seed_progress(url: UrlSpec, lessons: Sequence[Lesson]) -> tuple[Lesson, int]:
    """The lesson and step (0-based) to show: from session state, else from the URL (once per
    session), the step clamped to the lesson's length."""
    state = st.session_state
    for key, name in ((LESSON, "lesson"), (STEP, "step"), (ANSWER, "answer")):
        if key not in state:
            raw = st.query_params.get(name)
            state[key] = url[name].default if raw is None else url[name].parse(raw)
    by_key = {lesson.key: lesson for lesson in lessons}
    if state[LESSON] not in by_key:
        state[LESSON], state[STEP], state[ANSWER] = lessons[0].key, 1, False
    lesson = by_key[state[LESSON]]
    state[STEP] = min(max(int(state[STEP]), 1), len(lesson.steps))
    return lesson, state[STEP] - 1


def _pick() -> None:
    st.session_state[LESSON] = st.session_state[PICK]
    st.session_state[STEP], st.session_state[ANSWER] = 1, False


def _go(delta: int) -> None:
    st.session_state[STEP] = int(st.session_state[STEP]) + delta
    st.session_state[ANSWER] = False


def _reveal(shown: bool) -> None:
    st.session_state[ANSWER] = shown


def lesson_menu(lessons: Sequence[Lesson], current: Lesson) -> None:
    """The lesson menu (a new lesson starts at its first step) and the lesson's summary."""
    by_key = {lesson.key: lesson for lesson in lessons}
    st.session_state[PICK] = current.key
    st.selectbox("lesson", list(by_key), key=PICK, on_change=_pick,
                 format_func=lambda k: f"{by_key[k].title} · about {by_key[k].minutes} min · "
                                       f"{len(by_key[k].steps)} steps")
    st.markdown(current.summary)
    with st.expander("All steps", icon=":material/format_list_numbered:"):
        st.markdown("\n".join(
            f"{i}. **{step.title}** — {page_entry(step.page).title}"
            + (" *(optional, trains live)*" if step.live else "")
            for i, step in enumerate(current.steps, start=1)))


def link_query(step: Step, spec: UrlSpec) -> dict[str, str]:
    """The step's parameters as its page writes them back (``rho=1`` for ``1.0``; defaults left
    out), so the page does not rewrite the URL on arrival: a rewrite is a browser-history entry,
    and Back would then lead to the same view instead of the lesson."""
    query = {}
    for key, raw in step.query().items():
        param = spec.get(key)
        if param is None:
            query[key] = raw
            continue
        value = param.parse(raw)
        if not param.is_default(value):
            written = param.format(value)
            query[key] = written if param.parse(written) == value else raw
    return query


def _clear_page_state(step: Step, spec: UrlSpec) -> None:
    """Forget the target page's URL-backed values in this session, so the page reads the step's
    link afresh (a page seeds its widgets from the URL only for keys it does not hold yet)."""
    if step.page == "lessons":
        return  # this page's own place is not a view's state
    prefix = page_entry(step.page).state_prefix
    for key in spec:
        if key not in step.params and key in KEPT.get(step.page, ()):
            continue
        st.session_state.pop(prefix + key, None)


def view_link(step: Step) -> None:
    """A prominent link to the step's page, in the step's state (with ``present=1`` when this
    page is in presenter mode)."""
    entry = page_entry(step.page)
    try:
        spec = page_params.page_spec(step.page, step.query(), get_store())
    except KeyError:  # a page without URL parameters of its own
        spec = {}
    query = link_query(step, spec)
    if st.session_state.get(PRESENTER_KEY):
        query["present"] = "1"
    _clear_page_state(step, spec)
    with st.container(border=True, key="lesson_view"):
        st.page_link(entry.path, label=f"Open the view: {entry.title}", icon=entry.icon, query_params=query,
                     width="stretch")
        settings = ", ".join(f"{k} = {v}" for k, v in step.query().items()) or "its defaults"
        st.caption(f"Opens the {entry.title} page with {settings}, with this question and a link back above it.")


def page_style() -> None:
    """The page's CSS (the view's link as a button, the preloading chart hidden)."""
    st.markdown(PAGE_CSS, unsafe_allow_html=True)


def preload_view(lesson: Lesson, index: int) -> None:
    """While the class reads the step: the server imports the modules of the page the step opens
    (:mod:`mmviz.ui.preload`), and the browser loads the chart library through an empty chart out
    of sight (about a second of a 2-core CPU, once per browser tab), not when the view opens."""
    preload.start(page_entry(lesson.steps[index].page).path)
    with st.container(key="lesson_preload"):
        show_chart(go.Figure(layout=dict(width=40, height=40)), key="lesson_preload_chart", csv=False,
                   config={"displayModeBar": False, "staticPlot": True})


def step_section(lesson: Lesson, index: int) -> None:
    """The current step: progress, text, the view's link, the question, the answer on request,
    and Previous / Next."""
    step, n = lesson.steps[index], len(lesson.steps)
    remember(OpenStep(lesson.key, lesson.title, index + 1, n, step.page, step.question))
    st.progress((index + 1) / n, text=f"Step {index + 1} of {n}")
    st.subheader(f"{index + 1} · {step.title}", divider="gray")
    if step.live:
        st.caption(":material/model_training: Optional: this step trains a run live on this machine.")
    st.markdown(step.text)
    view_link(step)
    st.info(f"**Question.** {step.question}", icon=":material/help:")
    answer = st.container()  # one element whatever its state, so nothing below it moves
    with answer:
        if st.session_state.get(ANSWER):
            st.success(f"**Answer.** {step.answer}", icon=":material/lightbulb:")
            st.button("Hide the answer", key=PREFIX + "hide", on_click=_reveal, args=(False,),
                      icon=":material/visibility_off:")
        else:
            st.button("Reveal the answer", key=PREFIX + "reveal", on_click=_reveal, args=(True,),
                      icon=":material/visibility:", type="primary")
    back, _, forward = st.columns([1, 2, 1])
    back.button("Previous", key=PREFIX + "prev", on_click=_go, args=(-1,), disabled=index == 0,
                icon=":material/arrow_back:", width="stretch")
    if index + 1 < n:
        forward.button("Next", key=PREFIX + "next", on_click=_go, args=(1,), icon=":material/arrow_forward:",
                       type="primary", width="stretch")
    else:
        forward.button("Next", key=PREFIX + "next", disabled=True, icon=":material/arrow_forward:",
                       width="stretch")
        st.success(f"That was the last step of *{lesson.title}*. Pick another lesson above.",
                   icon=":material/school:")


def write_progress(url: UrlSpec) -> None:
    """Mirror the lesson and step into the URL, and ``answer=true`` while the answer is shown (the
    lesson is always written: a lesson added later may come first in the menu)."""
    state = st.session_state
    query = {"lesson": url["lesson"].format(state[LESSON]), "step": url["step"].format(state[STEP])}
    if state[ANSWER]:
        query["answer"] = "true"
    if dict(st.query_params) != query:
        st.query_params.from_dict(query)
