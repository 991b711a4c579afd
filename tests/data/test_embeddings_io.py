"""Loading your own embeddings: every format, every refusal, and the save/load round trip."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmviz.data.embeddings_io import (
    EmbeddingSet,
    load_embeddings,
    save_embeddings,
    summary,
    validate,
)
from mmviz.errors import MmvizError

POINTS = np.array([[3.0, 4.0, 0.0], [0.0, 1.0, 0.0], [1.0, 2.0, 2.0], [0.0, 0.0, 0.5]], dtype=np.float32)
LABELS = ["cat", "dog", "car", "tree"]


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class Touch:
    """Unpickling this creates a file: proof that a loader unpickled something."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


# ----------------------------------------------------------------- valid formats


def _npy(d: Path):
    np.save(d / "x.npy", POINTS)
    return d / "x.npy"


def _npz_with_metadata(d: Path):
    np.savez(d / "x.npz", embeddings=POINTS, meta_label=np.array(LABELS), depth=np.arange(4))
    return d / "x.npz"


def _parquet_list_column(d: Path):
    pd.DataFrame({"embedding": list(POINTS), "label": LABELS}).to_parquet(d / "x.parquet")
    return d / "x.parquet"


def _parquet_numeric_columns(d: Path):
    frame = pd.DataFrame(POINTS, columns=["a", "b", "c"]).assign(label=LABELS)
    frame.to_parquet(d / "x.parquet")
    return d / "x.parquet"


def _csv_numeric_columns(d: Path):
    frame = pd.DataFrame(POINTS, columns=["d0", "d1", "d2"]).assign(label=LABELS, depth=[0, 1, 2, 3])
    frame.to_csv(d / "x.csv", index=False)
    return d / "x.csv"


def _csv_pandas_default_header_and_index(d: Path):
    pd.DataFrame(POINTS).assign(label=LABELS).to_csv(d / "x.csv")  # header ",0,1,2,label"
    return d / "x.csv"


def _csv_one_column_of_numbers(d: Path):
    rows = "\n".join(f'"{" ".join(map(str, p))}",{lab}' for p, lab in zip(POINTS.tolist(), LABELS))
    return write_text(d / "x.csv", "embedding,label\n" + rows + "\n")


def _csv_without_header(d: Path):
    return write_text(d / "x.csv", "\n".join(",".join(map(str, p)) for p in POINTS.tolist()) + "\n")


def _tsv_with_header(d: Path):
    pd.DataFrame(POINTS, columns=["x0", "x1", "x2"]).assign(label=LABELS).to_csv(d / "x.tsv", sep="\t", index=False)
    return d / "x.tsv"


def _projector_pair(d: Path):
    write_text(d / "vectors.tsv", "\n".join("\t".join(map(str, p)) for p in POINTS.tolist()) + "\n")
    write_text(d / "metadata.tsv", "\n".join(LABELS) + "\n")
    return [d / "vectors.tsv", d / "metadata.tsv"]


def _projector_folder_with_header(d: Path):
    write_text(d / "vectors.tsv", "\n".join("\t".join(map(str, p)) for p in POINTS.tolist()))
    write_text(d / "metadata.tsv", "label\tdepth\n" + "\n".join(f"{lab}\t{i}" for i, lab in enumerate(LABELS)) + "\n")
    return d


def _npy_with_projector_metadata(d: Path):
    np.save(d / "points.npy", POINTS)
    write_text(d / "metadata.tsv", "\n".join(LABELS) + "\n")
    return [d / "points.npy", d / "metadata.tsv"]


def _hf_save_to_disk(d: Path):
    import datasets

    datasets.disable_progress_bars()
    datasets.Dataset.from_dict({"embeddings": POINTS.tolist(), "label": LABELS}).save_to_disk(str(d / "hf"))
    return d / "hf"


def _hf_dataset_dict_one_split(d: Path):
    import datasets

    datasets.disable_progress_bars()
    data = datasets.Dataset.from_dict({"embedding": POINTS.tolist(), "label": LABELS})
    datasets.DatasetDict({"train": data}).save_to_disk(str(d / "hf"))
    return d / "hf"


