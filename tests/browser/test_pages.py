"""Every page registered in app.py opens in real Chromium, runs without an exception and
draws its main chart. A new page joins by being registered in mmviz/ui/pages.py."""

from __future__ import annotations

import pytest

from mmviz.ui.pages import PAGES
from tests.browser.conftest import screenshot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Per plotly chart on the page, how many values its data traces hold (drawing aids such as the
# disk's rim, its grid and rings have hoverinfo 'skip' and do not count).
DRAWN_JS = """() => {
  const len = a => (a && typeof a.length === 'number') ? a.length : 0;
  return Array.from(document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')).map(gd =>
    (gd._fullData || gd.data || []).filter(t => t.hoverinfo !== 'skip').reduce((n, t) => n + Math.max(
      len(t.x), len(t.y), len(t.z), len(t.values), len(t.labels), t.source ? 1 : 0), 0));
}"""


@pytest.mark.parametrize("entry", PAGES, ids=[p.url_path for p in PAGES])
def test_page_renders(page, app_url, entry):
    page.goto(f"{app_url}/{'' if entry.default else entry.url_path}")
    wait_idle(page)
    chart = page.locator(f"[data-testid={entry.main_chart}]").first
    chart.wait_for(state="visible", timeout=60_000)
    wait_idle(page)
    assert page.locator("[data-testid=stException]").count() == 0, page.locator(
        "[data-testid=stException]").first.inner_text()
    if entry.main_chart == "stPlotlyChart":
        # plotly has drawn into the element: its SVG main layer exists, at a readable size
        page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=30_000)
        box = chart.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 250, box
        # ... and it has data in it, not only axes: a fresh home shows the reference runs at once.
        page.wait_for_timeout(500)
        counts = page.evaluate(DRAWN_JS)
        assert counts and counts[0] > 0, f"{entry.url_path}: the main chart is empty ({counts})"
    screenshot(page, entry.url_path)


def test_a_shared_link_to_a_fresh_server_opens_inside_the_app(browser, tmp_path):
    """The first request to a new server is a deep link: the page still gets app.py's menu."""
    from tests.browser.conftest import start_app

    with start_app(tmp_path) as url:
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        pg.goto(f"{url}/data")
        wait_idle(pg)
        pg.get_by_role("heading", name="Data").first.wait_for()
        nav = pg.locator("[data-testid=stSidebarNav]").inner_text()
        assert "Geometry" in nav and "app" not in nav.split(), nav
        pg.close()
