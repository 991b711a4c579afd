"""The Gaussian lab in real Chromium: the closed form draws, Train launches a run through the
runner, the page follows it live, and when it finishes the learned model joins the plots."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_solve_then_train_live(page, app_url):
    page.goto(f"{app_url}/gaussian?du=6&dv=5&k=2&latent=2&steps=200&direction=v%7Cu")
    wait_idle(page)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=60_000)
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stPlotlyChart]").count() >= 5
    assert "L2 tilt, fits p(v|u)" in page.locator("[data-testid=stPlotlyChart]").first.inner_text()

    page.get_by_role("button", name="Train").click()
    # the live fragment shows progress while the run trains in its own process, then the page
    # reruns and the learned model appears in the spectrum's legend
    page.get_by_text("learned:", exact=False).first.wait_for(timeout=180_000)
    wait_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert "finished" in page.locator("[data-testid=stProgress]").first.inner_text()
    screenshot(page, "gaussian-trained")
