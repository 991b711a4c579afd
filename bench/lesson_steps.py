"""How long a class waits at each step of a lesson: a real ``streamlit run app.py`` in headless
Chromium, fresh ``MMVIZ_HOME`` (the reference runs are installed on start).

For every step of the lesson (default: the first one the Lessons page lists):

- ``open_s``: from clicking *Open the view* until the view is ready: the URL is the step's page,
  the script is idle (``notRunning``) and the page's first plotly chart has data drawn in it;
- ``back_s``: from clicking *Back to the lesson* (the bar above the view) until the Lessons page
  shows the same step again, idle;
- ``next_s``: from clicking *Next* until the next step is shown, idle.

Each step is shown for ``--read-s`` seconds (default 1, not timed) before its view is opened, as
a class reads it: the Lessons page loads the chart library in that time. Two passes over the
lesson in the same server: ``cold`` (each view's first visit since the server
started: its data is read and cached) and ``warm`` (a new browser tab, the server's caches warm:
a class that already saw the lesson, or a teacher who rehearsed it). Prints one JSON object with
``os.getloadavg()`` before and after. Target: a step's view ready in ≤ 2 s.

Usage: ``python bench/lesson_steps.py [--lesson KEY] [--screenshot PATH --screenshot-step N]``
(``--screenshot``: the Lessons page at step N with its answer revealed, for the README).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

IDLE = "document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'"
VIEW_READY = """([path]) => {
  if (!location.pathname.endsWith('/' + path) || !(IDLE)) return false;
  const gd = Array.from(document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot'))
    .find(g => !g.closest('.st-key-lesson_preload'));  // the Lessons page's hidden preloading chart
  if (!gd || !gd.querySelector('.main-svg')) return false;
  const len = a => (a && typeof a.length === 'number') ? a.length : 0;
  return (gd._fullData || []).filter(t => t.hoverinfo !== 'skip').some(t =>
    len(t.x) + len(t.y) + len(t.z) + (t.source ? 1 : 0) > 0);
}""".replace("IDLE", IDLE)
STEP_SHOWN = """([heading]) => location.pathname.endsWith('/lessons') && (IDLE) &&
  Array.from(document.querySelectorAll('[data-testid=stMain] h3')).some(h => h.innerText.startsWith(heading))
""".replace("IDLE", IDLE)


def _timed(page, click, predicate: str, arg) -> float:
    start = time.perf_counter()
    click()
    page.wait_for_function(predicate, arg=[arg], polling=25, timeout=120_000)
    return round(time.perf_counter() - start, 2)


def walk(page, url: str, lesson, read_s: float) -> list[dict]:
    """One pass over every step: read it (``read_s``, not timed), open its view, come back, go to
    the next step."""
    from tests.browser.conftest import wait_idle

    page.goto(f"{url}/lessons?lesson={lesson.key}&step=1")
    wait_idle(page)
    rows = []
    for number, step in enumerate(lesson.steps, start=1):
        page.wait_for_function(STEP_SHOWN, arg=[f"{number} · "], timeout=60_000)
        row = {"step": number, "page": step.page, "title": step.title}
        page.wait_for_timeout(read_s * 1000)
        link = page.locator("[data-testid=stPageLink] a", has_text="Open the view")
        row["open_s"] = _timed(page, link.click, VIEW_READY, step.page)
        back = page.locator(".st-key-lesson_return [data-testid=stPageLink] a")
        row["back_s"] = _timed(page, back.click, STEP_SHOWN, f"{number} · ")
        if number < len(lesson.steps):
            row["next_s"] = _timed(page, page.get_by_role("button", name="Next").click, STEP_SHOWN,
                                   f"{number + 1} · ")
        rows.append(row)
    return rows


def summary(rows: list[dict]) -> dict:
    opens = [r["open_s"] for r in rows]
    nexts = [r["next_s"] for r in rows if "next_s" in r]
    return {"open_max_s": max(opens), "open_median_s": statistics.median(opens),
            "next_max_s": max(nexts) if nexts else None,
            "steps_over_2s": [r["step"] for r in rows if r["open_s"] > 2.0]}


def take_screenshot(page, url: str, lesson, number: int, path: Path) -> None:
    from tests.browser.conftest import wait_idle

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{url}/lessons?lesson={lesson.key}&step={number}&answer=true")
    wait_idle(page)
    page.get_by_text("Answer.").wait_for()
    page.wait_for_timeout(500)
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(max(int(height) + 20, 700), 2000)})
    page.wait_for_timeout(700)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", help="lesson key (a file name in assets/lessons without .toml)")
    parser.add_argument("--screenshot", type=Path, help="save a lesson step with its answer revealed here")
    parser.add_argument("--screenshot-step", type=int, default=6)
    parser.add_argument("--read-s", type=float, default=1.0,
                        help="seconds on each step before opening its view (the class reads; not timed)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from mmviz.lessons import LESSONS_DIR, lesson_files, parse_lesson
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_app

    found = sorted((parse_lesson(p) for p in lesson_files(LESSONS_DIR)), key=lambda x: (x.order, x.key))
    lesson = next(x for x in found if x.key == args.lesson) if args.lesson else found[0]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mmviz-lessons-") as home, start_app(Path(home)) as url, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        passes = {}
        for name in ("cold", "warm"):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            passes[name] = walk(page, url, lesson, args.read_s)
            context.close()
        if args.screenshot:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            take_screenshot(context.new_page(), url, lesson, args.screenshot_step, args.screenshot)
            context.close()
        browser.close()
    print(json.dumps({
        "lesson": lesson.key, "steps": len(lesson.steps), "cores": os.cpu_count(), "read_s": args.read_s,
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
        "target_s": 2.0, "summary": {name: summary(rows) for name, rows in passes.items()}, **passes,
    }))


if __name__ == "__main__":
    main()
