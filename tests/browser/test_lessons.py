"""Lesson 1 walked in real Chromium from its first step to its last: each step's answer is
revealed, its view opens in the step's state with its main chart drawn (data in it, not only
axes) and no exception, and the bar above the view leads back to the same step."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from mmviz.lessons import LESSONS_DIR, lesson_files, parse_lesson
from mmviz.runs.store import RunStore
from mmviz.ui.page_params import page_spec
from tests.browser.conftest import screenshot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Values drawn in the first plotly chart's data traces (drawing aids, hoverinfo 'skip', not counted).
FIRST_CHART_DRAWN = """() => {
  const gd = Array.from(document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot'))
    .find(g => !g.closest('.st-key-lesson_preload'));  // the Lessons page's hidden preloading chart
  if (!gd || !gd.querySelector('.main-svg')) return 0;
  const len = a => (a && typeof a.length === 'number') ? a.length : 0;
  return (gd._fullData || gd.data || []).filter(t => t.hoverinfo !== 'skip').reduce((n, t) => n + Math.max(
    len(t.x), len(t.y), len(t.z), t.source ? 1 : 0), 0);
}"""


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def test_walk_lesson_one_from_start_to_end(page, app_url, tmp_path):
    store = RunStore(tmp_path)  # lesson 1's pages (geometry, hierarchy) declare no run menus
    lesson = min((parse_lesson(p) for p in lesson_files(LESSONS_DIR)), key=lambda x: (x.order, x.key))
    n = len(lesson.steps)
    page.goto(f"{app_url}/lessons?lesson={lesson.key}")
    wait_idle(page)
    main = page.locator("[data-testid=stMain]")
    for number, step in enumerate(lesson.steps, start=1):
        heading = page.get_by_role("heading", name=f"{number} · {step.title}")
        heading.wait_for()
        assert f"Step {number} of {n}" in main.inner_text()
        assert _query(page.url) == {"lesson": lesson.key, "step": str(number)}

        page.get_by_role("button", name="Reveal the answer").click()
        page.get_by_text("Answer.").wait_for()
        wait_idle(page)
        assert " ".join(step.answer.split()[:3]).replace("*", "") in main.inner_text()
        assert _query(page.url)["answer"] == "true"
        if number == 1:
            screenshot(page, "lessons-step")

        link = page.locator("[data-testid=stPageLink] a", has_text="Open the view")
        link.click()
        page.wait_for_url(f"**/{step.page}**")
        wait_idle(page)
        page.wait_for_function(f"() => ({FIRST_CHART_DRAWN})() > 0", timeout=60_000)
        wait_idle(page)
        errors = page.locator("[data-testid=stException]")
        assert errors.count() == 0, f"step {number}: {errors.first.inner_text()}"
        # the view opened in the step's state: every parameter of the step reads back from its URL
        view = _query(page.url)
        spec = page_spec(step.page, step.query(), store)
        for key, value in step.query().items():
            param = spec[key]
            shown = param.default if key not in view else param.parse(view[key])  # a default is left out
            assert shown == param.parse(value), (number, key, value, view)
        bar = page.locator(".st-key-lesson_return")
        assert " ".join(step.question.split()[:4]).replace("*", "") in " ".join(bar.inner_text().split())

        bar.locator("[data-testid=stPageLink] a").click()
        page.wait_for_url("**/lessons**")
        wait_idle(page)
        heading.wait_for()
        assert _query(page.url)["step"] == str(number)
        if number < n:
            page.get_by_role("button", name="Next").click()
            wait_idle(page)
            assert page.get_by_role("button", name="Reveal the answer").count() == 1  # the answer hides again
    assert page.get_by_role("button", name="Next").is_disabled()
    assert "That was the last step" in main.inner_text()
