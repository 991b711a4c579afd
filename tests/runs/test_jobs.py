"""Background jobs: the app's embedding job runs ``mmviz embed-model`` in its own process,
reports progress, survives a 'reload' (found again by id), and cancels cleanly."""

from __future__ import annotations

import time

import pytest

from mmviz.paths import cache_dir
from mmviz.runs.jobs import cancel_job, get_job, list_jobs, start_job

ARGS = ["--model", "open_clip:tiny", "--device", "cpu", "--batch-size", "8"]


def _wait(job_id: str, home, states, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get_job(job_id, home)
        if job.state in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} stayed {get_job(job_id, home).state}")


def test_a_job_runs_to_done_and_is_found_again(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path))
    job = start_job("embed", "embed-model", [*ARGS, "--builtin", "digits", "--limit", "24"], "tiny on digits",
                    home=tmp_path)
    done = _wait(job.id, tmp_path, ("done", "failed"))
    assert done.state == "done", (tmp_path / "jobs" / job.id / "log.txt").read_text()[-2000:]
    assert (done.done, done.total) == (48, 48) and done.fraction == 1.0
    assert done.result.startswith(str(cache_dir("pretrained")))
    assert [j.id for j in list_jobs("embed", tmp_path)] == [job.id]  # what a reloaded page lists


def test_cancel_stops_the_process_and_leaves_no_cache_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path))
    job = start_job("embed", "embed-model", [*ARGS, "--builtin", "trifeature", "--limit", "2000",
                                             "--batch-size", "1"], home=tmp_path)
    _wait(job.id, tmp_path, ("running",))
    deadline = time.monotonic() + 60
    while get_job(job.id, tmp_path).done < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    cancel_job(job.id, tmp_path)
    ended = _wait(job.id, tmp_path, ("cancelled", "failed", "done", "interrupted"))
    assert ended.state == "cancelled"
    entries = list(cache_dir("pretrained").iterdir())
    assert [p.name for p in entries if p.is_dir()] == []


def test_unknown_job_id_is_refused(tmp_path):
    from mmviz.errors import MmvizError

    with pytest.raises(MmvizError, match="no readable job"):
        get_job("embed-nope", tmp_path)
    with pytest.raises(MmvizError, match="not a job id"):
        get_job("../etc", tmp_path)


def test_a_job_records_its_owner_and_old_job_files_still_read(tmp_path):
    import json

    from mmviz.runs.jobs import JOB_FILE, job_dir

    job = start_job("embed", "embed-model", ["--help"], "help", home=tmp_path, owner="b-alice")
    assert get_job(job.id, tmp_path).owner == "b-alice"
    assert json.loads((job_dir(job.id, tmp_path) / JOB_FILE).read_text())["owner"] == "b-alice"
    old = job_dir("embed-20260101-000000-abcdef", tmp_path)  # written before jobs had owners
    old.mkdir()
    (old / JOB_FILE).write_text(json.dumps({"id": old.name, "kind": "embed", "label": "old", "args": [],
                                            "state": "done", "created": 1.0, "updated": 1.0}))
    assert get_job(old.name, tmp_path).owner is None
    assert {j.id: j.owner for j in list_jobs("embed", tmp_path)} == {job.id: "b-alice", old.name: None}
