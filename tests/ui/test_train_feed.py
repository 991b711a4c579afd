"""The Train page's metrics feed reads each row once, misses none, and follows resumed runs."""

from __future__ import annotations

import numpy as np
import pytest

from mmviz.runs.store import RunStore
from mmviz.ui.train_feed import MetricsFeed


class CountingStore(RunStore):
    """A RunStore that counts how often metrics are read."""

    reads = 0

    def metrics(self, *args, **kwargs):
        self.reads += 1
        return super().metrics(*args, **kwargs)


@pytest.fixture
def store(tmp_path):
    return CountingStore(tmp_path / "home")


def _run(store, status="running", started=1000.0):
    run_id = store.create_run({"dataset": "gaussian", "model": "clip"}, dataset="gaussian", model="clip",
                              total_steps=100)
    store.update_run(run_id, status=status, started=started)
    return run_id


def test_eval_rows_logged_after_the_training_rows_of_a_step_are_not_missed(store):
    feed = MetricsFeed(store)
    run_id = _run(store)
    store.log_metrics(run_id, 10, {"train/loss": 2.0}, time=1001.0)
    feed.update(store.get_run(run_id))
    store.log_metrics(run_id, 10, {"eval/loss": 2.5}, time=1001.5)  # same step, its own transaction
    store.log_metrics(run_id, 20, {"train/loss": 1.0}, time=1002.0)
    entry = feed.update(store.get_run(run_id))
    assert list(entry.columns["train/loss"][0]) == [10, 20] and list(entry.columns["train/loss"][1]) == [2.0, 1.0]
    assert list(entry.columns["eval/loss"][0]) == [10] and entry.rows == 3 == store.count_metrics(run_id)
    assert entry.latest("train/loss") == 1.0 and entry.latest("missing") is None
    assert entry.t0 == 1000.0


def test_an_ended_run_is_read_once_more_then_served_from_memory(store):
    feed = MetricsFeed(store)
    run_id = _run(store)
    store.log_metrics(run_id, 1, {"train/loss": 3.0})
    feed.update(store.get_run(run_id))
    store.log_metrics(run_id, 2, {"train/loss": 2.0})
    store.update_run(run_id, status="finished")
    assert feed.update(store.get_run(run_id)).rows == 2
    reads = store.reads
    for _ in range(3):
        feed.update(store.get_run(run_id))
    assert store.reads == reads


def test_a_resumed_run_whose_rows_past_the_checkpoint_were_dropped_is_reread(store):
    feed = MetricsFeed(store)
    run_id = _run(store)
    for step in range(1, 11):
        store.log_metrics(run_id, step, {"train/loss": float(step)})
    assert feed.update(store.get_run(run_id)).last_step == 10
    store.truncate_metrics(run_id, 5)  # what a resumed trainer does with a checkpoint at step 5
    store.log_metrics(run_id, 6, {"train/loss": 60.0})
    entry = feed.update(store.get_run(run_id))
    np.testing.assert_array_equal(entry.columns["train/loss"][1], [1, 2, 3, 4, 5, 60])


def test_unchanged_metrics_keep_their_prepared_series(store):
    feed = MetricsFeed(store, max_points=100)
    run_id = _run(store)
    for step in range(1, 301):
        store.log_metrics(run_id, step, {"train/loss": 1.0 / step, "temperature": 0.07})
    store.log_metrics(run_id, 300, {"eval/r1_a_to_b": 0.5})
    _, first = feed.series(store.get_run(run_id), smoothing=0.5, x_kind="step")
    assert [s.metric for s in first] == ["eval/r1_a_to_b", "temperature", "train/loss"]
    assert all(len(s.x) <= 100 for s in first) and first[2].n_points == 300
    store.log_metrics(run_id, 301, {"train/loss": 0.001})
    _, second = feed.series(store.get_run(run_id), smoothing=0.5, x_kind="step")
    assert second[0] is first[0] and second[1] is first[1] and second[2] is not first[2]
    _, third = feed.series(store.get_run(run_id), smoothing=0.0, x_kind="step")
    assert third[0] is not second[0] and third[2].smooth is None
