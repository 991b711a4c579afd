"""The Interactions page's three-modality view in real Chromium on a fresh home: the example
triple with its tones, the six probes of the shipped runs, the curves, the ablation and the
cross-view read-out of the shipped biased CoMM n = 3 runs drawn."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHARTS = """() => Array.from(document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot'))
  .map(gd => ({n: (gd._fullData || []).length, title: ((gd.layout || {}).title || {}).text || ''}))"""


def test_three_modalities_open_on_the_reference_runs(page, app_url):
    page.goto(f"{app_url}/interactions?study=three")
    wait_idle(page, 240_000)
    assert page.locator("[data-testid=stException]").count() == 0
    # example images, tones, probe bars, curves, ablation bars and curves, cross-view bars
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')"
                           ".length >= 7", timeout=120_000)
    charts = page.evaluate(CHARTS)
    if len(charts) != 7:
        screenshot(page, "interactions-three-failed")
    assert len(charts) == 7 and all(c["n"] > 0 for c in charts), charts
    bars = next(c for c in charts if "Linear-probe accuracy per interaction" in c["title"])  # titles come bolded
    assert bars["n"] == 4  # the category trace and the shipped methods: CoMM n = 3, pairwise, anchor
    cross = next(c for c in charts if "What one masked view predicts" in c["title"])
    assert cross["n"] == 3  # the category trace, CoMM n = 3 and its two-view ablation (both shipped, biased)
    assert page.locator("[data-testid=stDataFrame]").count() == 1
    screenshot(page, "interactions-three")
