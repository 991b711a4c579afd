"""The Beyond pairs page in real Chromium on a fresh home: each study opens on the shipped
reference runs with its figures drawn and no error."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRACES = """() => Array.from(document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot'))
  .map(gd => (gd._fullData || []).length)"""


@pytest.mark.parametrize("study, charts", [("composition", 2), ("negation", 1), ("unlearning", 1)])
def test_each_study_opens_on_the_reference_runs(page, app_url, study, charts):
    page.goto(f"{app_url}/beyond?study={study}")
    wait_idle(page, 180_000)
    assert page.locator("[data-testid=stException]").count() == 0
    page.wait_for_function(f"() => document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')"
                           f".length >= {charts}", timeout=30_000)
    traces = page.evaluate(TRACES)
    if len(traces) != charts:
        screenshot(page, f"beyond-{study}-failed")
    assert len(traces) == charts and all(n > 0 for n in traces), traces
    assert page.locator("[data-testid=stDataFrame]").count() >= 1
    if study == "unlearning":  # the three models' table and the bench's
        assert page.locator("[data-testid=stDataFrame]").count() == 2
    screenshot(page, f"beyond-{study}")


def test_an_unlearning_run_launched_here_draws_live_forget_and_retain_curves(page, app_url):
    import re
    import time

    from tests.browser.test_train_live import POINTS_JS

    page.goto(f"{app_url}/beyond?study=unlearning")
    wait_idle(page, 180_000)
    page.get_by_role("button", name="Unlearn red with graddiff").click()
    wait_idle(page, 60_000)
    launched = page.get_by_text(re.compile(r"Launched \d{8}-\d{6}-\w+")).first.inner_text()
    run_id = re.search(r"\d{8}-\d{6}-\w+", launched)[0]
    page.goto(f"{app_url}/train?runs={run_id}")
    wait_idle(page, 60_000)
    title = "Unlearning: forget and retain accuracy (held-out)"
    counts: list[int] = []
    deadline = time.time() + 240  # a fresh home renders the 50,000 training images first
    while time.time() < deadline and (not counts or counts[-1] < 31):  # steps 0, 5, ..., 150
        counts.append(max(page.evaluate(POINTS_JS, title) or [0]))
        page.wait_for_timeout(1000)
    grown = sorted(set(c for c in counts if c > 0))
    assert len(grown) >= 3 and grown[-1] == 31, f"the unlearning curves did not grow by themselves: {counts}"
    assert page.locator("[data-testid=stException]").count() == 0
    screenshot(page, "beyond-unlearning-live")
