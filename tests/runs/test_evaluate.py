"""Evaluation set-up and metrics on small real datasets (untrained models: structure, counts
and ceilings are exact; the scores themselves are only range-checked)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmviz.data.registry import load
from mmviz.models import build_model
from mmviz.runs.evaluate import evaluate, export_embeddings, prepare_eval_set

SMALL = {"dim": 8, "cnn_widths": "4,8", "text_width": 8}
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def captions_eval(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:  # the dataset cache goes to a temp home
        patch.setenv("MMVIZ_HOME", str(tmp_path_factory.mktemp("home")))
        data = load("trifeature-captions", "test", n=10, n_test=80, size=16)
    return prepare_eval_set(data, 60)


def test_caption_eval_set(captions_eval):
    ev = captions_eval
    meta = ev.data.metadata
    assert len(ev.data) == 60 and ev.text_side == 1
    assert ev.relevant.shape == (60, 60) and ev.relevant.diagonal().all()  # its own caption is true of it
    # relevant[i, j]: caption j names only attributes image i has.
    for i, j in [(0, 1), (5, 7), (11, 3)]:
        named = [a for a in ("shape", "texture", "color") if meta.loc[j, f"names_{a}"]]
        assert ev.relevant[i, j] == all(meta.loc[i, a] == meta.loc[j, a] for a in named)
    # Every image is entailed by 3 level-1, 3 level-2 and 1 level-3 distinct caption.
    levels = ev.captions["level"].to_numpy()
    counts = np.stack([(ev.entails & (levels == lv)).sum(1) for lv in (1, 2, 3)], axis=1)
    assert ev.entails.shape == (60, 1330) and (counts == [3, 3, 1]).all()
    assert {k: tuple(v[0].shape[:2]) for k, v in ev.prompts.items()} == {
        "shape": (1, 10), "color": (1, 10), "texture": (1, 10)}


@pytest.mark.parametrize(("model", "depth"), [("meru", "dist0"), ("clip", "rawnorm")])
def test_evaluate_reports_every_metric(captions_eval, model, depth):
    torch.manual_seed(0)
    net = build_model(model, captions_eval.data, **SMALL)
    out = evaluate(net, captions_eval, CPU, batch_size=20)
    for name in ("loss", "r1_image_to_text", "r5_text_to_image", "zeroshot_shape", "zeroshot_color",
                 "zeroshot_texture", f"{depth}_level1", f"{depth}_level3", f"{depth}_image", f"{depth}_chain"):
        assert name in out and math.isfinite(out[name])
    assert 0.0 <= out[f"{depth}_chain"] <= 1.0 and 0.0 <= out["zeroshot_shape"] <= 1.0
    # 30 level-1 captions set the balanced sample: four groups of 30.
    assert out[f"{depth}_spearman_bal_ceiling"] == pytest.approx(math.sqrt(1 - 4 * (30**3 - 30) / (120**3 - 120)))
    assert ("alignment" in out) == (model == "clip") and ("dist0_text" in out) == (model == "meru")
    assert net.training  # evaluate() restores the mode


def test_export_embeddings_tags_geometry_and_rows(captions_eval):
    net = build_model("meru", captions_eval.data, **SMALL)
    es = export_embeddings(net, captions_eval, CPU)
    assert (es.geometry, es.curvature, es.points.shape) == ("lorentz", pytest.approx(1.0), (60 + 60 + 1330, 9))
    assert es.metadata["modality"].value_counts().to_dict() == {"caption": 1330, "image": 60, "text": 60}
    assert {"raw_norm", "pair_index", "caption_id", "level"} <= set(es.metadata.columns)


def test_digits_relevance_is_by_label(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path))
    ev = prepare_eval_set(load("digits", "test"), 100)
    labels = ev.data.metadata["label"].to_numpy()
    np.testing.assert_array_equal(ev.relevant, labels[:, None] == labels[None, :])
    assert list(ev.prompts) == ["label"] and ev.prompts["label"][0].shape[1] == 10
    assert ev.captions is None


def test_vector_pairs_relevance_is_the_pair(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path))
    ev = prepare_eval_set(load("gaussian", "test", n_test=30), 100)
    np.testing.assert_array_equal(ev.relevant, np.eye(30, dtype=bool))
    assert ev.text_side is None and ev.prompts == {}
