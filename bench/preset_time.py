"""How long a newcomer waits after clicking a preset on the Train page: both runs launched
through the runner (their own processes, as the page does), until both have finished.

Uses a fresh temporary MMVIZ_HOME, so the time includes generating the preset's dataset.
Prints one JSON object: wall seconds until the first evaluation of each run (the first point of
the held-out curves), until both finished, and each run's final held-out R@1 and zero-shot
accuracy, with the load average before and after.

Usage: ``python bench/preset_time.py [--preset clip-vs-meru]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="clip-vs-meru")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mmviz-preset-") as home:
        os.environ["MMVIZ_HOME"] = home
        from mmviz.runs import runner
        from mmviz.runs.presets import preset_configs
        from mmviz.runs.store import RunStore

        store = RunStore(home)
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        ids = [runner.launch(config, store=store) for config in preset_configs(args.preset)]
        first_eval: dict[str, float] = {}
        while True:
            runner.refresh(store)
            runs = {rid: store.get_run(rid) for rid in ids}
            for rid in ids:
                if rid not in first_eval and store.metrics(rid, names=["eval/loss"]).shape[0]:
                    first_eval[rid] = time.perf_counter() - start
            if all(run["status"] not in ("queued", "running") for run in runs.values()):
                break
            time.sleep(0.2)
        total = time.perf_counter() - start
        out = {"preset": args.preset, "seconds_until_both_finished": round(total, 1),
               "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2), "runs": []}
        for rid in ids:
            run = runs[rid]
            latest = {k: v["value"] for k, v in store.latest_metrics(rid).items()}
            r1 = [v for k, v in latest.items() if k.startswith("eval/r1_")]
            zs = [v for k, v in latest.items() if k.startswith("eval/zeroshot_")]
            out["runs"].append({
                "name": run["name"], "model": run["model"], "status": run["status"], "steps": run["step"],
                "seconds_to_first_eval": round(first_eval.get(rid, float("nan")), 1),
                "r1_mean": round(sum(r1) / len(r1), 3) if r1 else None,
                "zeroshot_mean": round(sum(zs) / len(zs), 3) if zs else None,
            })
        print(json.dumps(out))


if __name__ == "__main__":
    main()
