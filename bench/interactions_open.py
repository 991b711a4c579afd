"""How long the Interactions page's three-modality view takes to open cold, with the shipped
cross-view read-outs and without them (each in a fresh ``streamlit run app.py`` and
``MMVIZ_HOME``, headless Chromium): from navigating to ``?study=three`` until the script is idle
and all seven charts are drawn. The home page is opened first, which installs the reference runs.

    python bench/interactions_open.py

Prints one JSON object (seconds, and the load average before and after).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmviz.runs.files import CROSS_FILE  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, wait_idle  # noqa: E402

CHARTS = "() => document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot').length >= 7"


def open_seconds(saved: bool) -> float:
    """Seconds to open the three-modality view cold; ``saved=False`` removes the installed read-outs."""
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="mmviz-open-"))
    with start_app(home) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(url, timeout=180_000)
        wait_idle(page, 300_000)
        if not saved:
            for path in home.glob(f"*/{CROSS_FILE}"):
                path.unlink()
        start = time.perf_counter()
        page.goto(f"{url}/interactions?study=three", timeout=180_000)
        wait_idle(page, 300_000)
        page.wait_for_function(CHARTS, timeout=120_000)
        seconds = time.perf_counter() - start
        browser.close()
    return round(seconds, 2)


def main() -> dict:
    before = os.getloadavg()
    out = {"with_shipped_read_outs_s": open_seconds(True), "without_s": open_seconds(False),
           "loadavg_before": before, "loadavg_after": os.getloadavg()}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
