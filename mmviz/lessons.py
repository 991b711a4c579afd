"""Guided lessons: ordered steps through the app's pages, one TOML file per lesson.

A lesson file (``assets/lessons/<key>.toml``; the file's name without ``.toml`` is the lesson's
key in the URL) holds a title, a one-line summary, the minutes it takes and its steps::

    title = "Hyperbolic vs Euclidean"
    summary = "Distances, circles, room for a tree, recentring, and WordNet's mammals."
    minutes = 20
    order = 1                         # optional: lessons are listed by (order, key)

    [[steps]]
    title = "Distances grow towards the rim"
    page = "geometry"                 # a page's url_path (mmviz/ui/pages.py)
    params = { k = 2, r0 = 0.5 }      # that page's URL parameters (optional)
    text = "What the step shows."
    question = "One question."
    answer = "Its answer, revealed on request."
    live = false                      # optional: an optional step that trains live

This module reads and checks the files; it knows nothing of Streamlit. What each page's URL
parameters are is the app's business: :func:`load_lessons` takes ``spec_for(page, query)``, the
page's parameters as objects with ``parse(raw) -> value`` (the app's ``UrlParam``), and checks that
each value in a step is one the page declares and reads back as itself. Every refusal is one
line naming the file, the step and the field.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import tomllib

from mmviz.errors import MmvizError
from mmviz.paths import ASSETS, REPO_ROOT

LESSONS_DIR = ASSETS / "lessons"
LESSONS_ENV = "MMVIZ_LESSONS"
"""A folder of lessons to show instead of ``assets/lessons`` (a teacher's own set)."""
LESSON_FIELDS = {"title": str, "summary": str, "minutes": int, "order": int, "steps": list}
LESSON_REQUIRED = ("title", "summary", "minutes", "steps")
STEP_FIELDS = {"title": str, "page": str, "params": dict, "text": str, "question": str, "answer": str,
               "live": bool}
STEP_REQUIRED = ("title", "page", "text", "question", "answer")
TYPE_NAMES = {str: "a string", int: "a whole number", list: "a list of [[steps]]", dict: "a table",
              bool: "true or false"}
REFERENCE_PREFIX = "ref-"  # the shipped reference runs' ids: ref-<folder in assets/runs>


class LessonError(MmvizError):
    """A lesson file that cannot be shown: the message names the file, step and field."""


class UrlParamLike(Protocol):
    """What the checker needs of a page's URL parameter (the app's ``UrlParam``)."""

    default: Any

    def parse(self, raw: str) -> Any: ...


SpecFor = Callable[[str, Mapping[str, str]], Mapping[str, UrlParamLike]]
"""``spec_for(page, query)``: the URL parameters the page declares (some pages' parameters depend
on others in the same link, e.g. the Train form's on its dataset and model)."""


@dataclass(frozen=True)
class Step:
    """One step: the page it opens (``page``: a url_path) with URL parameters ``params`` (the
    values as the file gives them), what to read, one question and its answer; ``live`` marks an
    optional step that trains a run."""

    title: str
    page: str
    text: str
    question: str
    answer: str
    params: Mapping[str, Any] = field(default_factory=dict)
    live: bool = False

    def query(self) -> dict[str, str]:
        """The step's URL parameters as the link writes them."""
        return {key: url_value(value) for key, value in self.params.items()}


@dataclass(frozen=True)
class Lesson:
    """A lesson: ``key`` (its file name without ``.toml``, the ``?lesson=`` of its link), the file,
    title, summary, minutes and its steps in order."""

    key: str
    path: Path
    title: str
    summary: str
    minutes: int
    steps: tuple[Step, ...]
    order: int = 100


def url_value(value: Any) -> str:
    """A parameter value from a lesson file as a URL writes it: ``true``/``false``, numbers as
    Python writes them, a list comma-joined (``?runs=a,b``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def display_path(path: Path) -> str:
    """``assets/lessons/x.toml`` for a shipped file, the full path for any other."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _where(path: Path, step: int | None = None, title: str = "", name: str = "") -> str:
    """``assets/lessons/x.toml, step 3 ("Circles"), params.c``: the start of a message."""
    parts = [display_path(path)]
    if step is not None:
        parts.append(f"step {step}" + (f" ({title!r})" if title else ""))
    return ", ".join(parts) + (f", {name}" if name else "")


def _check_fields(table: Mapping[str, Any], fields: Mapping[str, type], required: Sequence[str],
                  where: Callable[[str], str]) -> None:
    for name in required:
        if name not in table:
            raise LessonError(f"{where(name)}: missing (every {'step' if 'page' in fields else 'lesson'} needs "
                              f"{', '.join(required)})")
    for name, value in table.items():
        if name not in fields:
            raise LessonError(f"{where(name)}: unknown field (known: {', '.join(fields)})")
        kind = fields[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise LessonError(f"{where(name)}: expected {TYPE_NAMES[kind]}, got {value!r}")
        if kind is str and not value.strip():
            raise LessonError(f"{where(name)}: empty")


def parse_lesson(path: Path) -> Lesson:
    """Read one lesson file and check its form (fields, types, non-empty texts); LessonError if bad.
    Pages and parameters are checked by :func:`check_lesson`."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise LessonError(f"{display_path(path)}: not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise LessonError(f"{display_path(path)}: cannot be read: {err}") from None
    _check_fields(data, LESSON_FIELDS, LESSON_REQUIRED, lambda name: _where(path, name=name))
    if data["minutes"] <= 0:
        raise LessonError(f"{_where(path, name='minutes')}: must be at least 1, got {data['minutes']}")
    if not data["steps"]:
        raise LessonError(f"{_where(path, name='steps')}: a lesson needs at least one [[steps]]")
    steps = []
    for number, raw in enumerate(data["steps"], start=1):
        if not isinstance(raw, dict):
            raise LessonError(f"{_where(path, number)}: expected a [[steps]] table, got {raw!r}")
        title = raw.get("title") if isinstance(raw.get("title"), str) else ""

        def where(name: str, number: int = number, title: str = title) -> str:
            return _where(path, number, title, name)

        _check_fields(raw, STEP_FIELDS, STEP_REQUIRED, where)
        for key, value in raw.get("params", {}).items():
            _check_value(value, where(f"params.{key}"))
        steps.append(Step(raw["title"], raw["page"], raw["text"], raw["question"], raw["answer"],
                          dict(raw.get("params", {})), raw.get("live", False)))
    return Lesson(path.stem, path, data["title"], data["summary"], data["minutes"], tuple(steps),
                  data.get("order", 100))


def _check_value(value: Any, where: str) -> None:
    """A URL value is a string, number, true/false, or a list of strings (a multiselect)."""
    if isinstance(value, list):
        if not all(isinstance(item, str) and item and "," not in item for item in value):
            raise LessonError(f"{where}: a list must hold non-empty strings without commas, got {value!r}")
    elif isinstance(value, float) and not math.isfinite(value):
        raise LessonError(f"{where}: expected a finite number, got {value!r}")
    elif not isinstance(value, (str, int, float, bool)):
        raise LessonError(f"{where}: expected a string, number, true/false or a list of strings, got {value!r}")


def _reads_back(param: UrlParamLike, value: Any) -> bool:
    """Whether the page reads the value's URL form as the value itself (not a fallback)."""
    parsed = param.parse(url_value(value))
    if isinstance(value, list):
        return list(parsed) == value
    if isinstance(value, bool) != isinstance(parsed, bool):
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return isinstance(parsed, (int, float)) and not isinstance(parsed, bool) and parsed == value
    return parsed == value


def _allowed(param: UrlParamLike) -> str:
    """What the parameter accepts, in words, for a message."""
    choices = getattr(param, "choices", None)
    if choices is not None:
        shown = [str(c) for c in list(choices)[:8]]
        more = f", … ({len(choices)} in all)" if len(choices) > 8 else ""
        return f"one of {', '.join(shown) or '(none here)'}{more}"
    lo, hi = getattr(param, "lo", None), getattr(param, "hi", None)
    default = param.default
    kind = ("true or false" if isinstance(default, bool) else "a whole number" if isinstance(default, int)
            else "a number" if isinstance(default, float) else "a string")
    if lo is not None or hi is not None:
        return f"{kind} from {lo:g} to {hi:g}" if lo is not None and hi is not None else kind
    return kind


def check_lesson(lesson: Lesson, pages: Collection[str], spec_for: SpecFor,
                 reference_runs: Collection[str] | None = None) -> None:
    """Check every step against the app: its page is one of ``pages`` (url_paths), each parameter
    is one ``spec_for(page, query)`` declares and its value reads back as itself (not replaced by
    the default); with ``reference_runs``, every ``ref-…`` value names one of them. LessonError
    (one line: file, step, field) at the first problem."""
    for number, step in enumerate(lesson.steps, start=1):
        def where(name: str, number: int = number, step: Step = step) -> str:
            return _where(lesson.path, number, step.title, name)

        if step.page not in pages:
            raise LessonError(f"{where('page')}: no page {step.page!r} (pages: {', '.join(pages)})")
        spec = spec_for(step.page, step.query())
        for key, value in step.params.items():
            if key not in spec:
                raise LessonError(f"{where(f'params.{key}')}: the {step.page} page has no URL parameter {key!r} "
                                  f"(it has: {', '.join(spec) or 'none'})")
            param = spec[key]
            if not _reads_back(param, value):
                raise LessonError(
                    f"{where(f'params.{key}')}: {value!r} is not a value the {step.page} page takes for {key!r} "
                    f"({_allowed(param)}); it would open with {param.parse(url_value(value))!r}")
            if reference_runs is not None:
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str) and item.startswith(REFERENCE_PREFIX) and item not in reference_runs:
                        raise LessonError(f"{where(f'params.{key}')}: {item!r} is not a shipped reference run "
                                          f"(they are: {', '.join(sorted(reference_runs))})")


def lessons_dir() -> Path:
    """Where the app reads lessons from: ``$MMVIZ_LESSONS`` or ``assets/lessons``."""
    value = os.environ.get(LESSONS_ENV, "").strip()
    return Path(value).expanduser() if value else LESSONS_DIR


def lesson_files(folder: Path = LESSONS_DIR) -> list[Path]:
    """The ``*.toml`` files in ``folder``, by name (none if it does not exist)."""
    folder = Path(folder)
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def load_lessons(folder: Path, pages: Collection[str], spec_for: SpecFor,
                 reference_runs: Collection[str] | None = None) -> tuple[list[Lesson], list[str]]:
    """Every lesson in ``folder`` that reads and checks, listed by (order, key), and one line per
    file that does not (those lessons are left out)."""
    lessons, problems = [], []
    for path in lesson_files(folder):
        try:
            lesson = parse_lesson(path)
            check_lesson(lesson, pages, spec_for, reference_runs)
        except LessonError as err:
            problems.append(str(err))
            continue
        lessons.append(lesson)
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.key)), problems
