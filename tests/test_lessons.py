"""Lesson files: the loader reads good files, refuses each kind of bad one with one line naming the
file, step and field, and every shipped lesson checks against the pages' real URL parameters."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mmviz import lessons
from mmviz.lessons import LessonError, check_lesson, load_lessons, parse_lesson
from mmviz.ui.url_state import UrlList, UrlParam

PAGES = ("geometry", "similarity", "interactions", "train")
SPECS = {
    "geometry": {"c": UrlParam(1.0, 0.1, 4.0), "k": UrlParam(3, 2, 4),
                 "center": UrlParam("none", choices=("none", "A")), "show": UrlParam(False)},
    "similarity": {"tau": UrlParam(0.1, choices=(0.05, 0.1, 1.0)), "run": UrlParam("")},
    "interactions": {"runs": UrlList(choices=["ref-comm-biased", "ref-cross-biased"])},
    "train": {},
}
REFERENCES = {"ref-comm-biased", "ref-cross-biased", "ref-clip"}

GOOD = """
title = "A lesson"
summary = "What it teaches."
minutes = 20
order = 2

[[steps]]
title = "First"
page = "geometry"
params = { c = 2, k = 2, center = "A", show = true }
text = "Look."
question = "What?"
answer = "That."

[[steps]]
title = "Second"
page = "interactions"
params = { runs = ["ref-comm-biased", "ref-cross-biased"] }
text = "Look again."
question = "Why?"
answer = "Because."

[[steps]]
title = "Live"
page = "train"
live = true
text = "Train."
question = "Where does it go?"
answer = "Down."
"""


def spec_for(page: str, query) -> dict:
    return SPECS[page]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def check(path: Path) -> None:
    check_lesson(parse_lesson(path), PAGES, spec_for, REFERENCES)


def refusal(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(LessonError) as err:
        check(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path)), message  # one line, naming the file
    return message


def test_a_good_file_reads_with_its_steps_in_order(tmp_path):
    lesson = parse_lesson(write(tmp_path, "my-lesson.toml", GOOD))
    check_lesson(lesson, PAGES, spec_for, REFERENCES)
    assert (lesson.key, lesson.title, lesson.minutes, lesson.order) == ("my-lesson", "A lesson", 20, 2)
    assert [s.title for s in lesson.steps] == ["First", "Second", "Live"]
    assert lesson.steps[0].query() == {"c": "2", "k": "2", "center": "A", "show": "true"}
    assert lesson.steps[1].query() == {"runs": "ref-comm-biased,ref-cross-biased"}
    assert lesson.steps[2].live and lesson.steps[2].params == {} and not lesson.steps[0].live


def with_step(**fields) -> str:
    """GOOD with the first step's fields replaced (None: removed)."""
    step = {"title": '"First"', "page": '"geometry"', "params": "{ c = 2 }", "text": '"Look."',
            "question": '"What?"', "answer": '"That."'}
    step.update({k: v for k, v in fields.items()})
    body = "\n".join(f"{k} = {v}" for k, v in step.items() if v is not None)
    return f'title = "A"\nsummary = "S"\nminutes = 5\n\n[[steps]]\n{body}\n'


@pytest.mark.parametrize("text, expected", [
    ('title = "A"\nminutes = ', "not valid TOML"),
    ('summary = "S"\nminutes = 5\n[[steps]]\n', "title: missing"),
    ('title = "A"\nsummary = "S"\nminutes = "twenty"\n[[steps]]\n', "minutes: expected a whole number, got 'twenty'"),
    ('title = "A"\nsummary = "S"\nminutes = 0\n[[steps]]\n', "minutes: must be at least 1"),
    ('title = "A"\nsummary = "S"\nminutes = 5\nsteps = []\n', "steps: a lesson needs at least one [[steps]]"),
    ('title = "A"\nsummary = "S"\nminutes = 5\nauthor = "me"\n[[steps]]\n', "author: unknown field"),
    (with_step(question=None), "step 1 ('First'), question: missing"),
    (with_step(quesiton='"typo"'), "step 1 ('First'), quesiton: unknown field"),
    (with_step(answer='"  "'), "step 1 ('First'), answer: empty"),
    (with_step(live='"yes"'), "step 1 ('First'), live: expected true or false"),
    (with_step(params='"c=2"'), "step 1 ('First'), params: expected a table"),
    (with_step(page='"geometri"'), "step 1 ('First'), page: no page 'geometri' (pages: geometry, similarity"),
    (with_step(params="{ curvature = 2 }"),
     "step 1 ('First'), params.curvature: the geometry page has no URL parameter 'curvature' (it has: c, k"),
    (with_step(params="{ c = 9 }"),
     "params.c: 9 is not a value the geometry page takes for 'c' (a number from 0.1 to 4); it would open with 1.0"),
    (with_step(params="{ k = 2.5 }"), "params.k: 2.5 is not a value the geometry page takes for 'k'"),
    (with_step(params='{ center = "Z" }'), "params.center: 'Z' is not a value the geometry page takes for 'center' "
                                           "(one of none, A); it would open with 'none'"),
    (with_step(params='{ show = "yes" }'), "params.show: 'yes' is not a value the geometry page takes for 'show' "
                                           "(true or false)"),
    (with_step(params="{ c = nan }"), "params.c: expected a finite number"),
    (with_step(params="{ c = 2020-01-01 }"), "params.c: expected a string, number, true/false or a list of strings"),
    (with_step(page='"similarity"', params="{ tau = 0.2 }"), "params.tau: 0.2 is not a value the similarity page "
                                                              "takes for 'tau' (one of 0.05, 0.1, 1.0)"),
    (with_step(page='"similarity"', params='{ run = "ref-cilp" }'),
     "params.run: 'ref-cilp' is not a shipped reference run (they are: ref-clip, ref-comm-biased"),
    (with_step(page='"interactions"', params='{ runs = ["ref-comm-biased", "ref-comm-bias"] }'),
     "params.runs: ['ref-comm-biased', 'ref-comm-bias'] is not a value the interactions page takes for 'runs'"),
    (with_step(page='"interactions"', params='{ runs = ["a,b"] }'),
     "params.runs: a list must hold non-empty strings without commas"),
])
def test_a_bad_file_is_refused_with_one_line_naming_file_step_and_field(tmp_path, text, expected):
    assert expected in refusal(tmp_path, text)


