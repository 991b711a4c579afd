"""``python -m mmviz project``: disk coordinates + quality read-outs; bad input is one line, exit 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from mmviz.cli import main
from mmviz.data.embeddings_io import EmbeddingSet, save_embeddings
from mmviz.geometry import get_geometry


def run_in_process(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture()
def lorentz_file(tmp_path):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(120, 6))
    v *= (rng.uniform(0.1, 3.0, 120) / np.linalg.norm(v, axis=1))[:, None]
    x = get_geometry("lorentz", 0.5).expmap0(torch.as_tensor(v, dtype=torch.float32)).numpy()
    meta = pd.DataFrame({"modality": ["image"] * 60 + ["text"] * 60})
    return save_embeddings(tmp_path / "emb.npz", EmbeddingSet(x, meta, "lorentz", 0.5))


def test_project_json_reports_quality_and_time(lorentz_file, tmp_path, capsys):
    out_path = tmp_path / "disk.npz"
    code, out, err = run_in_process(["project", str(lorentz_file), "--method", "radial", "--out", str(out_path),
                                     "--json"], capsys)
    assert (code, err) == (0, "")
    info = json.loads(out)
    assert info["radius_spearman"] == 1.0 and 0 < info["trustworthiness"] <= 1 and info["distortion"] >= 0
    assert (info["n"], info["geometry"], info["method"], info["k"]) == (120, "lorentz", "radial", 10)
    assert info["curvature"] == pytest.approx(0.5) and info["seconds_project"] >= 0
    with np.load(out_path) as saved:
        assert saved["disk"].shape == (120, 2) and (np.linalg.norm(saved["disk"], axis=1) < 1).all()
        assert str(saved["method"]) == "radial"


@pytest.mark.parametrize("method", ["horopca", "co-sne"])
def test_project_with_the_hyperbolic_fits(lorentz_file, tmp_path, capsys, method):
    out_path = tmp_path / f"{method}.npz"
    code, out, err = run_in_process(["project", str(lorentz_file), "--method", method, "--out", str(out_path),
                                     "--json"], capsys)
    assert (code, err) == (0, "")  # progress goes to a terminal only
    info = json.loads(out)
    assert info["method"] == method and 0.5 < info["trustworthiness"] <= 1 and info["notes"]
    with np.load(out_path) as saved:
        assert saved["disk"].shape == (120, 2) and (np.linalg.norm(saved["disk"], axis=1) < 1).all()


def test_project_human_output_and_overrides(lorentz_file, tmp_path, capsys):
    code, out, _ = run_in_process(["project", str(lorentz_file), "--method", "tangent-pca", "--geometry",
                                   "lorentz", "--curvature", "0.5", "--out", str(tmp_path / "o.npz")], capsys)
    assert code == 0 and "tangent-pca" in out and "trustworthiness@10" in out


@pytest.mark.parametrize(("extra", "message"), [
    (["--method", "identity"], "identity needs 2-D"),
    (["--method", "horopca", "--geometry", "euclidean"], "horopca is made for hyperbolic embeddings"),
    (["--method", "radial", "--curvature", "-1"], "curvature"),
    (["--method", "radial", "--specificity", "mean"], "only needed for sphere"),
    (["--method", "nope"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(lorentz_file, tmp_path, capsys, extra, message):
    code, out, err = run_in_process(["project", str(lorentz_file), "--out", str(tmp_path / "o.npz"), *extra], capsys)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_bad_out_and_missing_file(tmp_path, capsys):
    code, _, err = run_in_process(["project", str(tmp_path / "none.npy"), "--method", "radial", "--out",
                                   str(tmp_path / "o.npz")], capsys)
    assert code == 2 and "no such file" in err
    code, _, err = run_in_process(["project", "x.npy", "--method", "radial", "--out", "o.txt"], capsys)
    assert code == 2 and ".npz" in err
