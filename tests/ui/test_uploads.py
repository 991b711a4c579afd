"""Uploaded files go through the same validation as the CLI, keeping their names."""

import io

import numpy as np
import pytest

from mmviz.errors import MmvizError
from mmviz.ui.uploads import load_uploaded


class Upload:
    """The two things the page uses of Streamlit's UploadedFile."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=arr.dtype == object)
    return buf.getvalue()


def test_projector_pair_is_read_with_its_metadata():
    vectors = "\n".join("\t".join(str(v) for v in row) for row in np.eye(3) * 0.5).encode()
    es = load_uploaded([Upload("vectors.tsv", vectors), Upload("metadata.tsv", b"cat\ndog\nfish\n")], "poincare", 1.0)
    assert es.points.shape == (3, 3) and es.geometry == "poincare"
    assert list(es.metadata.iloc[:, 0]) == ["cat", "dog", "fish"]


def test_points_outside_the_ball_are_refused_with_the_reason():
    with pytest.raises(MmvizError, match="outside|ball"):
        load_uploaded([Upload("x.npy", _npy(np.full((4, 2), 0.9, np.float32)))], "poincare", 1.0)


def test_pickled_npy_is_refused():
    with pytest.raises(MmvizError, match="pickle"):
        load_uploaded([Upload("x.npy", _npy(np.array([{"a": 1}], dtype=object)))], None, None)
