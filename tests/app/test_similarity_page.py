"""The Similarity page in AppTest: toy mode, a tiny trained CLIP and MERU run (matrices, loss
bars, hardest negatives, side by side, batch size, retrieval, zero-shot, gap), bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from mmviz.losses import batch as lb
from mmviz.runs.loop import train_run
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config
from tests.app.figures import decode, figure

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "similarity.py")
TINY = {
    "dataset": "trifeature-captions", "dataset_params": {"n": 128, "n_test": 48, "size": 16},
    "model_params": {"dim": 8, "mlp_hidden": 32, "cnn_widths": "8,8"}, "steps": 6, "batch_size": 32,
    "eval_every": 6, "eval_size": 48, "log_every": 3, "checkpoint_every": 6, "device": "cpu", "threads": 1,
}


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A store with a tiny CLIP and a tiny MERU run on the same held-out pairs (a few seconds)."""
    home = tmp_path_factory.mktemp("sim_home")
    store = RunStore(home)
    torch.set_num_threads(1)
    ids = {}
    for model in ("clip", "meru"):
        config = resolve_config({**TINY, "model": model, "name": model.upper()})
        run_id = store.create_run(config, dataset=config["dataset"], model=model, total_steps=config["steps"])
        train_run(store, run_id)
        ids[model] = run_id
    return home, ids


@pytest.fixture
def runs(trained_home, monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("MMVIZ_HOME", str(trained_home[0]))
    return trained_home[1]


def _page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = str(value)
    return at.run()


def test_toy_mode_shows_the_softmax_and_the_closed_form_loss():
    at = _page(src="toy", toy_b=4, toy_tau=0.1, toy_pos=0.8, toy_neg=0.2, toy_noise=0.0)
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    expected = np.log1p(3 * np.exp(-6.0))
    assert float(metrics["batch loss"]) == pytest.approx(expected, abs=1e-4)
    assert float(metrics["without noise"]) == pytest.approx(expected, abs=1e-4)
    softmax = figure(at, "toy_softmax")
    z = decode(softmax["data"][0]["z"])
    assert z.shape == (4, 4)
    np.testing.assert_allclose(z.sum(axis=1), 1.0, atol=1e-5)
    assert softmax["data"][0]["colorbar"]["title"]["text"] == "p"
    bars = next(t for t in softmax["data"] if t["type"] == "bar")
    np.testing.assert_allclose(decode(bars["x"]), expected, rtol=1e-4)


def test_toy_tau_slider_sharpens_the_softmax():
    at = _page(src="toy", toy_b=8, toy_tau=1.0, toy_pos=0.8, toy_neg=0.2, toy_noise=0.0)
    soft = np.diagonal(decode(figure(at, "toy_softmax")["data"][0]["z"])).mean()
    at.select_slider(key="sim.toy_tau").set_value(0.05).run()
    sharp = np.diagonal(decode(figure(at, "toy_softmax")["data"][0]["z"])).mean()
    assert soft == pytest.approx(np.exp(0.8) / (np.exp(0.8) + 7 * np.exp(0.2)), rel=1e-5)
    assert sharp > 0.99 > soft
    assert at.query_params["toy_tau"] == "0.05"


def test_no_runs_falls_back_to_the_toy_batch():
    at = _page()
    assert not at.exception and not at.error
    assert any("No trained run" in i.value for i in at.info)
    figure(at, "toy_softmax")


@pytest.mark.slow
def test_a_run_shows_its_batch_with_the_learned_temperature(runs):
    store = RunStore()
    tau = store.latest_metrics(runs["clip"])["temperature"]["value"]
    at = _page(run=runs["clip"], B=16, seed=3)
    assert not at.exception and not at.error, [e.value for e in at.error]
    raw = figure(at, "matrix_left")["data"][0]
    sim = decode(raw["z"]).astype(np.float64)
    assert sim.shape == (16, 16) and raw["colorbar"]["title"]["text"] == "cosine similarity"
    assert np.abs(sim).max() <= 1.0 + 1e-5
    right = figure(at, "matrix_right")
    p = decode(right["data"][0]["z"])
    np.testing.assert_allclose(p, lb.row_softmax(lb.logits(sim, tau)), atol=2e-5)
    bars = next(t for t in right["data"] if t["type"] == "bar")
    np.testing.assert_allclose(decode(bars["x"]), lb.row_losses(lb.logits(sim, tau)), rtol=1e-3, atol=1e-4)
    diag = next(t for t in right["data"] if t.get("name") == "positive pairs")
    assert list(diag["x"]) == list(raw["x"]) and list(diag["y"]) == list(raw["y"])  # positives outlined
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["batch loss (symmetric)"]) == pytest.approx(lb.batch_loss(lb.logits(sim, tau)), abs=2e-4)
    assert metrics["negatives per pair"] == "30"
    table = at.dataframe[0].value
    assert "hardest negative text" in table and len(table) == 8
    assert str(table["image"].iloc[0]).startswith("data:image/png;base64,")  # thumbnails


