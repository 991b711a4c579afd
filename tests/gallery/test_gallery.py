"""The gallery: build a tiny reference run, verify it, install it read-only."""

from __future__ import annotations

import json

import pytest

from mmviz.errors import MmvizError
from mmviz.gallery.build import build_entry
from mmviz.gallery.entries import get_entry, list_entries
from mmviz.gallery.install import install_references
from mmviz.gallery.package import read_shipped, shipped_runs
from mmviz.gallery.verify import verify_run
from mmviz.runs import runner
from mmviz.runs.store import ReadOnlyRunError, RunStore

TINY = {"steps": 6, "dataset_params": {"n": 300, "n_test": 80, "size": 32}, "eval_every": 3, "eval_size": 64,
        "batch_size": 32, "checkpoint_every": 3, "warmup_steps": 1, "model_params": {"dim": 8}}


@pytest.fixture(scope="module")
def shipped_root(tmp_path_factory):
    """A gallery folder with a tiny CLIP reference run built by the engine."""
    root = tmp_path_factory.mktemp("gallery")
    build_entry(get_entry("clip"), root=root, device="cpu", overrides=TINY)
    return root


def test_a_build_ships_config_weights_history_embeddings_and_timing(shipped_root):
    (shipped,) = shipped_runs(shipped_root)
    assert shipped.name == "clip" and shipped.run_id == "ref-clip"
    assert shipped.config["steps"] == 6 and shipped.meta["steps"] == 6
    assert shipped.meta["wall_s"] > 0 and shipped.meta["machine"]["device"] == "cpu"
    history = shipped.metrics()
    assert set(history.columns) == {"step", "name", "value", "time"}
    assert history["step"].max() == 6 and (history["time"] >= 0).all()
    assert 0.0 <= shipped.meta["final"]["r1_image_to_text"] <= 1.0
    assert all(size > 0 for size in shipped.size_bytes().values())


def test_verify_reproduces_the_stored_metrics_and_embeddings(shipped_root):
    (shipped,) = shipped_runs(shipped_root)
    result = verify_run(shipped)
    assert result.ok, result.problems
    assert result.metrics_checked >= 5 and result.max_point_diff <= 1e-4


def test_verify_catches_a_changed_metric(shipped_root, tmp_path):
    import shutil

    copy = tmp_path / "clip"
    shutil.copytree(shipped_root / "clip", copy)
    meta = json.loads((copy / "run.json").read_text())
    meta["final"]["loss"] += 0.5
    (copy / "run.json").write_text(json.dumps(meta))
    result = verify_run(read_shipped(copy))
    assert not result.ok and any("metric loss" in p for p in result.problems)


def test_installed_reference_runs_are_read_only(shipped_root, tmp_path):
    store = RunStore(tmp_path / "home")
    assert install_references(store, shipped_root) == ["ref-clip"]
    run = store.get_run("ref-clip")
    assert run["reference"] and run["status"] == "finished" and run["step"] == 6
    assert store.count_metrics("ref-clip") == len(read_shipped(shipped_root / "clip").metrics())
    with pytest.raises(ReadOnlyRunError):
        store.delete_run("ref-clip")
    with pytest.raises(ReadOnlyRunError):
        store.update_run("ref-clip", status="stopped")
    with pytest.raises(MmvizError, match="reference run"):
        runner.delete("ref-clip", store=store)
    with pytest.raises(MmvizError):
        runner.resume("ref-clip", store=store)
    assert store.has_run("ref-clip")
    # A second start installs nothing; a changed shipped run replaces the installed one.
    assert install_references(store, shipped_root) == []
    meta_path = shipped_root / "clip" / "run.json"
    original = meta_path.read_text()
    try:
        meta_path.write_text(original.replace('"title"', '"title2"', 1))
        assert install_references(store, shipped_root) == ["ref-clip"]
    finally:
        meta_path.write_text(original)


def test_the_run_embeddings_of_an_installed_reference_come_from_its_shipped_file(shipped_root, tmp_path):
    from mmviz.runs.embeddings import run_embeddings

    store = RunStore(tmp_path / "home")
    install_references(store, shipped_root)
    embeddings = run_embeddings(store, "ref-clip")
    assert embeddings.geometry == "sphere" and len(embeddings) > 64


def test_every_gallery_entry_has_a_valid_config():
    from mmviz.gallery.build import entry_available
    from mmviz.runs.train_config import resolve_config

    # Every plugin module is loaded on the first registry lookup, so an entry naming a model or
    # dataset that is not registered is a typo or a removed model, not an optional extra: fail.
    for entry in list_entries():
        problem = entry_available(entry)
        assert problem is None, f"gallery entry {entry.name!r} cannot be built: {problem}"
        resolve_config(entry.config)


def _trained_tiny(entry, home, **changes):
    """A finished run of ``entry``'s config with TINY (and ``changes``), in a store at ``home``."""
    from mmviz.runs.loop import train_run
    from mmviz.runs.train_config import resolve_config

    store = RunStore(home)
    config = resolve_config({**entry.config, **TINY, "device": "cpu", "threads": 1, "name": "a bench run",
                             **changes})
    run_id = store.create_run(config, dataset=config["dataset"], model=config["model"], total_steps=config["steps"])
    assert train_run(store, run_id) == "finished"
    return store, run_id