@pytest.mark.parametrize(
    ("make", "columns"),
    [
        (_npy, []),
        (_npz_with_metadata, ["label", "depth"]),
        (_parquet_list_column, ["label"]),
        (_parquet_numeric_columns, ["label"]),
        (_csv_numeric_columns, ["label", "depth"]),
        (_csv_pandas_default_header_and_index, ["Unnamed: 0", "label"]),
        (_csv_one_column_of_numbers, ["label"]),
        (_csv_without_header, []),
        (_tsv_with_header, ["label"]),
        (_projector_pair, ["label"]),
        (_projector_folder_with_header, ["label", "depth"]),
        (_npy_with_projector_metadata, ["label"]),
        (_hf_save_to_disk, ["label"]),
        (_hf_dataset_dict_one_split, ["label"]),
    ],
)
def test_every_format_loads_the_same_points(tmp_path, make, columns):
    es = load_embeddings(make(tmp_path))
    assert es.points.dtype == np.float32
    np.testing.assert_array_equal(es.points, POINTS)
    assert list(es.metadata.columns) == columns
    if "label" in columns:
        assert es.metadata["label"].tolist() == LABELS
    if "depth" in columns:
        assert es.metadata["depth"].tolist() == [0, 1, 2, 3]
    assert (es.geometry, es.curvature) == ("euclidean", 1.0)


def test_npz_with_one_array_per_modality(tmp_path):
    np.savez(tmp_path / "x.npz", image=POINTS[:3], text=POINTS[3:], meta_label=np.array(LABELS))
    es = load_embeddings(tmp_path / "x.npz")
    assert es.metadata["modality"].tolist() == ["image", "image", "image", "text"]
    parts = es.by_modality()
    assert list(parts) == ["image", "text"]
    np.testing.assert_array_equal(parts["text"], POINTS[3:])
    assert summary(es)["modalities"] == {"image": 3, "text": 1}


def test_one_file_per_modality_is_named_by_its_stem(tmp_path):
    np.save(tmp_path / "image.npy", POINTS[:2])
    pd.DataFrame({"embedding": list(POINTS[2:])}).to_parquet(tmp_path / "caption.parquet")
    es = load_embeddings([tmp_path / "image.npy", tmp_path / "caption.parquet"])
    assert es.modalities == ["image", "caption"]
    np.testing.assert_array_equal(es.points, POINTS)


def test_summary_reports_exact_counts_and_norms(tmp_path):
    info = summary(load_embeddings(_npz_with_metadata(tmp_path)))
    assert info["n"] == 4 and info["dim"] == 3
    assert info["modalities"] == {"embedding": 4}
    assert info["norm_min"] == pytest.approx(0.5) and info["norm_max"] == pytest.approx(5.0)
    assert info["metadata_columns"] == ["label", "depth"]
    assert (info["geometry"], info["curvature"]) == ("euclidean", 1.0)


def test_save_then_load_round_trips_points_metadata_and_geometry(tmp_path):
    metadata = pd.DataFrame({
        "modality": ["image", "image", "text", "text"], "label": LABELS,
        "depth": [0, 1, 2, 3], "level": [0.5, 1.5, 2.5, 3.5], "seen": [True, False, True, True],
    })
    original = EmbeddingSet(POINTS / 10, metadata, geometry="poincare", curvature=2.0, cone_min_radius=0.2,
                            logit_scale=14.5, model="meru-vit-s")
    path = save_embeddings(tmp_path / "run" / "emb.npz", original)
    with np.load(path, allow_pickle=False) as archive:  # nothing in it needs pickle
        assert set(archive.files) == {"points", "geometry", "curvature", "cone_min_radius", "logit_scale", "model",
                                      "meta_modality", "meta_label", "meta_depth", "meta_level", "meta_seen"}
    loaded = load_embeddings(path)
    np.testing.assert_array_equal(loaded.points, original.points)
    assert (loaded.geometry, loaded.curvature) == ("poincare", 2.0)
    assert (loaded.cone_min_radius, loaded.logit_scale, loaded.model) == (0.2, 14.5, "meru-vit-s")
    for column in metadata.columns:
        assert loaded.metadata[column].tolist() == metadata[column].tolist()
    assert loaded.by_modality()["text"].shape == (2, 3)
    # What the caller declares wins over what the file declares.
    assert load_embeddings(path, geometry="euclidean").geometry == "euclidean"


@pytest.mark.parametrize("curvature", [0.5, 1.0, 4.0])
def test_points_on_the_hyperboloid_in_float32_pass(curvature):
    rng = np.random.default_rng(0)
    space = rng.normal(size=(200, 8)) * np.logspace(-3, 2, 200)[:, None]
    time = np.sqrt(1 / curvature + (space**2).sum(axis=1, keepdims=True))
    validate(EmbeddingSet(np.concatenate([time, space], axis=1), pd.DataFrame(), "lorentz", curvature))


