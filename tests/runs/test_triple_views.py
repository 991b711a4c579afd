"""The cross-view read-out on the shipped three-modality runs: CoMM n = 3's image-1 view carries
colour 2 (S1's other side) and nothing carries the bass (S2's) but the tone; the two-view
ablation, which loses S1, loses image 1 → colour 2 too."""

from __future__ import annotations

import pytest

from mmviz.errors import MmvizError
from mmviz.gallery.install import install_reference
from mmviz.runs.loop import load_run_model
from mmviz.runs.triple_views import cross_view_read_out


@pytest.fixture(scope="module")
def read_outs(tmp_path_factory):
    from mmviz.runs.store import RunStore

    store = RunStore(tmp_path_factory.mktemp("home"))
    out = {}
    for name in ("comm3-biased", "comm3-two-view"):
        install_reference(store, f"ref-{name}")
        model, config = load_run_model(store, f"ref-{name}")
        out[name] = cross_view_read_out(model, config, examples=1024)
    return out


def test_comm3_learns_s1_s_other_side_from_one_image_and_no_view_computes_the_bass(read_outs):
    comm = read_outs["comm3-biased"]
    assert comm["1→c2"] > 0.8, comm  # 94% on 2,048 triples
    assert comm["3→bass"] > 0.9, comm  # the tone's own bass
    assert max(comm["1→bass"], comm["2→bass"]) < 0.17, comm  # chance (10%) by construction
    assert comm["12→bass"] < 0.3, comm  # the view S2 needs, never trained: 14% on 2,048


def test_without_masked_terms_image_1_alone_does_not_carry_colour_2(read_outs):
    assert read_outs["comm3-two-view"]["1→c2"] < 0.3, read_outs  # 15%, and S1 stays at chance


def test_the_read_out_refuses_a_model_without_a_fusion(tmp_path):
    from mmviz.data import load
    from mmviz.models.registry import build_model

    data = load("trifeature-triples", "test", n_train=16, n_test=16, size=16)
    model = build_model("pairwise3", data, dim=8, cnn_widths="8", tone_widths="8")
    with pytest.raises(MmvizError, match="CoMM n = 3"):
        cross_view_read_out(model, {"model": "pairwise3", "dataset": "trifeature-triples", "dataset_params": {}})


def test_the_read_out_is_saved_beside_its_checkpoint_and_shipped_with_the_reference_runs(tmp_path, monkeypatch):
    import json

    from mmviz.runs import triple_views
    from mmviz.runs.files import CROSS_FILE
    from mmviz.runs.store import RunStore

    store = RunStore(tmp_path / "home")
    install_reference(store, "ref-comm3-biased")
    run_dir = store.run_dir("ref-comm3-biased")
    shipped = json.loads((run_dir / CROSS_FILE).read_text())  # installed with the run
    assert shipped["checkpoint"] == triple_views.checkpoint_signature(run_dir) and shipped["examples"] == 2048

    def no_model(*args, **kwargs):
        raise AssertionError("a saved read-out must not load the model")

    monkeypatch.setattr(triple_views, "load_run_model", no_model)
    assert triple_views.run_read_out(store, "ref-comm3-biased") == pytest.approx(shipped["accuracy"])
    monkeypatch.undo()

    stale = {**shipped, "checkpoint": "0" * 16, "accuracy": {k: 0.5 for k in shipped["accuracy"]}}
    (run_dir / CROSS_FILE).write_text(json.dumps(stale))  # for other weights: read out again, and saved
    fresh = triple_views.run_read_out(store, "ref-comm3-biased", examples=1024)
    assert fresh["1→c2"] > 0.8 and fresh["3→bass"] > 0.9, fresh
    again = json.loads((run_dir / CROSS_FILE).read_text())
    assert again["examples"] == 1024 and again["checkpoint"] == shipped["checkpoint"]
    assert triple_views.saved_read_out(run_dir, 1024) == pytest.approx(fresh)
    assert triple_views.saved_read_out(run_dir, 2048) is None  # another size: not this one
