"""CPU cost of the Train page's live polling, on the Streamlit server, while runs train.

Starts ``streamlit run app.py`` on a free port with a temporary MMVIZ_HOME, creates two runs
that "train" in this process (a thread logs what a trainer logs: 12 training metrics every
0.1 s, i.e. log_every=10 at 100 steps/s, and 25 held-out metrics every 2 s), opens the Train
page with both selected in headless Chromium, waits for the curves, then measures the server
process's CPU time (utime + stime from /proc/<pid>/stat) over ``--seconds``. The runs then
end, and the same is measured again with nothing training (the page should stop ticking).

Prints one JSON object: CPU use in % of one core while training and when idle, ticks seen by
the browser (chart updates), and the target (< 5 %).

Usage: ``python bench/ui_polling.py [--seconds 20] [--tabs 1]``
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

TRAIN = ["train/loss", "train/contrastive", "train/entailment", "train/lr", "train/grad_norm", "temperature",
         "logit_scale", "curvature", "alpha_0", "alpha_1", "steps_per_s", "samples_per_s"]
EVAL = ([f"eval/r{k}_{a}_to_{b}" for k in (1, 5) for a, b in (("image", "text"), ("text", "image"))]
        + [f"eval/zeroshot_{t}" for t in ("shape", "color", "texture")]
        + [f"eval/dist0_level{i}" for i in (1, 2, 3)] + ["eval/dist0_image", "eval/dist0_text", "eval/dist0_chain"]
        + [f"eval/dist0_spearman_{s}" for s in ("bal", "bal_ceiling", "all", "all_ceiling")]
        + ["eval/loss", "eval/contrastive", "eval/entailment", "eval/alignment", "eval/modality_gap",
           "eval/uniformity_image"])
TICKS_JS = """() => { const d = [...document.querySelectorAll('.js-plotly-plot')].find(
  p => String(p.layout && p.layout.title && p.layout.title.text).includes('Loss'));
  return d && d._fullData ? Math.max(0, ...d._fullData.map(t => t._length || 0)) : 0; }"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, MMVIZ_HOME=home, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1"], cwd=REPO, env=env,
                            stdout=open(Path(home) / "streamlit.log", "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def fake_training(store, run_ids: list[str], stop: threading.Event) -> None:
    """Log like two trainers until ``stop``; then mark the runs finished."""
    step, last_eval = 0, time.monotonic()
    while not stop.is_set():
        step += 10
        for run_id in run_ids:
            store.log_metrics(run_id, step, {name: 1.0 / (1 + step / 500) for name in TRAIN})
        if time.monotonic() - last_eval >= 2.0:
            last_eval = time.monotonic()
            for run_id in run_ids:
                store.log_metrics(run_id, step, {name: min(1.0, step / 5000) for name in EVAL})
        time.sleep(0.1)
    for run_id in run_ids:
        store.update_run(run_id, status="finished", finished=time.time())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--tabs", type=int, default=1)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from mmviz.runs.store import RunStore

    with tempfile.TemporaryDirectory() as home:
        store = RunStore(home)
        run_ids = []
        for model in ("clip", "meru"):
            run_id = store.create_run({"dataset": "trifeature-captions", "model": model}, name=model.upper(),
                                      dataset="trifeature-captions", model=model, total_steps=1_000_000)
            # This process "trains" them: alive, so the runner leaves them running.
            store.update_run(run_id, status="running", pid=os.getpid(), started=time.time(), device="cpu")
            run_ids.append(run_id)
        stop = threading.Event()
        trainer = threading.Thread(target=fake_training, args=(store, run_ids, stop), daemon=True)
        server, url = start_server(home)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                trainer.start()
                pages = []
                for _ in range(args.tabs):
                    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                    page.goto(f"{url}/train?runs={','.join(run_ids)}")
                    pages.append(page)
                for page in pages:
                    page.wait_for_function(TICKS_JS, timeout=90_000)
                time.sleep(5)  # past the first full renders
                points = [pages[0].evaluate(TICKS_JS)]
                cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
                while time.monotonic() - wall0 < args.seconds:
                    time.sleep(1.0)
                    points.append(pages[0].evaluate(TICKS_JS))
                training = 100 * (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - wall0)
                updates = sum(1 for a, b in zip(points, points[1:]) if b != a)

                stop.set()
                trainer.join()
                time.sleep(8)  # the page notices, reruns once and stops ticking
                cpu0, wall0 = cpu_seconds(server.pid), time.monotonic()
                time.sleep(args.seconds / 2)
                idle = 100 * (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - wall0)
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
        print(json.dumps({
            "tabs": args.tabs, "runs": len(run_ids), "seconds": args.seconds,
            "server_cpu_percent_training": round(training, 2), "server_cpu_percent_idle": round(idle, 2),
            "chart_updates_seen": updates, "loss_points_at_end": points[-1], "target_percent": 5,
            "loadavg": list(os.getloadavg()),
        }))


if __name__ == "__main__":
    main()
