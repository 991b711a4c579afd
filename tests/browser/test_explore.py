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


POINT_JS = """([k, t, j]) => {
  const gd = document.querySelector('.st-key-' + k + ' .js-plotly-plot');
  const pts = gd._fullData.map((tr, i) => [tr, i]).filter(([tr]) => tr.meta === 'points');
  const tr = pts[t][0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
  return {x: box.left + xa.c2p(tr.x[j]), y: box.top + ya.c2p(tr.y[j]), row: Number(tr.customdata[j])};
}"""


def test_two_projections_side_by_side_link_hover_and_selection(page, explorer):
    url, _ = explorer
    page.goto(f"{url}/explorer?source=example&method=radial&beside=tangent-pca", timeout=120_000)
    wait_idle(page, 180_000)
    _no_exception(page)
    for key in ("explorer_disk", "explorer_disk_right"):
        page.wait_for_selector(f".st-key-{key} .js-plotly-plot", timeout=60_000)
    page.locator(".st-key-explorer_disk .js-plotly-plot").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)  # the linker attaches within 0.4 s of the charts appearing
    p = page.evaluate(POINT_JS, ["explorer_disk", 0, 5])
    page.mouse.move(p["x"], p["y"], steps=3)
    page.wait_for_function("() => document.querySelectorAll('.st-key-explorer_disk_right .hoverlayer .hovertext')"
                           ".length > 0", timeout=5_000)
    left = page.locator(".st-key-explorer_disk .hoverlayer .hovertext").first.text_content()
    right = page.locator(".st-key-explorer_disk_right .hoverlayer .hovertext").first.text_content()
    assert left and left == right  # the same point named in both pictures
    screenshot(page, "explorer_side_by_side_hover")
    page.mouse.move(5, 5)
    box = page.locator(".st-key-explorer_disk_right .js-plotly-plot .nsewdrag").first.bounding_box()
    _lasso_all(page, box)
    wait_idle(page, 120_000)
    page.wait_for_selector("text=selected", timeout=30_000)
    for key in ("explorer_disk", "explorer_disk_right"):  # both disks ring the lassoed rows
        names = page.evaluate(f"() => document.querySelector('.st-key-{key} .js-plotly-plot')._fullData"
                              ".map(t => t.name)")
        assert any(str(n).startswith("selected (") for n in names), names
    _no_exception(page)
