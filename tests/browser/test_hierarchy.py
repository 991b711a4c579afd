"""The Hierarchy lab in real Chromium: the constructed disk draws, and a τ sweep adds its chart."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_construction_draws_disk_plane_and_table(page, app_url):
    page.goto(f"{app_url}/hierarchy?h=wordnet-tool")
    wait_idle(page, timeout_ms=120_000)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=60_000)
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stPlotlyChart]").count() >= 2  # the disk and the plane
    assert page.get_by_text("MAP on the direct edges").count() >= 1
    page.get_by_role("button", name="Sweep τ in both arithmetics").click()
    wait_idle(page, timeout_ms=180_000)
    assert page.locator("[data-testid=stPlotlyChart]").count() >= 3
    assert page.locator("[data-testid=stException]").count() == 0
    screenshot(page, "hierarchy-construct")
