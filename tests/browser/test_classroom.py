"""A class in real Chromium: a browser is one owner (its runs keep their owner across a reload, a
new Streamlit session), another browser is another owner. The owner id comes from Streamlit's
XSRF cookie, which only a real browser connection carries (tests/app/test_classroom.py covers
what each owner may do)."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
from pathlib import Path

import pytest

from mmviz.runs import runner
from mmviz.runs.store import RunStore
from tests.browser.conftest import start_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FAKE_TRAINER = Path(__file__).resolve().parents[1] / "runs" / "fake_trainer.py"


def _launch_preset(context, url: str, store: RunStore) -> set[str]:
    """Open the Train page in a new tab of ``context``, press the first preset's Launch; the owners
    of the runs it created."""
    before = {run["id"] for run in store.list_runs()}
    page = context.new_page()
    page.goto(f"{url}/train")
    wait_idle(page)
    page.locator("button:has-text('Launch')").first.click()
    deadline = time.monotonic() + 60
    while len(store.list_runs()) <= len(before) and time.monotonic() < deadline:
        time.sleep(0.2)
    wait_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    page.close()
    return {run["owner"] for run in store.list_runs() if run["id"] not in before}


def test_a_browser_keeps_its_runs_across_reloads_and_another_browser_is_someone_else(browser, tmp_path, monkeypatch):
    monkeypatch.setenv(runner.TRAIN_COMMAND_ENV, shlex.join([sys.executable, str(FAKE_TRAINER)]))
    monkeypatch.setenv("MMVIZ_REFERENCE_RUNS", "none")
    store = RunStore(tmp_path)
    try:
        with start_app(tmp_path) as url:
            alice, bob = browser.new_context(), browser.new_context()
            first, again, other = (_launch_preset(ctx, url, store) for ctx in (alice, alice, bob))
            alice.close()
            bob.close()
    finally:
        for run in store.list_runs():
            if run["pid"] and runner.is_alive(run):
                os.killpg(run["pid"], signal.SIGKILL)
    assert len(first) == 1 and first == again  # one owner, kept by the browser across sessions
    assert len(other) == 1 and other != first
    assert all(owner.startswith("b-") for owner in first | other)  # from the browser's cookie, not the session