def test_points_just_inside_the_ball_pass():
    points = np.array([[0.999, 0.0], [0.0, -0.4999]], dtype=np.float32)
    validate(EmbeddingSet(points, pd.DataFrame(), "poincare", 1.0))
    validate(EmbeddingSet(points * 0.5, pd.DataFrame(), "poincare", 4.0))


# ----------------------------------------------------------------- refusals


def _with_nan(d):
    x = POINTS.copy()
    x[2, 1] = np.nan
    x[3, 0] = np.inf
    np.save(d / "x.npy", x)
    return [d / "x.npy"], {}


def _csv_with_missing_value(d):
    return [write_text(d / "x.csv", "a,b\n1,2\n3,\n5,6\n")], {}


def _ragged_string_column(d):
    return [write_text(d / "x.csv", 'embedding,label\n"1 2 3",a\n"4 5",b\n')], {}


def _ragged_projector(d):
    write_text(d / "vectors.tsv", "1\t2\t3\n4\t5\t6\n7\t8\n")
    write_text(d / "metadata.tsv", "a\nb\nc\n")
    return [d / "vectors.tsv", d / "metadata.tsv"], {}


def _ragged_parquet(d):
    pd.DataFrame({"embedding": [[1.0, 2.0], [3.0, 4.0], [5.0]]}).to_parquet(d / "x.parquet")
    return [d / "x.parquet"], {}


def _modality_dims_in_npz(d):
    np.savez(d / "x.npz", image=np.ones((2, 3)), text=np.ones((2, 2)))
    return [d / "x.npz"], {}


def _modality_dims_across_files(d):
    np.save(d / "image.npy", np.ones((2, 3)))
    np.save(d / "text.npy", np.ones((2, 4)))
    return [d / "image.npy", d / "text.npy"], {}


def _empty_npy(d):
    (d / "x.npy").touch()
    return [d / "x.npy"], {}


def _empty_csv(d):
    return [write_text(d / "x.csv", "\n\n")], {}


def _zero_rows(d):
    np.save(d / "x.npy", np.zeros((0, 3), dtype=np.float32))
    return [d / "x.npy"], {}


def _projector_label_count(d):
    write_text(d / "vectors.tsv", "1\t2\n3\t4\n5\t6\n7\t8\n")
    write_text(d / "metadata.tsv", "a\nb\nc\n")
    return [d / "vectors.tsv", d / "metadata.tsv"], {}


def _npz_label_count(d):
    np.savez(d / "x.npz", points=np.ones((4, 2)), meta_label=np.array(["a", "b"]))
    return [d / "x.npz"], {}


def _outside_ball(d):
    np.save(d / "x.npy", np.array([[0.5, 0.0], [0.0, 1.0], [1.2, 0.9]]))
    return [d / "x.npy"], {"geometry": "poincare"}


def _outside_smaller_ball(d):
    np.save(d / "x.npy", np.array([[0.1, 0.0], [0.0, 0.6]]))
    return [d / "x.npy"], {"geometry": "poincare", "curvature": 4.0}


def _off_hyperboloid(d):
    space = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 0.0]])
    time = np.sqrt(1 + (space**2).sum(axis=1))
    time[1] *= 1.5  # x0² is 2.25 × 6 = 13.5 where 6 belongs: residual 7.5 / 13.5
    np.save(d / "x.npy", np.column_stack([time, space]))
    return [d / "x.npy"], {"geometry": "lorentz"}


def _space_coordinates_only(d):
    np.save(d / "x.npy", np.array([[0.2, 0.1, 0.3], [1.0, 2.0, 3.0]]))
    return [d / "x.npy"], {"geometry": "lorentz"}


def _lower_sheet(d):
    np.save(d / "x.npy", np.array([[1.0, 0.0], [-math.sqrt(2.0), 1.0]]))
    return [d / "x.npy"], {"geometry": "lorentz"}


def _zero_vector_on_sphere(d):
    np.save(d / "x.npy", np.array([[1.0, 0.0], [0.0, 0.0]]))
    return [d / "x.npy"], {"geometry": "sphere"}


def _too_big(d):
    np.save(d / "x.npy", np.ones((100, 10)))
    return [d / "x.npy"], {"max_bytes": 1000}


def _object_npy(d):
    np.save(d / "x.npy", np.array([[1.0, "a"]], dtype=object), allow_pickle=True)
    return [d / "x.npy"], {}


def _raw_pickle_named_npy(d):
    (d / "x.npy").write_bytes(pickle.dumps(Touch(d / "unpickled")))
    return [d / "x.npy"], {}


def _object_array_in_npz(d):
    np.savez(d / "x.npz", points=np.ones((2, 2)), meta_label=np.array([Touch(d / "unpickled"), 1], dtype=object))
    return [d / "x.npz"], {}


