"""The run store: runs, metrics, run folders, and SQLite under one writer and many readers."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from mmviz.errors import MmvizError
from mmviz.runs.process import process_start_ticks
from mmviz.runs.store import RunNotFoundError, RunStore

CONFIG = {"dataset": "toy", "model": "clip", "steps": 10, "lr": 1e-3, "dataset_params": {"n": 64}}


def make_run(store: RunStore, **overrides) -> str:
    return store.create_run({**CONFIG, **overrides}, dataset="toy", model="clip", total_steps=10)


def test_default_home_is_mmviz_home(home: Path):
    store = RunStore()
    assert store.home == home.resolve() and store.db_path == home.resolve() / "mmviz.db"
    assert store.journal_mode() == "wal"


def test_create_run_writes_row_and_config_json(store: RunStore):
    run_id = store.create_run(CONFIG, name="first", dataset="toy", model="clip", total_steps=10)
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", run_id)
    run = store.get_run(run_id)
    assert {k: run[k] for k in ("id", "name", "dataset", "model", "status", "step", "total_steps", "pid")} == {
        "id": run_id, "name": "first", "dataset": "toy", "model": "clip", "status": "queued",
        "step": 0, "total_steps": 10, "pid": None,
    }
    assert run["config"] == CONFIG
    assert json.loads((store.home / run_id / "config.json").read_text()) == CONFIG


def test_list_runs_newest_first_and_by_status(store: RunStore):
    ids = [make_run(store) for _ in range(3)]
    store.update_run(ids[1], status="finished")
    assert [r["id"] for r in store.list_runs()] == ids[::-1]
    assert [r["id"] for r in store.list_runs("queued")] == [ids[2], ids[0]]
    assert [r["id"] for r in store.list_runs(["finished", "failed"])] == [ids[1]]


def test_missing_run_is_a_readable_error(store: RunStore):
    with pytest.raises(RunNotFoundError, match="^no run 'nope'$") as info:
        store.get_run("nope")
    assert isinstance(info.value, MmvizError)
    for call in (lambda: store.update_run("nope", step=1), lambda: store.delete_run("nope"),
                 lambda: store.log_metrics("nope", 1, {"x": 1.0}), lambda: store.truncate_metrics("nope", 0)):
        with pytest.raises(RunNotFoundError):
            call()
    assert not store.has_run("nope")


def test_update_run_sets_fields_and_updated(store: RunStore):
    run_id = make_run(store)
    before = store.get_run(run_id)["updated"]
    time.sleep(0.01)
    assert store.update_run(run_id, status="running", device="cpu", started=123.0, step=4)
    run = store.get_run(run_id)
    assert (run["status"], run["device"], run["started"], run["step"]) == ("running", "cpu", 123.0, 4)
    assert run["updated"] > before


def test_setting_pid_records_its_start_time(store: RunStore):
    run_id = make_run(store)
    store.update_run(run_id, pid=os.getpid())
    assert store.get_run(run_id)["pid_start"] == process_start_ticks(os.getpid())
    store.update_run(run_id, pid=None)
    assert store.get_run(run_id)["pid_start"] is None


def test_update_config_rewrites_config_json(store: RunStore):
    run_id = make_run(store)
    store.update_run(run_id, config={**CONFIG, "resume": True})
    assert store.get_run(run_id)["config"]["resume"] is True
    assert json.loads((store.home / run_id / "config.json").read_text())["resume"] is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [({"colour": "red"}, "unknown field"), ({"status": "paused"}, "unknown run status 'paused'"),
     ({"id": "x"}, "unknown field")],
)
def test_update_run_rejects_unknown_fields_and_statuses(store: RunStore, fields, message):
    run_id = make_run(store)
    with pytest.raises(MmvizError, match=message):
        store.update_run(run_id, **fields)


@pytest.mark.parametrize(
    ("expect", "changed", "status_after"),
    [("queued", True, "stopped"), ("running", False, "queued"), (("running", "queued"), True, "stopped")],
)
def test_update_run_compare_and_set(store: RunStore, expect, changed, status_after):
    run_id = make_run(store)
    assert store.update_run(run_id, status="stopped", expect_status=expect) is changed
    assert store.get_run(run_id)["status"] == status_after


def test_claim_queued_takes_the_oldest_and_respects_the_cap(store: RunStore):
    first, second = make_run(store), make_run(store)
    claimed = store.claim_queued(max_running=1)
    assert claimed["id"] == first and claimed["status"] == "running" and claimed["pid"] is None
    assert store.claim_queued(max_running=1) is None
    assert store.claim_queued(max_running=2)["id"] == second
    assert store.claim_queued(max_running=5) is None  # nothing queued


def log_steps(store: RunStore, run_id: str) -> None:
    for step in range(5):
        store.log_metrics(run_id, step, {"train/loss": 1.0 / (step + 1), "train/lr": 0.1 * step}, time=100.0 + step)
    store.log_metrics(run_id, 4, {"eval/acc": 0.5}, time=105.0)


@pytest.mark.parametrize(
    ("since", "names", "expected"),
    [
        (-1, None, [(s, n) for s in range(4) for n in ("train/loss", "train/lr")]
         + [(4, "eval/acc"), (4, "train/loss"), (4, "train/lr")]),
        (2, None, [(3, "train/loss"), (3, "train/lr"), (4, "eval/acc"), (4, "train/loss"), (4, "train/lr")]),
        (0, ["train/loss"], [(s, "train/loss") for s in range(1, 5)]),
        (-1, ["eval/acc", "missing"], [(4, "eval/acc")]),
        (4, None, []),
    ],
)
def test_metrics_since_step_and_by_name(store: RunStore, since, names, expected):
    run_id = make_run(store)
    log_steps(store, run_id)
    frame = store.metrics(run_id, since_step=since, names=names)
    assert list(frame.columns) == ["step", "name", "value", "time"]
    assert list(zip(frame["step"], frame["name"])) == expected
    assert str(frame["step"].dtype) == "int64" and str(frame["value"].dtype) == "float64"


def test_log_metrics_values_time_and_step(store: RunStore):
    run_id = make_run(store)
    log_steps(store, run_id)
    frame = store.metrics(run_id, names=["train/loss"])
    assert frame["value"].tolist() == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert frame["time"].tolist() == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert store.get_run(run_id)["step"] == 4
    assert store.count_metrics(run_id) == 11


def test_nan_and_inf_survive_as_floats(store: RunStore):
    run_id = make_run(store)
    store.log_metrics(run_id, 1, {"a": float("nan"), "b": float("inf")})
    values = dict(zip(*store.metrics(run_id)[["name", "value"]].T.values))
    assert math.isnan(values["a"]) and values["b"] == math.inf
    assert math.isnan(store.latest_metrics(run_id)["a"]["value"])


def test_latest_metrics_per_name(store: RunStore):
    run_id = make_run(store)
    log_steps(store, run_id)
    assert store.latest_metrics(run_id) == {
        "eval/acc": {"step": 4, "value": 0.5, "time": 105.0},
        "train/loss": {"step": 4, "value": 0.2, "time": 104.0},
        "train/lr": {"step": 4, "value": pytest.approx(0.4), "time": 104.0},
    }


def test_truncate_metrics_drops_later_steps(store: RunStore):
    run_id = make_run(store)
    log_steps(store, run_id)
    assert store.truncate_metrics(run_id, 2) == 5  # steps 3 and 4: 2 + 3 rows
    assert store.metrics(run_id)["step"].max() == 2 and store.get_run(run_id)["step"] == 2


def test_delete_run_removes_row_metrics_and_folder(store: RunStore):
    keep, gone = make_run(store), make_run(store)
    for run_id in (keep, gone):
        log_steps(store, run_id)
    (store.run_dir(gone) / "log.txt").write_text("x")
    store.delete_run(gone)
    assert not store.has_run(gone) and not (store.home / gone).exists()
    assert store.count_metrics(gone) == 0 and store.count_metrics(keep) == 11


@pytest.mark.parametrize("bad", ["../escape", "a/b", "", ".hidden", "x" * 65])
def test_run_dir_refuses_ids_that_are_not_plain_names(store: RunStore, bad):
    with pytest.raises(MmvizError, match="is not a run id"):
        store.run_dir(bad)


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("SELECT * FROM metrics WHERE run_id = 'r' AND step > 5", "metrics_by_run_step"),
        ("SELECT * FROM metrics WHERE run_id = 'r' AND name = 'x' AND step > 5", "metrics_by_run_name_step"),
    ],
)
def test_metric_queries_use_an_index(store: RunStore, query, index):
    with sqlite3.connect(store.db_path) as con:
        plan = " ".join(row[-1] for row in con.execute("EXPLAIN QUERY PLAN " + query))
    assert f"USING INDEX {index}" in plan


def _log_one(store: RunStore, run_id: str, step: int) -> None:
    store.log_metrics(run_id, step, {"x": float(step)})


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_connection(store: RunStore):
    run_id = make_run(store)
    _log_one(store, run_id, 0)  # the parent's connection is open when it forks
    child = multiprocessing.get_context("fork").Process(target=_log_one, args=(store, run_id, 1))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    _log_one(store, run_id, 2)
    assert store.metrics(run_id)["step"].tolist() == [0, 1, 2]


def test_threads_share_one_store(store: RunStore):
    run_ids = [make_run(store) for _ in range(4)]
    threads = [threading.Thread(target=lambda r=r: [_log_one(store, r, i) for i in range(50)]) for r in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [store.count_metrics(r) for r in run_ids] == [50] * 4


# -- one writer per run, many readers, all in separate processes -------------------------------


def _write_rows(home: str, run_id: str, rows: int, rate: float, barrier, results) -> None:
    """Log ``rows`` single-row transactions at ``rate`` rows/s."""
    try:
        store = RunStore(home)
        barrier.wait(60)  # all processes begin together
        t0 = time.monotonic()
        for step in range(rows):
            delay = t0 + step / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            store.log_metrics(run_id, step, {"train/loss": 1.0 / (step + 1)})
        results.put(("writer", run_id, None, time.monotonic() - t0))
    except BaseException as err:  # reported to the test, which fails on it
        results.put(("writer", run_id, repr(err), None))


def _read_rows(home: str, run_ids: list[str], barrier, stop, results) -> None:
    """Read like the app does while runs train: new rows since the last step seen, run rows, lists."""
    try:
        store = RunStore(home)
        seen = {run_id: 0 for run_id in run_ids}
        last_step = {run_id: -1 for run_id in run_ids}
        counts = {run_id: [] for run_id in run_ids}
        store.metrics(run_ids[0])  # imports pandas now, not in the first timed read
        barrier.wait(60)  # all processes begin together
        while True:
            last_pass = stop.is_set()  # after stop: one more pass that sees every committed row
            for run_id in run_ids:
                new = store.metrics(run_id, since_step=last_step[run_id])
                if len(new):
                    seen[run_id] += len(new)
                    last_step[run_id] = int(new["step"].max())
                counts[run_id].append(store.count_metrics(run_id))
                store.get_run(run_id)
                store.latest_metrics(run_id)
            store.list_runs()
            if last_pass:
                break
        summary = {
            run_id: {"seen": seen[run_id], "first": c[0], "last": c[-1], "distinct": len(set(c)),
                     "monotonic": all(a <= b for a, b in zip(c, c[1:]))}
            for run_id, c in counts.items()
        }
        results.put(("reader", None, None, summary))
    except BaseException as err:
        results.put(("reader", None, repr(err), None))


def run_writers_and_readers(store: RunStore, rows: int, writers: int, readers: int) -> list[tuple]:
    """``writers`` processes (one per run) log ``rows`` rows at 200 rows/s while ``readers`` read."""
    ctx = multiprocessing.get_context("spawn")
    barrier, stop, results = ctx.Barrier(writers + readers), ctx.Event(), ctx.Queue()
    run_ids = [make_run(store) for _ in range(writers)]
    home = str(store.home)
    procs = [ctx.Process(target=_write_rows, args=(home, r, rows, 200.0, barrier, results)) for r in run_ids]
    procs += [ctx.Process(target=_read_rows, args=(home, run_ids, barrier, stop, results)) for _ in range(readers)]
    for proc in procs:
        proc.start()
    try:
        outcomes = [results.get(timeout=120) for _ in range(writers)]
        stop.set()
        outcomes += [results.get(timeout=60) for _ in range(readers)]
    finally:
        stop.set()
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    assert [p.exitcode for p in procs] == [0] * len(procs)
    return run_ids, outcomes


def check_outcomes(store: RunStore, run_ids: list[str], outcomes: list[tuple], rows: int) -> None:
    errors = [o[2] for o in outcomes if o[2] is not None]
    assert errors == []
    for run_id in run_ids:
        assert store.metrics(run_id)["step"].tolist() == list(range(rows))  # none lost, none doubled
        assert store.get_run(run_id)["step"] == rows - 1
        for _, _, _, summary in (o for o in outcomes if o[0] == "reader"):
            seen = summary[run_id]
            assert seen["monotonic"] and seen["first"] < seen["last"] == rows
            assert seen["distinct"] > 100  # watched the table grow, not just a before and after
            assert seen["seen"] == rows  # the "since step" reads add up to every row exactly once


@pytest.mark.slow
def test_one_writer_200_rows_per_s_and_four_readers_for_10_s(store: RunStore):
    run_ids, outcomes = run_writers_and_readers(store, rows=2000, writers=1, readers=4)
    check_outcomes(store, run_ids, outcomes, rows=2000)
    writer_seconds = next(o[3] for o in outcomes if o[0] == "writer")
    assert 9.9 < writer_seconds < 30


@pytest.mark.slow
def test_two_writers_and_readers_lose_no_rows(store: RunStore):
    run_ids, outcomes = run_writers_and_readers(store, rows=1000, writers=2, readers=2)
    check_outcomes(store, run_ids, outcomes, rows=1000)


def test_a_run_records_who_launched_it_and_counts_by_owner(store: RunStore):
    cli = store.create_run({"x": 1}, dataset="d", model="m", total_steps=1)
    mine = store.create_run({"x": 2}, dataset="d", model="m", total_steps=1, owner="b-alice")
    done = store.create_run({"x": 3}, dataset="d", model="m", total_steps=1, owner="b-alice", status="finished")
    assert store.get_run(cli)["owner"] is None and store.get_run(mine)["owner"] == "b-alice"
    assert store.count_runs(("queued", "running"), owner="b-alice") == 1
    assert store.count_runs(owner="b-alice") == 2 and store.count_runs() == 3 and store.count_runs("finished") == 1
    assert store.get_run(done)["status"] == "finished"
    with pytest.raises(MmvizError, match="unknown field"):
        store.update_run(mine, owner="b-mallory")  # set once, at creation


def test_queue_positions_follow_the_order_runs_are_claimed(store: RunStore):
    ids = [store.create_run({"i": i}, dataset="d", model="m", total_steps=1) for i in range(3)]
    store.update_run(ids[1], status="stopped")
    assert store.queue_positions() == {ids[0]: 1, ids[2]: 2}
    assert store.claim_queued(1)["id"] == ids[0]
    assert store.queue_positions() == {ids[2]: 1}


def test_a_store_from_before_owners_opens_and_its_runs_belong_to_nobody(tmp_path: Path):
    con = sqlite3.connect(tmp_path / "mmviz.db")  # a version-2 database: no owner column
    con.execute("""CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT, dataset TEXT NOT NULL, model TEXT NOT NULL,
        config TEXT NOT NULL, status TEXT NOT NULL, error TEXT, pid INTEGER, pid_start INTEGER,
        stop_requested INTEGER NOT NULL DEFAULT 0, device TEXT, created REAL NOT NULL, started REAL, finished REAL,
        updated REAL NOT NULL, step INTEGER NOT NULL DEFAULT 0, total_steps INTEGER,
        reference INTEGER NOT NULL DEFAULT 0)""")
    con.execute("INSERT INTO runs (id, dataset, model, config, status, created, updated) "
                "VALUES ('old', 'd', 'm', '{}', 'finished', 1, 1)")
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    store = RunStore(tmp_path)
    assert store.get_run("old")["owner"] is None
    new = store.create_run({}, dataset="d", model="m", total_steps=1, owner="b-bob")
    assert store.get_run(new)["owner"] == "b-bob"
    assert RunStore(tmp_path).count_runs(owner="b-bob") == 1  # migrated once, opened again as it is
