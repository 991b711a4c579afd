"""A classroom on one machine: the server's own CPU time per page open, with K students at once.

Starts ``streamlit run app.py`` (a fresh ``MMVIZ_HOME`` with the reference runs, as a teacher's
first start) and 8 headless Chromium students (each its own browser context: its own cookies and
HTTP cache, as 8 students on 8 machines). Then, for every registered page (``mmviz/ui/pages.py``):

- ``cold``: the page's first open on this server (one student), its caches empty;
- the page is opened once by every student (not measured: a student's browser keeps Streamlit's
  JavaScript, as after a first visit);
- ``warm`` K = 1, 4, 8 (``--ks``): K students open the page at once, each in a new tab (a new
  Streamlit session each);
- ``first_visit``: one new browser context opens it (server warm, browser cache empty: the server
  also sends Streamlit's ~140 JavaScript and CSS files, about 9 MB).

For each, it reads the server process's CPU time (``utime + stime`` of ``/proc/<pid>/stat``: every
thread of the process) before the opens and after every session's script is idle
(``[data-testid=stApp][data-test-script-state=notRunning]``) with the page's charts drawn (its
main chart, and every Plotly chart on it has drawn its SVG), and reports CPU seconds per open
(total / K) and the wall time. Tabs are closed and the server left to settle between
measurements; the server's idle CPU rate is measured first and reported (not subtracted).

Prints one JSON object with ``os.getloadavg()`` before and after. Target: at most 0.25 s of server
CPU per warm open, every page. ``--pages home,explorer`` picks pages; ``--home DIR`` reuses a home.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
TARGET_S = 0.25
SETTLE_S = 1.5  # after closing sessions: their teardown is not the next measurement's cost
TICKS = os.sysconf("SC_CLK_TCK")


def server_pid(url: str) -> int:
    """The pid of the ``streamlit run`` process listening on ``url``'s port."""
    port = url.rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(argv) and b"--server.port" in argv and port.encode() in argv:
            return int(entry.name)
    raise RuntimeError(f"no streamlit process on port {port}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of ``pid`` (seconds)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def wait_drawn(page, main_chart: str, timeout_ms: int = 120_000) -> None:
    """The page's script idle, its main chart visible and every Plotly chart drawn."""
    await page.locator(f"[data-testid={main_chart}]").first.wait_for(state="visible", timeout=timeout_ms)
    await page.wait_for_selector(IDLE, timeout=timeout_ms)
    await page.wait_for_timeout(300)  # a rerun can follow the first run (query params written back)
    await page.wait_for_selector(IDLE, timeout=timeout_ms)
    await page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')]"
        ".every(c => c.querySelector('.main-svg'))", timeout=timeout_ms)
    errors = await page.locator("[data-testid=stException]").count()
    if errors:
        text = await page.locator("[data-testid=stException]").first.inner_text()
        raise RuntimeError(f"{page.url}: {text[:300]}")


async def open_tabs(contexts, url: str, entry, pid: int) -> dict:
    """Every context opens the page in a new tab at once; the server's CPU seconds and the wall time."""
    pages = [await c.new_page() for c in contexts]
    target = f"{url}/{'' if entry.default else entry.url_path}"
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()

    async def one(page):
        await page.goto(target)
        await wait_drawn(page, entry.main_chart)

    try:
        await asyncio.gather(*(one(p) for p in pages))
        cpu, wall = cpu_seconds(pid) - cpu0, time.perf_counter() - t0
    finally:
        for p in pages:
            await p.close()
    await asyncio.sleep(SETTLE_S)
    k = len(contexts)
    return {"k": k, "cpu_s": round(cpu, 3), "cpu_per_open_s": round(cpu / k, 3), "wall_s": round(wall, 2)}


async def bench(url: str, pages, ks: list[int]) -> dict:
    from playwright.async_api import async_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    pid = server_pid(url)
    viewport = {"width": 1400, "height": 1000}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        students = [await browser.new_context(viewport=viewport) for _ in range(max(ks))]
        cpu0 = cpu_seconds(pid)
        await asyncio.sleep(3.0)
        idle_rate = (cpu_seconds(pid) - cpu0) / 3.0
        result: dict = {}
        for entry in pages:
            try:
                result[entry.url_path] = await bench_page(browser, students, url, entry, ks, pid, viewport)
            except Exception as err:  # noqa: BLE001 - one page's failure is reported, the others still run
                result[entry.url_path] = {"error": f"{type(err).__name__}: {str(err).splitlines()[0][:300]}",
                                          "met": False}
                print(f"{entry.url_path}: {result[entry.url_path]['error']}", file=sys.stderr, flush=True)
        for c in students:
            await c.close()
        await browser.close()
    return {"server_idle_cpu_per_s": round(idle_rate, 4), "pages": result}


async def bench_page(browser, students, url: str, entry, ks: list[int], pid: int, viewport: dict) -> dict:
    """One page: cold, warm for each K, first visit."""
    cold = await open_tabs(students[:1], url, entry, pid)
    await open_tabs(students, url, entry, pid)  # every student's browser has seen the page once
    warm = {str(k): await open_tabs(students[:k], url, entry, pid) for k in ks}
    fresh = await browser.new_context(viewport=viewport)
    first_visit = await open_tabs([fresh], url, entry, pid)
    await fresh.close()
    worst = max(w["cpu_per_open_s"] for w in warm.values())
    print(f"{entry.url_path}: cold {cold['cpu_s']:.2f} s, first visit {first_visit['cpu_s']:.2f} s, warm per open "
          + ", ".join(f"K={k} {w['cpu_per_open_s']:.3f} s ({w['wall_s']:.1f} s wall)" for k, w in warm.items()),
          file=sys.stderr, flush=True)
    return {"cold": cold, "warm": warm, "first_visit": first_visit, "worst_warm_per_open_s": worst,
            "met": worst <= TARGET_S}


def main() -> None:
    from mmviz.ui.pages import PAGES
    from tests.browser.conftest import start_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default="", help="comma-separated URL paths (default: every registered page)")
    parser.add_argument("--ks", default="1,4,8", help="sessions opening a page at once (default 1,4,8)")
    parser.add_argument("--home", default="", help="MMVIZ_HOME to serve (default: a fresh temporary one)")
    args = parser.parse_args()
    wanted = [p for p in re.split(r"[,\s]+", args.pages) if p]
    pages = [p for p in PAGES if not wanted or p.url_path in wanted]
    if wanted and len(pages) != len(wanted):
        raise SystemExit(f"unknown page in {wanted}; pages: {', '.join(p.url_path for p in PAGES)}")
    ks = [int(k) for k in args.ks.split(",")]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mmviz-bench-class-") as tmp:
        home = Path(args.home) if args.home else Path(tmp)
        home.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with start_app(home) as url:
            out = asyncio.run(bench(url, pages, ks))
    out = {"bench": "classroom", "target_per_open_s": TARGET_S, **out,
           "all_met": all(p["met"] for p in out["pages"].values()),
           "seconds": round(time.perf_counter() - t0, 1), "cpus": os.cpu_count(),
           "loadavg_before": load_before, "loadavg": os.getloadavg()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
