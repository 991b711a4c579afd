"""The whole pretrained-model flow in real Chromium on a tiny random MERU: pick the model and a
built-in set, press Embed, watch the job's progress, see the points on the Explorer's disk; a
reload with the job in the URL finds the result again; Similarity reads the same job."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot, start_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _no_exception(page) -> None:
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()


def test_embed_tiny_meru_and_explore_it(page, tmp_path):
    with start_app(tmp_path) as url:
        page.goto(f"{url}/explorer?source=pretrained")
        wait_idle(page, 120_000)
        _no_exception(page)
        page.get_by_text("Pick a model and inputs, then").wait_for(timeout=30_000)
        model = page.locator("[data-testid=stSelectbox]").filter(has_text="model").first
        model.click()
        page.get_by_role("option", name="meru-tiny", exact=True).click()
        limit = page.get_by_label("at most this many images (0: all)")
        limit.fill("64")
        page.get_by_role("button", name="Embed").click()
        page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=180_000)
        wait_idle(page, 120_000)
        _no_exception(page)
        assert re.search(r"job=embed-", page.url), page.url
        legend = page.locator("[data-testid=stPlotlyChart]").first.locator(".legend").text_content()
        assert "image (64)" in legend and "text (64)" in legend
        body = page.locator("[data-testid=stMain]").inner_text()
        assert "meru-tiny: 64 images · 64 texts" in body
        screenshot(page, "explorer-pretrained")

        # A reload (the job id is in the URL) finds the finished job without embedding again.
        page.goto(page.url)
        wait_idle(page, 120_000)
        page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=60_000)
        assert "meru-tiny: 64 images · 64 texts" in page.locator("[data-testid=stMain]").inner_text()
        assert page.locator("[data-testid=stProgress]").count() == 0

        job = re.search(r"job=([\w-]+)", page.url).group(1)
        page.goto(f"{url}/similarity?src=pretrained&job={job}")
        wait_idle(page, 120_000)
        page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=60_000)
        _no_exception(page)
        assert "64 held-out pairs (image, text)" in page.locator("[data-testid=stMain]").inner_text()
