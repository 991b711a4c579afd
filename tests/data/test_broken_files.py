"""Broken files of every supported format, a folder, a missing or unreadable file and an
oversized upload: ``mmviz check`` and the Explorer's uploader each say one clear line and leave
no run, cache entry or temporary file behind."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmviz.cli import main
from mmviz.data import embeddings_io
from mmviz.errors import MmvizError
from mmviz.ui.uploads import check_upload_size, load_uploaded

FORMATS = ("npy", "npz", "parquet", "csv", "tsv")


def _good(folder: Path, fmt: str) -> Path:
    x = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32)
    path = folder / f"good.{fmt}"
    if fmt == "npy":
        np.save(path, x)
    elif fmt == "npz":
        np.savez_compressed(path, points=x)
    elif fmt == "parquet":
        pd.DataFrame(x).to_parquet(path)
    else:
        pd.DataFrame(x).to_csv(path, sep="," if fmt == "csv" else "\t", index=False)
    return path


def _damaged(folder: Path, fmt: str, how: str) -> Path:
    data = _good(folder, fmt).read_bytes()
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "corrupted":
        flipped = bytearray(data)
        for i in range(len(data) // 3, len(data) // 3 + 64):
            flipped[i] ^= 0xFF
        data = bytes(flipped)
    elif how == "gzip":  # the right name, the wrong compression
        data = gzip.compress(data)
    elif how == "empty":
        data = b""
    path = folder / f"{how}.{fmt}"
    path.write_bytes(data)
    return path


# Each case: (format, damage, a fragment of the one line). Damage that leaves a readable file
# (flipped bytes inside a .npy's floats, a CSV cut after a whole row) is valid data and not listed.
CASES = [
    ("npy", "truncated", "could not read the .npy array"),
    ("npy", "gzip", "is not a NumPy .npy file"),
    ("npy", "empty", "empty.npy is empty"),
    ("npz", "truncated", "truncated.npz: the archive is damaged or truncated"),
    ("npz", "corrupted", "corrupted.npz: the archive is damaged or truncated"),
    ("npz", "gzip", "is not a NumPy .npz archive"),
    ("npz", "empty", "empty.npz is empty"),
    ("parquet", "truncated", "could not read the parquet file"),
    ("parquet", "corrupted", "could not read the parquet file"),
    ("parquet", "gzip", "could not read the parquet file"),
    ("parquet", "empty", "empty.parquet is empty"),
    ("csv", "corrupted", "corrupted.csv: not UTF-8 text"),
    ("csv", "gzip", "gzip.csv: not UTF-8 text (a compressed or binary file named .csv?)"),
    ("csv", "empty", "empty.csv is empty"),
    ("tsv", "gzip", "gzip.tsv: not UTF-8 text"),
    ("tsv", "empty", "empty.tsv is empty"),
]


def _check(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(["check", *argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    assert out == ""
    return code, err


class _Upload:
    """Streamlit's UploadedFile as the uploader sees it: name, size, getvalue."""

    def __init__(self, path: Path | None = None, name: str = "", size: int | None = None) -> None:
        self.name = name or path.name
        self._path = path
        self.size = size if size is not None else path.stat().st_size

    def getvalue(self) -> bytes:
        if self._path is None:
            raise AssertionError("an oversized upload must be refused before its bytes are read")
        return self._path.read_bytes()


@pytest.fixture()
def clean_home(tmp_path, monkeypatch):
    """MMVIZ_HOME and the temp folder, both watched: nothing may be left in either."""
    home, scratch = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("MMVIZ_HOME", str(home))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield tmp_path / "files"
    assert list(home.rglob("*")) == [] and list(scratch.iterdir()) == []


@pytest.mark.parametrize("fmt, how, message", CASES, ids=[f"{h}-{f}" for f, h, _ in CASES])
def test_a_broken_file_is_one_line_in_check_and_in_the_uploader(clean_home, capsys, fmt, how, message):
    clean_home.mkdir()
    path = _damaged(clean_home, fmt, how)
    code, err = _check([str(path)], capsys)
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    with pytest.raises(MmvizError) as caught:
        load_uploaded([_Upload(path)], None, None)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_folder_a_missing_file_and_an_unreadable_one(clean_home, capsys, monkeypatch):
    clean_home.mkdir()
    folder = clean_home / "points.npy"
    folder.mkdir()
    code, err = _check([str(folder)], capsys)
    assert code == 2 and "points.npy: a folder must be a Hugging Face datasets folder" in err
    code, err = _check([str(clean_home / "missing.npz")], capsys)
    assert code == 2 and err == f"error: {clean_home / 'missing.npz'}: no such file or folder\n"
    # root reads files whatever their mode, so the refusal of the OS is simulated where it happens
    locked = _good(clean_home, "npz")

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(embeddings_io, "_file_magic", refuse)
    code, err = _check([str(locked)], capsys)
    assert code == 2 and err == "error: good.npz: permission denied (this user may not read it)\n"


def test_a_2_gb_upload_is_refused_before_it_is_read_or_written(clean_home):
    huge = _Upload(name="huge.npy", size=2_000_000_000)
    with pytest.raises(MmvizError, match=r"^huge.npy is 2,000 MB, over the 200 MB limit; subsample it"):
        check_upload_size([huge])
    with pytest.raises(MmvizError, match="over the 200 MB limit"):
        load_uploaded([huge], None, None)


def test_points_inside_the_unit_ball_stay_euclidean_and_check_says_they_fit_the_ball(tmp_path, capsys):
    path = tmp_path / "ball.npy"
    np.save(path, np.random.default_rng(1).uniform(-0.5, 0.5, size=(50, 2)))
    code = main(["check", str(path)])
    out = capsys.readouterr().out
    assert code == 0 and "geometry: euclidean" in out
    assert "note: every point lies inside the unit ball, so these may be Poincaré-ball coordinates" in out
    assert "--geometry poincare" in out
    assert main(["check", str(path), "--geometry", "poincare"]) == 0
    assert "note:" not in capsys.readouterr().out
    es = embeddings_io.load_embeddings(path)
    assert es.geometry == "euclidean" and embeddings_io.fits_poincare_ball(es)
    np.save(path, np.array([[0.5, 0.5], [1.5, 0.0]]))
    assert not embeddings_io.fits_poincare_ball(embeddings_io.load_embeddings(path))
