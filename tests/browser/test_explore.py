"""The Explorer in real Chromium on a tiny trained MERU run: the disk draws with its legend,
a lasso selects points and lists them (with image thumbnails) beside the disk, and the
search box draws an entailment cone. Screenshots go to tests/browser/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.app.test_explore_page import make_tiny_run
from tests.browser.conftest import screenshot, start_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    home = tmp_path_factory.mktemp("explorer_browser")
    run_id = make_tiny_run(home)
    with start_app(home) as url:
        yield url, run_id


def _lasso_all(page, box: dict) -> None:
    """Drag a lasso around the whole plot area (every drawn point)."""
    x0, y0, x1, y1 = box["x"] + 5, box["y"] + 5, box["x"] + box["width"] - 5, box["y"] + box["height"] - 5
    page.mouse.move(x0, y0)
    page.mouse.down()
    for x, y in [(x1, y0), (x1, y1), (x0, y1), (x0, y0 + 2)]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def _no_exception(page) -> None:
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()


def test_disk_legend_and_lasso_selection(page, explorer):
    url, run_id = explorer
    page.goto(f"{url}/explorer?run={run_id}")
    wait_idle(page, 180_000)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=180_000)
    wait_idle(page, 180_000)
    _no_exception(page)
    chart = page.locator("[data-testid=stPlotlyChart]").first
    legend = chart.locator(".legend").text_content()
    assert "caption (1,330)" in legend and "image (120)" in legend and "text (120)" in legend
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(2000)  # let plotly finish binding its drag handlers
    try:
        for _attempt in range(3):
            box = page.locator("[data-testid=stPlotlyChart] .nsewdrag").first.bounding_box()
            assert box and box["width"] > 300
            _lasso_all(page, box)
            try:
                page.get_by_text("selected", exact=False).first.wait_for(timeout=60_000)
                break
            except PlaywrightTimeout:
                continue
        wait_idle(page, 180_000)
    finally:
        screenshot(page, "explorer-selection")
    assert page.get_by_text("1,570 selected").count() == 1
    wait_idle(page, 180_000)
    _no_exception(page)
    assert page.locator("[data-testid=stImage]").count() >= 1  # image thumbnails beside the disk


def test_search_draws_a_cone(page, explorer):
    url, run_id = explorer
    page.goto(f"{url}/explorer?run={run_id}&q=red%20star")
    wait_idle(page, 180_000)
    page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=180_000)
    wait_idle(page, 180_000)
    _no_exception(page)
    legend = page.locator("[data-testid=stPlotlyChart]").first.locator(".legend").text_content()
    assert "entailment cone" in legend and "search result" in legend
    assert page.get_by_text("Entailment cone (green)").count() == 1
    screenshot(page, "explorer-run-search")
