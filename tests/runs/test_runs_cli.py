"""``mmviz runs list|show|stop|resume|delete``, in-process through mmviz.cli.main and once as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmviz.cli import main
from mmviz.commands.runs import format_duration
from mmviz.runs import runner
from mmviz.runs.checkpoint import save_checkpoint
from mmviz.runs.store import RunStore

REPO_ROOT = Path(__file__).resolve().parents[2]


def add_run(store: RunStore, status: str, *, dataset: str = "toy", step: int = 0, **fields) -> str:
    run_id = store.create_run({"dataset": dataset, "model": "clip", "steps": 10, "lr": 0.01},
                              dataset=dataset, model="clip", total_steps=10, status=status)
    store.update_run(run_id, step=step, **fields)
    return run_id


@pytest.fixture
def busy(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> str:
    """One slot, taken by a 'running' run whose process is this test: queued runs stay queued."""
    monkeypatch.setenv(runner.MAX_RUNS_ENV, "1")
    return add_run(store, "running", pid=os.getpid())


def test_list_prints_a_table(store: RunStore, capsys: pytest.CaptureFixture):
    old = add_run(store, "finished", step=10, device="cpu", started=1000.0, finished=1125.0)
    new = add_run(store, "failed", dataset="gaussian", step=3, error="boom")
    assert main(["runs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "DATASET", "MODEL", "STEP", "DURATION", "DEVICE"]
    assert lines[1].split() == [new, "failed", "gaussian", "clip", "3/10", "-", "-"]
    assert lines[2].split() == [old, "finished", "toy", "clip", "10/10", "2m05s", "cpu"]


def test_list_json_and_home_option(tmp_path: Path, store: RunStore, capsys: pytest.CaptureFixture):
    other = RunStore(tmp_path / "elsewhere")
    run_id = add_run(other, "stopped", step=4)
    assert main(["runs", "list", "--json", "--home", str(other.home)]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"], r["step"], r["config"]["lr"]) for r in runs] == [(run_id, "stopped", 4, 0.01)]
    assert main(["runs", "list", "--json"]) == 0  # the default home (MMVIZ_HOME) is another store
    assert json.loads(capsys.readouterr().out) == []


def test_list_of_no_runs_says_so(store: RunStore, capsys: pytest.CaptureFixture):
    assert main(["runs", "list"]) == 0
    assert capsys.readouterr().out.startswith(f"no runs in {store.home}")


def test_list_marks_dead_runs_interrupted(store: RunStore, capsys: pytest.CaptureFixture):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run_id = add_run(store, "running", pid=dead.pid)
    assert main(["runs", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "interrupted"
    assert store.get_run(run_id)["status"] == "interrupted"


def test_show_prints_config_status_error_metrics_and_checkpoint(store: RunStore, capsys: pytest.CaptureFixture):
    run_id = add_run(store, "failed", step=7, error="loss became NaN at step 7")
    store.log_metrics(run_id, 5, {"train/loss": 0.25, "eval/acc": 0.75})
    store.log_metrics(run_id, 7, {"train/loss": 0.125})
    save_checkpoint(store.run_dir(run_id), {}, {"step": 5})
    assert main(["runs", "show", run_id]) == 0
    out = capsys.readouterr().out
    for expected in ("status      failed", "error       loss became NaN at step 7", "step        7/10",
                     "checkpoint  step 5", '"lr": 0.01', "train/loss  0.125  step 7", "eval/acc    0.75   step 5"):
        assert expected in out
    assert main(["runs", "show", run_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["metrics"]["train/loss"]["value"] == 0.125 and shown["checkpoint"]["step"] == 5
    assert shown["run"]["error"] == "loss became NaN at step 7"


@pytest.mark.parametrize("action", ["show", "stop", "resume", "delete"])
def test_missing_run_is_one_line_and_nonzero(store: RunStore, capsys: pytest.CaptureFixture, action):
    assert main(["runs", action, "nope"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "error: no run 'nope' (see `mmviz runs list`)\n" and captured.out == ""


def test_stop_and_resume_a_queued_run(store: RunStore, busy: str, capsys: pytest.CaptureFixture):
    queued = add_run(store, "queued")
    assert main(["runs", "stop", queued, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"run_id": queued, "status": "stopped"}
    assert main(["runs", "resume", queued]) == 0
    assert capsys.readouterr().out == f"{queued}: queued (waits for a free slot)\n"
    assert store.get_run(queued)["config"]["resume"] is True


def test_refused_actions_are_one_line_errors(store: RunStore, busy: str, capsys: pytest.CaptureFixture):
    finished = add_run(store, "finished")
    assert main(["runs", "stop", finished]) == 2
    assert capsys.readouterr().err == (
        f"error: run '{finished}' is finished; only queued or running runs can be stopped\n"
    )
    assert main(["runs", "delete", busy]) == 2
    assert capsys.readouterr().err == f"error: run '{busy}' is running; stop it first (`mmviz runs stop {busy}`)\n"


def test_delete(store: RunStore, capsys: pytest.CaptureFixture):
    run_id = add_run(store, "stopped")
    assert main(["runs", "delete", run_id]) == 0
    assert capsys.readouterr().out == f"{run_id}: deleted\n"
    assert not store.has_run(run_id) and not (store.home / run_id).exists()


def test_missing_home_folder_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture):
    assert main(["runs", "list", "--home", str(tmp_path / "typo")]) == 2
    assert capsys.readouterr().err == f"error: --home {tmp_path / 'typo'}: no such folder\n"
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("argv", [["runs"], ["runs", "list"], ["runs", "show"], ["runs", "stop"],
                                  ["runs", "resume"], ["runs", "delete"]])
def test_help_works_on_every_verb(capsys: pytest.CaptureFixture, argv):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: mmviz {' '.join(argv)}")


@pytest.mark.parametrize(("seconds", "text"), [(None, "-"), (0.4, "0s"), (59, "59s"), (60, "1m00s"),
                                               (3599, "59m59s"), (3600, "1h00m"), (7322, "2h02m")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_cli_as_a_subprocess(store: RunStore):
    run_id = add_run(store, "finished", step=10)
    done = subprocess.run([sys.executable, "-m", "mmviz", "runs", "list", "--json", "--home", str(store.home)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in json.loads(done.stdout)] == [run_id]
    missing = subprocess.run([sys.executable, "-m", "mmviz", "runs", "show", "nope", "--home", str(store.home)],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert (missing.returncode, missing.stderr) == (2, "error: no run 'nope' (see `mmviz runs list`)\n")