def _missing_file(d):
    return [d / "nowhere.npy"], {}


def _projector_metadata_with_a_short_line(d):
    np.save(d / "x.npy", POINTS)
    write_text(d / "metadata.tsv", "label\tdepth\ncat\t0\ndog\n")
    return [d / "x.npy", d / "metadata.tsv"], {}


def _unknown_extension(d):
    return [write_text(d / "x.txt", "1 2 3\n")], {}


def _unknown_geometry(d):
    return [_npy(d)], {"geometry": "hyperbolic"}


def _negative_curvature(d):
    return [_npy(d)], {"curvature": -1.0}


def _no_numeric_columns(d):
    return [write_text(d / "x.csv", "name,colour\na,red\nb,blue\n")], {}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_with_nan, "2 of 4 rows contain NaN or Inf (first at row 2, counting from 0)"),
        (_csv_with_missing_value, "1 of 3 rows contain NaN or Inf (first at row 1"),
        (_ragged_string_column, "ragged rows: row 0 has 3 numbers but row 1 has 2"),
        (_ragged_projector, "vectors.tsv: ragged rows: row 0 has 3 numbers but row 2 has 2"),
        (_ragged_parquet, "ragged rows: row 0 has 2 numbers but row 2 has 1"),
        (_modality_dims_in_npz, "dimension mismatch between modalities: 'text' has dimension 2 but 'image' has 3"),
        (_modality_dims_across_files, ("dimension mismatch between modalities:",
                                       "'text' has dimension 4 but 'image' has 3")),
        (_empty_npy, "x.npy is empty"),
        (_empty_csv, "x.csv is empty"),
        (_zero_rows, "no embeddings: the array has 0 rows"),
        (_projector_label_count, "metadata.tsv has 3 rows but there are 4 embeddings"),
        (_npz_label_count, "metadata column 'label' has 2 rows but there are 4 embeddings"),
        (_outside_ball, "2 points lie on or outside the Poincaré ball of curvature -1 (norm ≥ 1/√c = 1); max norm 1.5"),
        (_outside_smaller_ball, ("1 point lies on or outside the Poincaré ball of curvature -4",
                                 "(norm ≥ 1/√c = 0.5); max norm 0.6")),
        (_off_hyperboloid, ("1 point is off the Lorentz hyperboloid of curvature -1",
                            "worst relative residual 0.556 at row 1")),
        (_space_coordinates_only, "2 points are off the Lorentz hyperboloid"),
        (_lower_sheet, "1 point has a time coordinate ≤ 0 (first at row 1)"),
        (_zero_vector_on_sphere, "1 row is all zeros (first at row 1); a zero vector has no direction on the sphere"),
        (_too_big, "x.npy is 0.00813 MB (8,128 bytes), over the 0.001 MB limit"),
        (_object_npy, "x.npy holds pickled Python objects (an object array); mmviz never unpickles files"),
        (_raw_pickle_named_npy, "x.npy holds pickled Python objects; mmviz never unpickles files"),
        (_object_array_in_npz, "array 'meta_label' is an object array"),
        (_missing_file, "nowhere.npy: no such file or folder"),
        (_projector_metadata_with_a_short_line, "metadata.tsv: line 3 has 1 tab-separated values, the header 2"),
        (_unknown_extension, "unsupported file type '.txt'; supported: .npy, .npz, .parquet, .csv, .tsv"),
        (_unknown_geometry, "unknown geometry 'hyperbolic'; choose one of euclidean, sphere, poincare, lorentz"),
        (_negative_curvature, "curvature must be a positive number c"),
        (_no_numeric_columns, ("no embedding columns", "columns are name, colour")),
    ],
)
def test_invalid_input_is_refused_with_a_specific_message(tmp_path, make, message):
    paths, kwargs = make(tmp_path)
    with pytest.raises(MmvizError) as caught:
        load_embeddings(paths, **kwargs)
    for fragment in (message,) if isinstance(message, str) else message:
        assert fragment in str(caught.value)
    assert not (tmp_path / "unpickled").exists()


def test_the_cli_offers_every_geometry_the_reader_knows():
    from mmviz.cli import build_parser
    from mmviz.geometry import GEOMETRY_NAMES

    sub = next(a for a in build_parser()._actions if a.dest == "verb")
    for verb in ("check", "project"):
        geometry = next(a for a in sub.choices[verb]._actions if a.dest == "geometry")
        assert tuple(geometry.choices) == GEOMETRY_NAMES
