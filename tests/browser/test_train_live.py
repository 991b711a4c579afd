"""The Train page in real Chromium: curves grow on their own while a run trains, Stop stops
it, a diverging run shows its error, and several tabs watching two runs lose nothing."""

from __future__ import annotations

import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from mmviz.runs import runner
from mmviz.runs.store import RunStore
from tests.browser.conftest import screenshot, start_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FAKE_TRAINER = Path(__file__).resolve().parents[1] / "runs" / "fake_trainer.py"
# A run small enough to start in seconds on a CPU: 256 captioned images, a 16-d CLIP.
TINY = {"dataset": "trifeature-captions", "trifeature-captions.n": 256, "trifeature-captions.n_test": 64,
        "model": "clip", "clip.dim": 16, "clip.cnn_widths": "8,16", "batch_size": 32, "log_every": 1,
        "eval_every": 100_000, "eval_size": 64, "checkpoint_every": 100_000, "device": "cpu"}
# Number of points of each trace of the chart titled TITLE (an empty list if it is not drawn).
POINTS_JS = """(title) => {
  for (const d of document.querySelectorAll('.js-plotly-plot')) {
    const text = d.layout && d.layout.title && String(d.layout.title.text).replace(/<[^>]+>/g, '');
    if (text === title && d._fullData)  // Streamlit's theme wraps the title in <b>
      return d._fullData.map(t => t._length || 0);
  }
  return [];
}"""


@pytest.fixture(scope="module")
def train_app(tmp_path_factory):
    """An app of its own (its MMVIZ_HOME is read by the tests); every trainer is gone afterwards."""
    home = tmp_path_factory.mktemp("train_home")
    with start_app(home) as url:
        yield url, RunStore(home)
    for run in RunStore(home).list_runs():
        if run["pid"] and runner.is_alive(run):
            os.killpg(run["pid"], signal.SIGKILL)


def _open(page, url: str, query: dict) -> None:
    page.goto(f"{url}/train?{urlencode(query)}")
    wait_idle(page)


def _no_exception(page) -> None:
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()


def test_the_loss_chart_grows_by_itself_and_stop_stops_the_run(page, train_app):
    url, store = train_app
    _open(page, url, {**TINY, "steps": 3000, "name": "live"})
    page.get_by_role("button", name="Launch run").click()
    # A first visit shows the reference runs' curves; count from when the launched run is selected.
    page.wait_for_url(re.compile(r"[?&]runs=\d{8}-\d{6}-"), timeout=60_000)
    # No clicks from here: the curves must come and grow on their own.
    counts: list[int] = []
    deadline = time.time() + 90
    while time.time() < deadline and len(set(c for c in counts if c > 0)) < 3:
        counts.append(max(page.evaluate(POINTS_JS, "Loss") or [0]))
        page.wait_for_timeout(500)
    grown = sorted(set(c for c in counts if c > 0))
    assert len(grown) >= 3, f"the loss chart did not grow by itself: {counts}"
    assert counts[-1] == grown[-1]  # never went back
    _no_exception(page)
    screenshot(page, "train-live")
    (run,) = [r for r in store.list_runs() if r["name"] == "live"]
    assert run["status"] == "running"
    page.get_by_role("button", name="Stop").click()
    runner.wait_for_status(run["id"], "stopped", timeout=60, store=store)
    # the page follows by itself: the visible status badge (the dataframe also has hidden a11y cells)
    page.get_by_text("stopped", exact=True).filter(visible=True).first.wait_for(timeout=30_000)
    _no_exception(page)


def test_a_diverging_run_shows_its_error(page, train_app):
    url, store = train_app
    _open(page, url, {**TINY, "log_every": 10, "steps": 50, "lr": 1e6, "name": "diverges"})
    page.get_by_role("button", name="Launch run").click()
    page.get_by_text("diverges failed:").first.wait_for(timeout=90_000)  # without a click
    (run,) = [r for r in store.list_runs() if r["name"] == "diverges"]
    assert run["status"] == "failed" and "became NaN/Inf" in run["error"] and "lr=" in run["error"]
    assert run["error"] in page.locator("[data-testid=stAlert]").first.inner_text()
    assert page.get_by_role("button", name="Resume").is_enabled()
    _no_exception(page)


def test_two_runs_watched_from_four_tabs_lose_no_rows(browser, train_app, monkeypatch):
    url, store = train_app
    steps = 300
    monkeypatch.setenv(runner.TRAIN_COMMAND_ENV, shlex.join([sys.executable, str(FAKE_TRAINER)]))
    config = {"dataset": "gaussian", "model": "clip", "steps": steps, "sleep": 0.02, "checkpoint_every": 50}
    ids = [runner.launch({**config, "name": name}, store=store) for name in ("left", "right")]
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(4)]
    tabs = [context.new_page() for context in contexts]
    try:
        for tab in tabs:
            tab.goto(f"{url}/train?runs={','.join(ids)}")
        for run_id in ids:
            runner.wait_for_status(run_id, "finished", timeout=60, store=store)
        for tab in tabs:  # each tab's chart ends with every step of both runs
            deadline = time.time() + 30
            while time.time() < deadline and tab.evaluate(POINTS_JS, "Loss").count(steps) < 4:
                tab.wait_for_timeout(500)
            assert tab.evaluate(POINTS_JS, "Loss").count(steps) == 4  # raw and smoothed, two runs
            text = tab.locator("[data-testid=stMain]").inner_text()
            assert "database is locked" not in text and tab.locator("[data-testid=stException]").count() == 0
    finally:
        for context in contexts:
            context.close()
    for run_id in ids:
        frame = store.metrics(run_id)
        assert list(frame["step"]) == list(range(1, steps + 1)) and store.get_run(run_id)["error"] is None
        assert "locked" not in (store.run_dir(run_id) / "log.txt").read_text()
    assert "database is locked" not in (store.home / "streamlit.log").read_text()