def test_adopt_packages_a_finished_run_of_the_same_config(tmp_path):
    from dataclasses import replace

    from mmviz.gallery.build import adopt_run

    entry = get_entry("clip")
    tiny = replace(entry, config={**entry.config, **TINY})
    store, run_id = _trained_tiny(entry, tmp_path / "home")
    meta = adopt_run(tiny, store, run_id, root=tmp_path / "gallery")
    (shipped,) = shipped_runs(tmp_path / "gallery")
    assert shipped.run_id == "ref-clip" and meta["steps"] == 6 and shipped.meta["title"] == entry.title
    assert 0 < meta["wall_s"] < 600 and shipped.metrics()["step"].max() == 6
    assert verify_run(shipped).ok


def test_adopt_refuses_a_run_of_another_config(tmp_path):
    from dataclasses import replace

    from mmviz.gallery.build import adopt_run

    entry = get_entry("clip")
    store, run_id = _trained_tiny(entry, tmp_path / "home", seed=1)
    with pytest.raises(MmvizError, match="seed is 1, the entry has 0"):
        adopt_run(replace(entry, config={**entry.config, **TINY}), store, run_id, root=tmp_path / "gallery")
    assert not (tmp_path / "gallery").exists()


def test_verify_compares_metrics_but_not_timings():
    from mmviz.gallery.verify import compare_metrics

    stored = {"probe_S": 0.657, "probe_seconds": 1.9, "r1": 0.5}
    assert compare_metrics(stored, {"probe_S": 0.657, "probe_seconds": 1.6, "r1": 0.5}) == []
    assert compare_metrics(stored, {"probe_S": 0.650, "probe_seconds": 1.9}) == [
        "metric probe_S: stored 0.657, re-evaluated 0.65", "metric r1 is no longer computed"]


def test_a_child_entry_builds_from_its_shipped_parent(tmp_path):
    """`gallery build --only clip-unlearn-red` installs the shipped ref-clip as the parent, whatever root it
    builds into, and the child ships its forget/retain accuracy."""
    full = build_entry(get_entry("clip-unlearn-red"), root=tmp_path, device="cpu",
                       overrides={"steps": 5, "eval_every": 5, "checkpoint_every": 5, "threads": 1})
    shipped = read_shipped(tmp_path / "clip-unlearn-red")
    assert shipped.config["parent"] == "ref-clip" and shipped.config["unlearn"]["method"] == "graddiff"
    assert full["steps"] == 5 and 0.0 <= full["final"]["forget_acc"] <= 1.0 and "retain_acc" in full["final"]


def test_a_large_sphere_run_ships_in_float16_and_verifies(tmp_path_factory, monkeypatch):
    """Over HALF_MIN_BYTES (lowered here to catch the tiny run) a sphere run's weights and points go
    out in float16, its finals are re-evaluated from them (the training's kept), and verify passes;
    a point moved by more than half a float16 ulp is caught."""
    import shutil

    import numpy as np
    from safetensors import safe_open

    from mmviz.gallery import package

    monkeypatch.setattr(package, "HALF_MIN_BYTES", 0)
    root = tmp_path_factory.mktemp("gallery-half")
    build_entry(get_entry("clip"), root=root, device="cpu", overrides=TINY)
    (shipped,) = shipped_runs(root)
    assert shipped.meta["weights"] == "float16" and set(shipped.meta["trained_final"]) == set(shipped.meta["final"])
    with safe_open(str(shipped.folder / "checkpoint.safetensors"), framework="pt") as f:
        assert {str(f.get_tensor(k).dtype) for k in f.keys()} <= {"torch.float16", "torch.int64"}
    assert np.load(shipped.folder / "embeddings.npz")["points"].dtype == np.float16
    result = verify_run(shipped)
    assert result.ok, result.problems
    assert 0 < result.max_point_diff < 2e-3  # float16 rounding of unit vectors' coordinates
    assert not package.halve_shipped(shipped.folder)  # already half: nothing to do

    copy = tmp_path_factory.mktemp("moved") / "clip"
    shutil.copytree(shipped.folder, copy)
    with np.load(copy / "embeddings.npz") as z:
        arrays = dict(z)
    arrays["points"] = arrays["points"].astype(np.float32)
    arrays["points"][0, 0] += 0.01
    np.savez_compressed(copy / "embeddings.npz", **arrays)
    moved = verify_run(read_shipped(copy))
    assert not moved.ok and any("float16 points" in p for p in moved.problems)


def test_a_small_or_hyperbolic_run_stays_float32(shipped_root):
    from mmviz.gallery.package import halve_shipped, ships_half

    (shipped,) = shipped_runs(shipped_root)
    assert "weights" not in shipped.meta and not ships_half(shipped.folder)  # tiny: under HALF_MIN_BYTES
    assert not halve_shipped(shipped.folder)
