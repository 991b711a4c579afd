"""``python -m mmviz check``: a summary for good input, one ``error:`` line for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mmviz.cli import main

REPO = Path(__file__).resolve().parent.parent
POINTS = np.array([[3.0, 4.0, 0.0], [0.0, 0.5, 0.0], [0.1, 0.2, 0.2], [0.0, 0.0, 0.6]], dtype=np.float32)


def run_in_process(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse errors exit from inside main
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture()
def points_file(tmp_path) -> Path:
    np.save(tmp_path / "emb.npy", POINTS)
    return tmp_path / "emb.npy"


def test_check_prints_a_short_human_summary(points_file, capsys):
    code, out, err = run_in_process(["check", str(points_file)], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{points_file}: 4 points in 3 dimensions",
        "geometry: euclidean (curvature 1)",
        "modalities: embedding 4",
        "norms: 0.3 to 5",
        "metadata: none",
    ]


def test_check_json_with_a_projector_pair(tmp_path, capsys):
    (tmp_path / "vectors.tsv").write_text("0.1\t0.2\n0.3\t0.0\n-0.2\t0.1\n")
    (tmp_path / "metadata.tsv").write_text("label\tmodality\ncat\timage\ndog\timage\na cat\ttext\n")
    argv = ["check", str(tmp_path / "vectors.tsv"), str(tmp_path / "metadata.tsv"),
            "--geometry", "poincare", "--curvature", "4", "--json"]
    code, out, err = run_in_process(argv, capsys)
    assert (code, err) == (0, "")
    info = json.loads(out)
    assert (info["n"], info["dim"], info["geometry"], info["curvature"]) == (3, 2, "poincare", 4.0)
    assert info["modalities"] == {"image": 2, "text": 1}
    assert info["metadata_columns"] == ["label", "modality"]
    assert info["norm_max"] == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--geometry", "poincare"], "1 point lies on or outside the Poincaré ball of curvature -1 (norm ≥ 1/√c = 1)"),
        (["--geometry", "lorentz"], "2 points have a time coordinate ≤ 0 (first at row 1)"),
        (["--curvature", "0"], "curvature must be a positive number c"),
        (["--max-mb", "0.0001"], "emb.npy is 0.000176 MB (176 bytes), over the 0.0001 MB limit"),
        (["--geometry", "hyperbolic"], "argument --geometry: invalid choice: 'hyperbolic'"),
    ],
)
def test_check_refuses_bad_declarations_in_one_line(points_file, capsys, extra, fragment):
    code, out, err = run_in_process(["check", str(points_file), *extra], capsys)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert fragment in lines[0]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("x.txt", b"1 2 3\n", "unsupported file type '.txt'"),
        ("x.csv", b"a,b\n1,2\nnan,3\n", "1 of 2 rows contain NaN or Inf (first at row 1"),
        ("x.npy", b"\x80\x04K\x01.", "x.npy holds pickled Python objects; mmviz never unpickles files"),
        ("x.npy", b"", "x.npy is empty"),
    ],
)
def test_check_refuses_bad_files_in_one_line(tmp_path, capsys, name, content, fragment):
    (tmp_path / name).write_bytes(content)
    code, out, err = run_in_process(["check", str(tmp_path / name)], capsys)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


def _mmviz(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "mmviz", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.slow
def test_check_as_a_real_process(points_file, tmp_path):
    good = _mmviz("check", str(points_file), "--json", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["n"] == 4

    bad_file = tmp_path / "bad.npy"
    bad = POINTS.copy()
    bad[1, 1] = np.nan
    np.save(bad_file, bad)
    refused = _mmviz("check", str(bad_file), cwd=tmp_path)
    assert refused.returncode == 2 and refused.stdout == ""
    assert "Traceback" not in refused.stderr
    assert refused.stderr.splitlines() == ["error: 1 of 4 rows contain NaN or Inf (first at row 1, counting from 0)"]
