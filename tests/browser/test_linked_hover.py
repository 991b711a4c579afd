"""mmviz.ui.linked_hover in real Chromium: the real mouse on a point of one chart shows plotly's hover
label on the same row in the other chart (both directions, after a rerun too, SVG and WebGL), and
moving the mouse away clears it. Runs its own small app, tests/browser/apps/linked_hover_app.py."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import screenshot, start_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APP = "tests/browser/apps/linked_hover_app.py"

# Client coordinates of point j of trace t in the chart with Streamlit key k, from plotly's axes.
POINT_JS = """([k, t, j]) => {
  const gd = document.querySelector('.st-key-' + k + ' .js-plotly-plot');
  const tr = gd._fullData[t], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
  const cd = tr.customdata[j];
  return {x: box.left + xa.c2p(tr.x[j]), y: box.top + ya.c2p(tr.y[j]),
          row: Number(Array.isArray(cd) || ArrayBuffer.isView(cd) ? cd[0] : cd), type: tr.type};
}"""

# How many plotly_hover listeners each chart holds (plotly's event emitter lives on gd._ev).
HOOKS_JS = """() => ['left_disk', 'right_disk'].map(k =>
  document.querySelector('.st-key-' + k + ' .js-plotly-plot')._ev.listeners('plotly_hover').length)"""


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    """`streamlit run` the small app."""
    with start_app(tmp_path_factory.mktemp("linked_hover"), APP) as base:
        yield base


def labels(page, key: str) -> list[str]:
    return page.locator(f".st-key-{key} .hoverlayer .hovertext").all_text_contents()


def hover_point(page, key: str, trace: int, j: int) -> int:
    """Move the real mouse onto a point; return its row after checking its own chart labels it."""
    p = page.evaluate(POINT_JS, [key, trace, j])
    page.mouse.move(p["x"], p["y"], steps=3)
    page.wait_for_function(
        "k => document.querySelectorAll('.st-key-' + k + ' .hoverlayer .hovertext').length > 0", arg=key,
        timeout=5_000)
    assert labels(page, key) == [f"row {p['row']}"]
    return p["row"]


def expect_label(page, key: str, row: int | None) -> None:
    want = [] if row is None else [f"row {row}"]
    deadline = time.time() + 3
    while labels(page, key) != want and time.time() < deadline:
        page.wait_for_timeout(50)
    assert labels(page, key) == want, f"{key} shows {labels(page, key)}, expected {want}"


@pytest.mark.parametrize("gl", [False, True], ids=["svg", "webgl"])
def test_hover_is_linked_both_ways(page, url, gl):
    page.goto(url + ("/?gl=1" if gl else "/"))
    wait_idle(page)
    page.wait_for_selector(".st-key-right_disk .js-plotly-plot .nsewdrag", timeout=30_000)
    page.wait_for_timeout(600)  # the linker polls for the charts
    assert page.evaluate(POINT_JS, ["right_disk", 1, 0])["type"] == ("scattergl" if gl else "scatter")
    away = page.locator("[data-testid=stButton]").bounding_box()  # off both charts
    hooks = page.evaluate(HOOKS_JS)

    for rerun in (False, True):
        if rerun:  # a rerun redraws the charts: the linking must survive, with no doubled listeners
            page.get_by_role("button", name="rerun").click()
            page.wait_for_selector("text=right (rerun 1)", timeout=10_000)
            wait_idle(page)
            page.wait_for_timeout(600)
        row = hover_point(page, "left_disk", 0, 3 + rerun)
        expect_label(page, "right_disk", row)  # the right chart draws it in a different trace/order
        if not gl and not rerun:
            screenshot(page, "linked_hover")
        row = hover_point(page, "right_disk", 1, 5 + rerun)
        expect_label(page, "left_disk", row)
        page.mouse.move(away["x"] + 5, away["y"] + 5, steps=3)
        expect_label(page, "right_disk", None)
        expect_label(page, "left_disk", None)
    assert page.evaluate(HOOKS_JS) == hooks, "the rerun left extra plotly_hover listeners behind"
