"""The Lessons page (run inside app.py's navigation, so its links resolve): pick a lesson, step
through it, reveal answers, progress in the URL, links carrying each step's parameters, bad files
named on the page, and the bar that leads back from a step's view."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from mmviz.lessons import LESSONS_DIR, parse_lesson

APP = str(Path(__file__).resolve().parents[2] / "app.py")
FIRST = parse_lesson(LESSONS_DIR / "hyperbolic-vs-euclidean.toml")
SECOND = parse_lesson(LESSONS_DIR / "contrastive-loss-computes.toml")


@pytest.fixture(autouse=True)
def _references(monkeypatch):
    # The shipped lessons name the reference runs: install them (the app tests' default is none).
    monkeypatch.delenv("MMVIZ_REFERENCE_RUNS", raising=False)
    monkeypatch.delenv("MMVIZ_LESSONS", raising=False)


def _open(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/lessons.py")
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _link(at: AppTest) -> tuple[str, dict[str, str]]:
    """The step's view link: its page and query."""
    proto = [e.proto for e in at.get("page_link") if e.proto.label.startswith("Open the view")][0]
    return proto.page, {k: v[0] for k, v in parse_qs(proto.query_string).items()}


def _texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [e.value for e in at.success] + [e.value for e in at.info])


def test_opens_on_the_first_step_of_the_first_lesson():
    at = _open()
    assert not at.exception and not at.error
    assert at.selectbox(key="lessons.pick").value == FIRST.key
    assert at.subheader[0].value == f"1 · {FIRST.steps[0].title}"
    assert FIRST.steps[0].question in _texts(at) and FIRST.steps[0].answer not in _texts(at)
    assert _link(at) == ("geometry", {"k": "2", "r0": "0.5", "a0": "180", "r1": "0.5", "a1": "0"})
    assert at.button(key="lessons.prev").disabled
    assert dict(at.query_params) == {"lesson": FIRST.key, "step": "1"}


def test_next_reveal_previous_and_the_url_follow():
    at = _open()
    at.button(key="lessons.next").click().run()
    assert at.subheader[0].value == f"2 · {FIRST.steps[1].title}"
    assert dict(at.query_params) == {"lesson": FIRST.key, "step": "2"}
    at.button(key="lessons.reveal").click().run()
    assert FIRST.steps[1].answer.split("\n")[0] in _texts(at)
    assert dict(at.query_params) == {"lesson": FIRST.key, "step": "2", "answer": "true"}
    at.button(key="lessons.hide").click().run()
    assert "answer" not in at.query_params
    at.button(key="lessons.reveal").click().run()
    at.button(key="lessons.next").click().run()  # a new step starts with its answer hidden
    assert at.subheader[0].value == f"3 · {FIRST.steps[2].title}" and "answer" not in at.query_params
    assert _link(at) == ("geometry", {})  # the page's defaults
    at.button(key="lessons.prev").click().run()
    assert at.subheader[0].value == f"2 · {FIRST.steps[1].title}"
    assert not at.exception


def test_picking_a_lesson_starts_it_at_its_first_step():
    at = _open(step="4")
    at.selectbox(key="lessons.pick").set_value(SECOND.key).run()
    assert at.subheader[0].value == f"1 · {SECOND.steps[0].title}"
    assert dict(at.query_params) == {"lesson": SECOND.key, "step": "1"}
    assert _link(at) == ("similarity", {"src": "toy"})


def test_a_link_resumes_the_lesson_where_it_was():
    step = SECOND.steps[3]
    at = _open(lesson=SECOND.key, step="4", answer="true")
    assert at.subheader[0].value == f"4 · {step.title}"
    assert step.answer.split("\n")[0] in _texts(at)
    # the link as the page writes it back (so arriving there adds no history entry)
    assert _link(at) == ("similarity", {"run": "ref-clip", "B": "8", "learned": "False", "tau": "1"})


def test_a_step_past_the_end_shows_the_last_step_and_next_is_off():
    at = _open(lesson=FIRST.key, step="99")
    n = len(FIRST.steps)
    assert at.subheader[0].value == f"{n} · {FIRST.steps[-1].title}"
    assert at.query_params["step"] == str(n)
    assert at.button(key="lessons.next").disabled
    assert _link(at) == ("hierarchy", {"h": "wordnet-mammal", "method": "train"})


def test_in_presenter_mode_links_keep_presenter_mode():
    at = _open(present="1")
    assert _link(at)[1]["present"] == "1"


def test_a_bad_lesson_file_is_named_on_the_page_and_the_good_ones_still_show(tmp_path, monkeypatch):
    (tmp_path / "good.toml").write_text((LESSONS_DIR / "hyperbolic-vs-euclidean.toml").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    (tmp_path / "bad.toml").write_text(textwrap.dedent("""
        title = "Bad"
        summary = "S"
        minutes = 5
        [[steps]]
        title = "Curvature"
        page = "geometry"
        params = { c = 40 }
        text = "T"
        question = "Q"
        answer = "A"
    """), encoding="utf-8")
    monkeypatch.setenv("MMVIZ_LESSONS", str(tmp_path))
    at = _open()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "bad.toml, step 1 ('Curvature'), params.c: 40 is not a value the geometry page takes for 'c'" in message
    assert at.selectbox(key="lessons.pick").options == [f"{FIRST.title} · about 20 min · {len(FIRST.steps)} steps"]


def test_no_lessons_at_all_says_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_LESSONS", str(tmp_path))
    at = _open()
    assert not at.exception and "No lessons to show" in at.info[0].value


def test_the_step_view_shows_the_question_and_the_way_back():
    at = _open(lesson=FIRST.key, step="5")
    state = at.session_state["lessons.return"]
    assert (state.page, state.number, state.question) == ("geometry", 5, FIRST.steps[4].question)
    for page, shown in ((state.page, True), ("similarity", False)):
        view = AppTest.from_file(APP, default_timeout=120)
        view.switch_page("pages/geometry.py")
        view.session_state["lessons.return"] = dataclasses.replace(state, page=page)
        view.run()
        assert not view.exception
        links = [e.proto for e in view.get("page_link") if e.proto.label == "Back to the lesson"]
        assert bool(links) == shown
        if shown:
            assert FIRST.steps[4].question in view.markdown[0].value
            assert links[0].query_string == f"lesson={FIRST.key}&step=5"