def test_a_value_equal_to_the_default_passes_and_float_choices_read_back(tmp_path):
    check(write(tmp_path, "a.toml", with_step(params="{ c = 1.0, k = 3 }")))
    check(write(tmp_path, "b.toml", with_step(page='"similarity"', params="{ tau = 1.0 }")))
    check(write(tmp_path, "c.toml", with_step(params="{ c = 4 }")))  # an int for a float parameter


def test_a_float_choice_reads_back_as_the_url_writes_it():
    param = UrlParam(0.1, choices=(0.05, 0.1, 1.0))
    assert param.format(1.0) == "1" and param.parse("1") == 1.0 and param.parse("1.0") == 1.0
    assert param.parse("2") == 0.1  # still not a choice


def test_load_lessons_keeps_the_good_files_lists_the_bad_and_orders_them(tmp_path):
    write(tmp_path, "zeta.toml", GOOD.replace("order = 2", "order = 1"))
    write(tmp_path, "alpha.toml", GOOD)
    write(tmp_path, "beta.toml", GOOD.replace("order = 2\n", ""))  # no order: after the ordered ones
    write(tmp_path, "broken.toml", with_step(page='"nowhere"'))
    write(tmp_path, "notes.txt", "not a lesson")
    found, problems = load_lessons(tmp_path, PAGES, spec_for, REFERENCES)
    assert [lesson.key for lesson in found] == ["zeta", "alpha", "beta"]
    assert len(problems) == 1 and "broken.toml, step 1 ('First'), page: no page 'nowhere'" in problems[0]
    assert load_lessons(tmp_path / "missing", PAGES, spec_for) == ([], [])


def test_the_lessons_folder_can_be_a_teachers_own(tmp_path, monkeypatch):
    monkeypatch.delenv(lessons.LESSONS_ENV, raising=False)
    assert lessons.lessons_dir() == lessons.LESSONS_DIR
    monkeypatch.setenv(lessons.LESSONS_ENV, str(tmp_path))
    assert lessons.lessons_dir() == tmp_path


# --- the shipped lessons -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def reference_store(tmp_path_factory):
    from mmviz.gallery.install import install_references
    from mmviz.runs.store import RunStore

    store = RunStore(tmp_path_factory.mktemp("home"))
    install_references(store)
    return store


def test_every_shipped_lesson_checks_against_the_pages(reference_store):
    from mmviz.gallery.package import GALLERY_DIR, shipped_runs
    from mmviz.ui import page_params
    from mmviz.ui.pages import PAGES as ENTRIES

    files = lessons.lesson_files(lessons.LESSONS_DIR)
    keys = [p.stem for p in files]
    found, problems = load_lessons(
        lessons.LESSONS_DIR, [p.url_path for p in ENTRIES],
        lambda page, query: page_params.page_spec(page, query, reference_store, keys),
        {run.run_id for run in shipped_runs(GALLERY_DIR)})
    assert problems == []
    assert [lesson.key for lesson in found] == [
        "hyperbolic-vs-euclidean", "contrastive-loss-computes", "contrastive-loss-aligns"]
    for lesson in found:
        assert 15 <= lesson.minutes <= 25 and 6 <= len(lesson.steps) <= 10, lesson.key
        live = [step for step in lesson.steps if step.live]
        assert all(step.page == "train" for step in live)
    assert {step.page for step in found[0].steps} == {"geometry", "hierarchy"}
    assert {step.page for step in found[1].steps} == {"similarity", "explorer", "train"}
    assert {step.page for step in found[2].steps} == {"interactions"}


def test_page_specs_match_what_the_pages_declare(reference_store):
    """The specs the pages seed from are the ones the checker reads (spot checks of each kind)."""
    from mmviz.ui import page_params

    spec = page_params.page_spec("explorer", {}, reference_store)
    assert spec["run"].default == "ref-meru" and "ref-clip" in spec["run"].choices
    assert page_params.page_spec("interactions", {}, reference_store)["runs"].parse("ref-comm-biased,x") == [
        "ref-comm-biased"]
    assert page_params.page_spec("gaussian", {}, reference_store)["run"].default == "ref-gauss-l2"
    train = page_params.page_spec("train", {"dataset": "gaussian", "model": "gauss-prob"}, reference_store)
    assert "gaussian.n" in train and "steps" in train and "runs" in train and "smooth" in train
    with pytest.raises(KeyError):
        page_params.page_spec("nowhere", {}, reference_store)


def test_the_readme_example_lesson_checks(tmp_path, reference_store):
    import re

    from mmviz.ui import page_params
    from mmviz.ui.pages import PAGES as ENTRIES

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(.*?)```", readme, re.S).group(1)
    lesson = parse_lesson(write(tmp_path, "example.toml", example))
    check_lesson(lesson, [p.url_path for p in ENTRIES],
                 lambda page, query: page_params.page_spec(page, query, reference_store), set())
    assert lesson.steps[0].params == {"c": 4.0}