@pytest.mark.slow
def test_tau_slider_and_ordering_and_column_softmax(runs):
    at = _page(run=runs["clip"], B=16, learned="false", tau=0.5, order="shape", right="cols")
    assert not at.exception and not at.error
    raw = figure(at, "matrix_left")["data"][0]
    shapes = [label.split(" · ")[1].split()[-1] for label in raw["y"]]
    assert shapes == sorted(shapes)  # rows grouped by shape
    sim = decode(raw["z"]).astype(np.float64)
    p = decode(figure(at, "matrix_right")["data"][0]["z"])
    np.testing.assert_allclose(p, lb.col_softmax(lb.logits(sim, 0.5)), atol=2e-5)
    np.testing.assert_allclose(p.sum(axis=0), 1.0, atol=1e-4)
    logits_before = at.dataframe[0].value[["positive logit", "negative logit", "margin"]].to_numpy()

    # A τ change swaps new values into the memoised figure and table: they must be τ's own.
    at.slider(key="sim.tau").set_value(0.2).run()
    assert not at.exception and not at.error
    right = figure(at, "matrix_right")
    np.testing.assert_allclose(decode(right["data"][0]["z"]), lb.col_softmax(lb.logits(sim, 0.2)), atol=2e-5)
    bars = next(t for t in right["data"] if t["type"] == "bar")
    np.testing.assert_allclose(decode(bars["y"]), lb.col_losses(lb.logits(sim, 0.2)), rtol=1e-3, atol=1e-4)
    logits_after = at.dataframe[0].value[["positive logit", "negative logit", "margin"]].to_numpy()
    np.testing.assert_allclose(logits_after, logits_before * 0.5 / 0.2, rtol=1e-9)  # same rows, logits ÷ τ
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["batch loss (symmetric)"]) == pytest.approx(lb.batch_loss(lb.logits(sim, 0.2)), abs=2e-4)


@pytest.mark.slow
def test_meru_run_uses_minus_distance_and_sits_beside_clip(runs):
    at = _page(run=runs["meru"], B=8, cmp=runs["clip"])
    assert not at.exception and not at.error, [e.value for e in at.error]
    raw = figure(at, "matrix_left")["data"][0]
    assert raw["colorbar"]["title"]["text"] == "−distance"
    assert decode(raw["z"]).max() <= 0
    side = [el for el in at.get("plotly_chart") if "side_" in el.proto.id]
    assert len(side) == 2
    for key in ("batch_sizes", "shift", "confusion"):
        figure(at, key)
    recall = at.dataframe[1].value
    assert list(recall.columns) == ["R@1", "R@5", "R@10"] and ((recall >= 0) & (recall <= 1)).all().all()


@pytest.mark.slow
def test_clip_run_shows_alignment_and_uniformity_over_training(runs):
    at = _page(run=runs["clip"], B=8)
    curves = figure(at, "geometry_curves")
    names = {t["name"] for t in curves["data"]}
    assert {"alignment", "modality_gap", "uniformity_image", "uniformity_text"} <= names


def _npz(tmp_path, modalities) -> bytes:
    import pandas as pd

    from mmviz.data.embeddings_io import EmbeddingSet, save_embeddings

    rng = np.random.default_rng(0)
    n = 12
    points = rng.normal(size=(n * len(modalities), 4))
    meta = pd.DataFrame({"modality": np.repeat(modalities, n), "label": np.tile(np.arange(n) % 3, len(modalities))})
    path = tmp_path / "pairs.npz"
    save_embeddings(path, EmbeddingSet(points, meta, geometry="sphere"))
    return path.read_bytes()


def test_an_uploaded_paired_file_shows_its_batch(tmp_path):
    at = _page(src="file", B=8, learned="false", tau=0.2)
    assert any("Upload" in i.value for i in at.info)
    at.file_uploader(key="sim.files").set_value(("pairs.npz", _npz(tmp_path, ["u", "v"]), "application/octet-stream"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    raw = figure(at, "matrix_left")["data"][0]
    sim = decode(raw["z"]).astype(np.float64)
    assert sim.shape == (8, 8) and raw["y"][0].startswith("u ")
    p = decode(figure(at, "matrix_right")["data"][0]["z"])
    np.testing.assert_allclose(p, lb.row_softmax(lb.logits(sim, 0.2)), atol=2e-5)


def test_an_unpaired_upload_is_a_clear_error(tmp_path):
    at = _page(src="file")
    at.file_uploader(key="sim.files").set_value(("one.npz", _npz(tmp_path, ["u"]), "application/octet-stream"))
    at.run()
    assert not at.exception
    assert any("two modalities" in e.value for e in at.error)


def test_a_batch_larger_than_the_split_says_it_takes_every_pair(runs):
    at = _page(run=runs["clip"], B=64)
    assert not at.exception and not at.error
    assert any("only 48 held-out pairs" in c.value and "B = 48" in c.value for c in at.caption)
    assert decode(figure(at, "matrix_left")["data"][0]["z"]).shape == (48, 48)
