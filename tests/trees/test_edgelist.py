"""Training on your own edge list: the ``edgelist`` dataset and the Hierarchy lab's saved uploads."""

from __future__ import annotations

import pytest

from mmviz.data.registry import load
from mmviz.errors import MmvizError
from mmviz.runs.loop import train_run
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config

EDGES = "child,parent\n" + "\n".join(
    [f"n{i},root" for i in range(4)] + [f"n{i}.{j},n{i}" for i in range(4) for j in range(3)]) + "\n"


def test_an_edge_list_file_loads_as_a_hierarchy_and_bad_paths_say_so(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(EDGES)
    h = load("edgelist", "train", path=str(path))
    assert len(h) == 17 and int(h.depth.max()) == 2 and len(h.closure) == 4 + 12 * 2
    with pytest.raises(MmvizError, match="needs a path"):
        load("edgelist", "train")
    with pytest.raises(MmvizError, match="does not exist"):
        load("edgelist", "train", path=str(tmp_path / "missing.csv"))


def test_a_saved_upload_trains_through_the_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path / "home"))
    from mmviz.ui.hierarchy_lab import save_upload

    saved = save_upload(EDGES.encode(), "mine.csv")
    assert saved == save_upload(EDGES.encode(), "again.csv")  # named by content: saved once
    store = RunStore(tmp_path / "home")
    config = resolve_config({"dataset": "edgelist", "dataset_params": {"path": saved}, "model": "poincare-embed",
                             "model_params": {"dim": 2, "negatives": 5, "burn_in": 5}, "steps": 30,
                             "batch_size": 16, "eval_every": 15, "log_every": 5, "device": "cpu", "threads": 1})
    run_id = store.create_run(config, dataset="edgelist", model="poincare-embed", total_steps=30)
    assert train_run(store, run_id) == "finished"
    latest = store.latest_metrics(run_id)
    assert 0.0 < latest["eval/map_closure"]["value"] <= 1.0
