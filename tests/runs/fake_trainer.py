"""A stand-in for ``python -m mmviz train`` in the runner tests: fast, no torch.

``python fake_trainer.py --run-id ID --home DIR`` reads the run's config from the store and
behaves like the trainer as the runner sees it: marks itself running, logs ``train/loss`` at each
step (sleeping ``sleep`` seconds per step), writes ``fake_checkpoint.json`` every
``checkpoint_every`` steps, and on SIGTERM finishes the step, checkpoints and sets ``stopped``.
With ``resume`` it continues after its checkpoint. Config ``crash``: ``"exception"`` sets
``failed`` at step ``crash_at``; ``"hard"`` exits with code 3 there without touching the store.
On exit it calls ``runner.start_queued()``, as the real trainer does.
"""

from __future__ import annotations

import signal

stop_requested = False


def _on_sigterm(signum, frame):
    global stop_requested
    stop_requested = True


signal.signal(signal.SIGTERM, _on_sigterm)  # first, so a stop right after the start is caught

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from mmviz.runs import runner  # noqa: E402
from mmviz.runs.files import write_json_atomically  # noqa: E402
from mmviz.runs.store import RunStore  # noqa: E402

CHECKPOINT = "fake_checkpoint.json"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--home", required=True)
    args = parser.parse_args()
    store = RunStore(args.home)
    run_id = args.run_id
    config = store.get_run(run_id)["config"]
    steps, sleep = int(config.get("steps", 10)), float(config.get("sleep", 0.01))
    checkpoint_every = int(config.get("checkpoint_every", 1))
    crash, crash_at = config.get("crash"), int(config.get("crash_at", 2))
    checkpoint = store.run_dir(run_id) / CHECKPOINT

    store.update_run(run_id, status="running", pid=os.getpid(), device="cpu", started=time.time())
    start = 0
    if config.get("resume") and checkpoint.exists():
        start = json.loads(checkpoint.read_text())["step"]
        store.truncate_metrics(run_id, start)
    status, code = "finished", 0
    try:
        step = start
        for step in range(start + 1, steps + 1):
            time.sleep(sleep)
            if crash == "hard" and step == crash_at:
                os._exit(3)
            if crash == "exception" and step == crash_at:
                raise RuntimeError(f"fake crash at step {step}")
            store.log_metrics(run_id, step, {"train/loss": 1.0 / step})
            if step % checkpoint_every == 0 or stop_requested:
                write_json_atomically(checkpoint, {"step": step})
            if stop_requested:
                status = "stopped"
                break
        write_json_atomically(checkpoint, {"step": step})
        store.update_run(run_id, status=status, finished=time.time())
    except Exception as err:  # the real trainer also reports any error as one line
        store.update_run(run_id, status="failed", error=str(err), finished=time.time())
        status, code = "failed", 1
    print(f"fake trainer: {run_id} {status}", flush=True)
    runner.start_queued(store)
    return code


if __name__ == "__main__":
    sys.exit(main())
