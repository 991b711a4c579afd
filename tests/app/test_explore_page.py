"""The Explorer page (AppTest) on a tiny trained MERU run and on uploaded files: the disk with
exact radii and a legend, the quality read-outs, search with cone and neighbours, the
specificity panel, the traversal, the sphere's proxy and bad uploads."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from mmviz.data.embeddings_io import EmbeddingSet, save_embeddings
from mmviz.geometry import get_geometry
from tests.app.figures import decode, figure

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "explorer.py")

TINY = {
    "dataset": "trifeature-captions", "dataset_params": {"n": 1000, "n_test": 120, "size": 16},
    "model": "meru", "model_params": {"dim": 8, "cnn_widths": "4,8", "text_width": 8},
    "steps": 10, "batch_size": 32, "eval_every": 100000, "eval_size": 120, "device": "cpu", "threads": 1,
    "name": "tiny-meru",
}


def make_tiny_run(home: Path, **overrides) -> str:
    """Train a few steps of a tiny MERU in ``home`` (seconds) and export its embeddings."""
    from mmviz.runs.embeddings import run_embeddings
    from mmviz.runs.loop import train_run
    from mmviz.runs.store import RunStore
    from mmviz.runs.train_config import resolve_config

    old = os.environ.get("MMVIZ_HOME")
    os.environ["MMVIZ_HOME"] = str(home)
    try:
        torch.set_num_threads(1)
        store = RunStore(home)
        config = resolve_config({**TINY, **overrides})
        run_id = store.create_run(config, dataset=config["dataset"], model=config["model"], total_steps=config["steps"])
        assert train_run(store, run_id) == "finished"
        run_embeddings(store, run_id)
        return run_id
    finally:
        if old is None:
            os.environ.pop("MMVIZ_HOME", None)
        else:
            os.environ["MMVIZ_HOME"] = old


@pytest.fixture(scope="module")
def run_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("explorer_home")
    return home, make_tiny_run(home)


@pytest.fixture
def tiny_run(run_home, monkeypatch):
    home, run_id = run_home
    monkeypatch.setenv("MMVIZ_HOME", str(home))
    return run_id


def _page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _points_traces(fig: dict) -> list[dict]:
    return [t for t in fig["data"] if t.get("meta") == "points"]


def test_without_runs_the_page_says_where_to_start_and_shows_an_example():
    at = _page()
    assert not at.exception
    assert any("No trained run yet" in i.value for i in at.info)
    traces = _points_traces(figure(at, "explorer_disk"))
    assert sorted(t["name"] for t in traces) == ["caption (102)", "image (576)"]
    assert {m.label: m.value for m in at.metric}["radius Spearman"] == "1.0000"
    assert any(t["name"] == "parent → child (geodesic)" for t in figure(at, "explorer_disk")["data"])
    # the example is a clean hierarchy: Spearman(level, depth) at its ceiling
    assert any("Spearman(level, depth) = **0.9" in m.value for m in at.markdown)


def test_run_on_the_disk_with_exact_radii_legend_and_quality(tiny_run):
    from mmviz.runs.embeddings import run_embeddings
    from mmviz.runs.store import RunStore

    at = _page(run=tiny_run)
    assert not at.exception, at.exception
    es = run_embeddings(RunStore(), tiny_run)
    fig = figure(at, "explorer_disk")
    traces = _points_traces(fig)
    assert sorted(t["name"] for t in traces) == ["caption (1,330)", "image (120)", "text (120)"]
    rows = np.concatenate([decode(t["customdata"]) for t in traces]).astype(int)
    xy = np.concatenate([np.stack([decode(t["x"]), decode(t["y"])], 1) for t in traces]).astype(float)
    assert sorted(rows.tolist()) == list(range(len(es)))
    # radial: the display radius is tanh(sqrt(c) d / 2), d the model's distance from the origin
    d = get_geometry(es.geometry, es.curvature).dist0(torch.as_tensor(es.points[rows], dtype=torch.float64)).numpy()
    np.testing.assert_allclose(np.linalg.norm(xy, axis=1), np.tanh(np.sqrt(es.curvature) * d / 2), rtol=1e-5)
    hover = [h for t in traces for h in t["hovertext"]]
    assert any(h.startswith("a red") for h in hover) and any(h.startswith("image #0:") for h in hover)
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["radius Spearman"] == "1.0000"
    assert 0 < float(metrics["trustworthiness (k = 10)"]) <= 1
    assert any("Spearman(level, depth)" in m.value for m in at.markdown)
    spec = figure(at, "explorer_specificity")
    assert [t["name"] for t in spec["data"]] == ["caption level 1", "caption level 2", "caption level 3", "image",
                                                 "text"]
    assert at.dataframe  # the traversal table
    trav = figure(at, "explorer_traversal")
    assert any(t["name"] == "traversal to the origin" for t in trav["data"])


def test_search_draws_the_cone_and_lists_neighbours(tiny_run):
    at = _page(run=tiny_run, q="red star")
    assert not at.exception
    hit = at.selectbox(key="hit")
    assert hit.value is not None and "red star" in hit.options[0]
    fig = figure(at, "explorer_disk")
    names = [t["name"] for t in fig["data"]]
    assert "search result" in names and "entailment cone" in names
    nn = at.dataframe[0].value
    assert len(nn) == 10 and (np.diff(nn["distance"].to_numpy()) >= 0).all()


def test_colour_by_caption_level_and_pair_lines(tiny_run):
    at = _page(run=tiny_run, color="caption level", pairs="true")
    assert not at.exception
    fig = figure(at, "explorer_disk")
    names = {t["name"] for t in fig["data"]}
    assert {"caption level 1 (30)", "caption level 2 (300)", "caption level 3 (1,000)"} <= names
    assert "image ↔ its caption" in names


def test_tangent_pca_and_method_in_url(tiny_run):
    at = _page(run=tiny_run, method="tangent-pca")
    assert not at.exception
    assert at.selectbox(key="method").value == "tangent-pca"
    assert at.query_params["method"] in ("tangent-pca", ["tangent-pca"])


def _npz_bytes(es: EmbeddingSet, tmp_path: Path) -> bytes:
    return save_embeddings(tmp_path / "up.npz", es).read_bytes()


def test_uploaded_sphere_file_offers_the_proxies(tmp_path):
    rng = np.random.default_rng(0)
    n = 90
    meta = pd.DataFrame({"modality": ["image"] * 30 + ["caption"] * 60,
                         "level": [np.nan] * 30 + [1] * 20 + [2] * 20 + [3] * 20,
                         "caption": [""] * 30 + [f"caption {i}" for i in range(60)],
                         "raw_norm": rng.uniform(5, 10, n)})
    es = EmbeddingSet(rng.normal(size=(n, 6)).astype(np.float32), meta, "sphere", 1.0)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["source"] = "file"
    at.run()
    at.file_uploader[0].upload("clip.npz", _npz_bytes(es, tmp_path)).run()
    assert not at.exception and not at.error
    proxy = at.selectbox(key="proxy")
    assert proxy.value == "raw_norm" and set(proxy.options) >= {"raw feature norm (before normalisation)"}
    assert any("raw feature norm" in c.value for c in at.caption)
    assert any("no root to walk to" in i.value for i in at.info)  # no traversal on the sphere
    proxy.set_value("mean").run()
    assert not at.exception
    assert any("angle to the mean direction" in c.value for c in at.caption)


def test_a_bad_upload_is_a_clear_error(tmp_path):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["source"] = "file"
    at.run()
    at.file_uploader[0].upload("bad.csv", b"1,2\n3,nan\n").run()
    assert not at.exception
    assert at.error and "can't be used" in at.error[0].value


def test_two_projections_side_by_side_with_their_own_read_outs():
    at = _page(source="example", method="radial", beside="horopca")
    assert not at.exception, at.exception
    left, right = figure(at, "explorer_disk"), figure(at, "explorer_disk_right")
    for fig, method in ((left, "radial"), (right, "horopca")):
        assert fig["layout"]["title"]["text"].startswith(f"{method} projection")
        rows = np.concatenate([decode(t["customdata"]) for t in _points_traces(fig)]).astype(int)
        assert sorted(rows.tolist()) == list(range(678))  # the same points in both
    spearman = [m.value for m in at.metric if m.label == "radius Spearman"]
    assert len(spearman) == 2 and spearman[0] == "1.0000" and spearman[1] != "1.0000"
    assert any("Which picture to trust?" in m.value for m in at.markdown)
    assert at.query_params["beside"] in ("horopca", ["horopca"])


def test_a_selection_on_either_disk_rings_the_same_rows_on_both():
    at = _page(source="example", method="radial", beside="tangent-pca")
    at.session_state["explorer_linked_rows"] = [3, 40, 41]
    at.run()
    assert not at.exception
    for key in ("explorer_disk", "explorer_disk_right"):
        ringed = [t for t in figure(at, key)["data"] if t.get("name") == "selected (3)"]
        assert len(ringed) == 1
    assert any("3 selected" in m.value for m in at.markdown)


def test_hyperbolic_projections_refuse_euclidean_files_clearly(tmp_path):
    es = EmbeddingSet(np.random.default_rng(0).normal(size=(80, 5)).astype(np.float32),
                      pd.DataFrame({"label": ["a", "b"] * 40}), "euclidean", 1.0)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["source"] = "file"
    at.query_params["method"] = "co-sne"
    at.run()
    at.file_uploader[0].upload("flat.npz", _npz_bytes(es, tmp_path)).run()
    assert not at.exception
    assert any("co-sne is made for hyperbolic embeddings" in e.value for e in at.error)
