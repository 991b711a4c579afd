"""Your own embeddings: load them from a file, check them, save them.

Files are parsed as data and never unpickled. Supported: ``.npy``, ``.npz``, ``.parquet``,
``.csv``, ``.tsv``, a TensorBoard projector pair (``vectors.tsv`` + ``metadata.tsv``, or a
folder holding both), a Hugging Face datasets folder written by ``save_to_disk``, and
several of these at once (one file per modality). Every problem raises
:class:`~mmviz.errors.MmvizError` with a message that says what is wrong and where.

Which columns hold the vector (tables: csv, tsv, parquet, HF datasets):

- a column named ``embedding``/``embeddings``/``vector``/``vectors``/``points``/``x``
  holding lists (parquet, HF) or strings of numbers separated by commas or spaces (csv);
- otherwise every numeric column, except those named like metadata (``label``, ``depth``,
  ``level``, ``parent``, ... see :data:`METADATA_NAMES`) and pandas' ``Unnamed: 0`` index;
- a file whose first line is all numbers has no header: every column is a component.

Every other column becomes metadata (optional names with a meaning elsewhere: ``modality``,
``label``, ``text``, ``depth``, ``parent``, ``level``, ``image_path``, ``name``).
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mmviz.errors import MmvizError
from mmviz.geometry.constants import DEFAULT_CONE_MIN_RADIUS, GEOMETRY_NAMES

DEFAULT_MAX_BYTES = 200_000_000
SUPPORTED_FORMATS = (
    ".npy, .npz, .parquet, .csv, .tsv, a TensorBoard projector pair (vectors.tsv + metadata.tsv, "
    "or a folder holding both), or a Hugging Face datasets folder (save_to_disk)"
)
VECTOR_NAMES = ("embedding", "embeddings", "vector", "vectors", "points", "x")
METADATA_NAMES = frozenset({
    "modality", "label", "labels", "class", "text", "caption", "depth", "parent", "level",
    "image_path", "name", "id", "index", "split",
})
META_PREFIX = "meta_"
DEFAULT_MODALITY = "embedding"
# A float32 point on the hyperboloid has x0² and ‖x‖² each rounded to ~1e-7 of their size;
# 1e-4 of x0² leaves room for that (and for float32 maths upstream) but catches real errors.
LORENTZ_RTOL = 1e-4

# 0-d facts besides geometry and curvature that save_embeddings writes and load_embeddings restores.
SAVED_EXTRAS = ("cone_min_radius", "logit_scale", "model")

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = b"\x80"  # protocol 2+ pickles start with the PROTO opcode


@dataclass
class EmbeddingSet:
    """Points in one geometry plus one metadata row per point.

    points: float32 array of shape (N, D); for ``lorentz`` the time coordinate comes first.
    metadata: N rows; a ``modality`` column (if any) says which modality each row is.
    curvature: c > 0; the space curves at -c (poincare, lorentz) or is a sphere of radius
    1/sqrt(c) (sphere; consumers normalise directions).
    cone_min_radius: the entailment-cone constant K of a hyperbolic model (a run's
    ``min_radius``; MERU's 0.1 for files that do not carry one).
    logit_scale: 1 / temperature a model learned (pretrained models' files carry it), or None.
    model: the model that made the points (``meru-vit-s``, ``open_clip:ViT-B-32``), or "".
    """

    points: np.ndarray
    metadata: pd.DataFrame
    geometry: str = "euclidean"
    curvature: float = 1.0
    source: str = ""
    cone_min_radius: float = DEFAULT_CONE_MIN_RADIUS
    logit_scale: float | None = None
    model: str = ""

    def __post_init__(self) -> None:
        self.points = np.ascontiguousarray(self.points, dtype=np.float32)
        if self.points.ndim != 2:
            raise MmvizError(f"embeddings must be an (N, D) array, got shape {self.points.shape}")
        if len(self.metadata.columns) == 0:
            # A frame without columns means "no metadata", whatever its length.
            self.metadata = pd.DataFrame(index=range(len(self.points)))
        _check_metadata_rows(len(self.metadata), len(self.points))
        self.metadata = self.metadata.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.points)

    @property
    def dim(self) -> int:
        return int(self.points.shape[1])

    @property
    def modalities(self) -> list[str]:
        """Modality names in order of first appearance (one default name without a column)."""
        if "modality" not in self.metadata:
            return [DEFAULT_MODALITY]
        return [str(m) for m in pd.unique(self.metadata["modality"])]

    def by_modality(self) -> dict[str, np.ndarray]:
        """Modality → its rows of ``points``, shape (N_m, D)."""
        if "modality" not in self.metadata:
            return {DEFAULT_MODALITY: self.points}
        labels = self.metadata["modality"].astype(str).to_numpy()
        return {m: self.points[labels == m] for m in self.modalities}


@dataclass
class _Parsed:
    """What one reader found: raw points (N, D), metadata, and any declared geometry."""

    points: np.ndarray
    metadata: pd.DataFrame = field(default_factory=pd.DataFrame)
    geometry: str | None = None
    curvature: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # 0-d facts a saved file declares


# --------------------------------------------------------------------------- public API


def load_embeddings(
    path_or_paths: str | Path | Sequence[str | Path],
    geometry: str | None = None,
    curvature: float | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> EmbeddingSet:
    """Load and validate embeddings from one path, a projector pair, or one file per modality.

    geometry/curvature: as declared by the caller; ``None`` takes what the file declares
    (files written by :func:`save_embeddings`), else ``"euclidean"`` and ``1.0``.
    max_bytes: refuse inputs larger than this (all files together).
    """
    paths = [Path(path_or_paths)] if isinstance(path_or_paths, (str, Path)) else [Path(p) for p in path_or_paths]
    if not paths:
        raise MmvizError("no file given")
    for path in paths:
        if not path.exists():
            raise MmvizError(f"{path}: no such file or folder")
    _check_size(paths, max_bytes)

    parsed = _read_inputs(paths)

    geometry = geometry or parsed.geometry or "euclidean"
    if geometry not in GEOMETRY_NAMES:
        raise MmvizError(f"unknown geometry {geometry!r}; choose one of {', '.join(GEOMETRY_NAMES)}")
    if curvature is None:
        curvature = parsed.curvature if parsed.curvature is not None else 1.0
    curvature = float(curvature)
    if not (math.isfinite(curvature) and curvature > 0):
        raise MmvizError(
            f"curvature must be a positive number c (the space curves at -c), got {curvature:g}"
        )
    es = EmbeddingSet(
        points=parsed.points, metadata=parsed.metadata, geometry=geometry, curvature=curvature,
        source=", ".join(str(p) for p in paths),
    )
    if "cone_min_radius" in parsed.extras:
        es.cone_min_radius = float(parsed.extras["cone_min_radius"])
    if "logit_scale" in parsed.extras:
        es.logit_scale = float(parsed.extras["logit_scale"])
    es.model = str(parsed.extras.get("model", ""))
    validate(es)
    return es


def _one_line(err: BaseException) -> str:
    """The first line of an exception's message (libraries' messages can run over several)."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _read_inputs(paths: list[Path]) -> _Parsed:
    """Dispatch to the readers; a damaged, truncated, unreadable or mis-encoded file becomes one
    :class:`MmvizError` line naming it, whatever the library underneath raised."""
    current = paths[0]
    try:
        if len(paths) == 2 and _is_projector_metadata(paths[1]):
            return _read_projector(paths[0], paths[1])
        parts = []
        for current in paths:
            parts.append(_read_path(current))
        return parts[0] if len(parts) == 1 else _concat_modalities(paths, parts)
    except MmvizError:
        raise
    except PermissionError:
        raise MmvizError(f"{current.name}: permission denied (this user may not read it)") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        raise MmvizError(f"{current.name}: the archive is damaged or truncated ({_one_line(err)})") from None
    except UnicodeDecodeError:
        raise MmvizError(f"{current.name}: not UTF-8 text (a compressed or binary file named "
                         f"{current.suffix}?)") from None
    except (OSError, ValueError, KeyError, pd.errors.ParserError) as err:
        raise MmvizError(f"{current.name}: could not read it ({type(err).__name__}: {_one_line(err)})") from None


def validate(es: EmbeddingSet) -> None:
    """Raise :class:`MmvizError` unless every point is finite and lies in ``es.geometry``."""
    n, dim = es.points.shape
    if n == 0:
        raise MmvizError("no embeddings: the input has 0 rows")
    if dim == 0:
        raise MmvizError("the embeddings have 0 dimensions")
    x = es.points
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        raise MmvizError(
            f"{int(bad.sum())} of {n} rows contain NaN or Inf (first at row {int(np.argmax(bad))}, counting from 0)"
        )
    c = es.curvature
    if es.geometry == "sphere":
        zero = ~np.any(x != 0, axis=1)
        if zero.any():
            raise MmvizError(
                f"{_count(zero, 'row is', 'rows are')} all zeros (first at row {int(np.argmax(zero))}); "
                "a zero vector has no direction on the sphere"
            )
    elif es.geometry == "poincare":
        radius = 1 / math.sqrt(c)
        norms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))  # no (N, D) float64 copy
        outside = norms >= radius
        if outside.any():
            raise MmvizError(
                f"{_count(outside, 'point lies', 'points lie')} on or outside the Poincaré ball of curvature -{c:g} "
                f"(norm ≥ 1/√c = {radius:.6g}); max norm {norms.max():.6g}"
            )
    elif es.geometry == "lorentz":
        _check_hyperboloid(x.astype(np.float64), c)


def summary(es: EmbeddingSet) -> dict[str, Any]:
    """Counts and ranges of an :class:`EmbeddingSet`, JSON-ready.

    Keys: n, dim, geometry, curvature, modalities (name → count), norm_min, norm_max
    (Euclidean norms of the stored coordinates), metadata_columns, source, and
    fits_poincare_ball (:func:`fits_poincare_ball`).
    """
    norms = np.linalg.norm(es.points.astype(np.float64), axis=1)
    return {
        "fits_poincare_ball": fits_poincare_ball(es),
        "n": len(es),
        "dim": es.dim,
        "geometry": es.geometry,
        "curvature": es.curvature,
        "modalities": {name: len(rows) for name, rows in es.by_modality().items()},
        "norm_min": float(norms.min()) if len(norms) else None,
        "norm_max": float(norms.max()) if len(norms) else None,
        "metadata_columns": [str(c) for c in es.metadata.columns],
        "source": es.source,
    }


def fits_poincare_ball(es: EmbeddingSet) -> bool:
    """Whether Euclidean points could be Poincaré-ball coordinates: every row strictly inside the
    unit ball. They are still read as Euclidean (that is what a plain array says); the CLI and
    the Explorer say so and offer the switch."""
    if es.geometry != "euclidean" or len(es) == 0:
        return False
    return bool((np.linalg.norm(es.points.astype(np.float64), axis=1) < 1.0).all())


def save_embeddings(path: str | Path, es: EmbeddingSet, points_dtype: Any = np.float32) -> Path:
    """Write ``es`` to an ``.npz`` that :func:`load_embeddings` reads back (no pickle).

    Keys: ``points`` (N, D) float32 (or ``points_dtype``: float16 halves a shipped run's points;
    they are read back as float32), ``geometry``, ``curvature``, ``cone_min_radius``, ``logit_scale``
    and ``model`` when set, and ``meta_<column>`` per metadata column (numbers as numbers;
    anything else as unicode strings).
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise MmvizError(f"save_embeddings writes .npz files; got {path.name}")
    arrays: dict[str, np.ndarray] = {
        "points": es.points.astype(points_dtype, copy=False),
        "geometry": np.array(es.geometry),
        "curvature": np.array(es.curvature, dtype=np.float64),
        "cone_min_radius": np.array(es.cone_min_radius, dtype=np.float64),
    }
    if es.logit_scale is not None:
        arrays["logit_scale"] = np.array(es.logit_scale, dtype=np.float64)
    if es.model:
        arrays["model"] = np.array(es.model)
    for column in es.metadata.columns:
        values = es.metadata[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            arrays[f"{META_PREFIX}{column}"] = values.to_numpy()
        else:
            arrays[f"{META_PREFIX}{column}"] = np.array([str(v) for v in values], dtype=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)  # metadata strings and ids shrink ~5×: shipped runs stay small
    return path


# --------------------------------------------------------------------------- checks


def _count(mask: np.ndarray, one: str, many: str) -> str:
    """How many entries of ``mask`` are set, worded as "1 point lies" or "3 points lie"."""
    n = int(mask.sum())
    return f"{n} {one if n == 1 else many}"


def _check_metadata_rows(n_meta: int, n_points: int, what: str = "metadata") -> None:
    if n_meta != n_points:
        raise MmvizError(f"{what} has {n_meta} rows but there are {n_points} embeddings")


def _check_size(paths: list[Path], max_bytes: int) -> None:
    total = 0
    for path in paths:
        files = [f for f in path.rglob("*") if f.is_file()] if path.is_dir() else [path]
        total += sum(f.stat().st_size for f in files)
    if total > max_bytes:
        what = paths[0].name if len(paths) == 1 else "the inputs"
        raise MmvizError(
            f"{what} is {total / 1e6:.3g} MB ({total:,} bytes), over the {max_bytes / 1e6:g} MB limit; "
            "subsample it or raise the limit (max_bytes, CLI --max-mb)"
        )


def _check_hyperboloid(x: np.ndarray, c: float) -> None:
    """x: (N, D) with the time coordinate first; on the hyperboloid -x0² + ‖x_space‖² = -1/c, x0 > 0."""
    name = "the Lorentz hyperboloid"
    if x.shape[1] < 2:
        raise MmvizError(f"points on {name} need a time coordinate and at least one space coordinate; got dimension 1")
    time, space = x[:, 0], x[:, 1:]
    lower = time <= 0
    if lower.any():
        raise MmvizError(
            f"{_count(lower, 'point has', 'points have')} a time coordinate ≤ 0 "
            f"(first at row {int(np.argmax(lower))}); "
            f"points on {name} have x0 > 0 (time coordinate first)"
        )
    residual = np.abs(time**2 - (space**2).sum(axis=1) - 1 / c) / time**2
    off = residual > LORENTZ_RTOL
    if off.any():
        worst = int(np.argmax(residual))
        raise MmvizError(
            f"{_count(off, 'point is', 'points are')} off {name} of curvature -{c:g} "
            f"(-x0² + ‖x‖² = -1/c, time coordinate first); worst relative residual "
            f"{residual[worst]:.3g} at row {worst} (tolerance {LORENTZ_RTOL:g})"
        )


# --------------------------------------------------------------------------- readers


def _read_path(path: Path) -> _Parsed:
    if path.is_dir():
        return _read_folder(path)
    readers = {".npy": _read_npy, ".npz": _read_npz, ".parquet": _read_parquet, ".csv": _read_csv, ".tsv": _read_tsv}
    suffix = path.suffix.lower()
    if suffix not in readers:
        raise MmvizError(f"{path.name}: unsupported file type {suffix or '(none)'!r}; supported: {SUPPORTED_FORMATS}")
    if path.stat().st_size == 0:
        raise MmvizError(f"{path.name} is empty")
    return readers[suffix](path)


def _read_folder(path: Path) -> _Parsed:
    if (path / "vectors.tsv").is_file() and (path / "metadata.tsv").is_file():
        return _read_projector(path / "vectors.tsv", path / "metadata.tsv")
    if any((path / marker).is_file() for marker in ("dataset_info.json", "state.json", "dataset_dict.json")):
        return _read_hf_folder(path)
    raise MmvizError(
        f"{path}: a folder must be a Hugging Face datasets folder (save_to_disk) or hold "
        "vectors.tsv and metadata.tsv (TensorBoard projector)"
    )


def _refuse_pickle(path: Path, detail: str = "") -> MmvizError:
    return MmvizError(
        f"{path.name} holds pickled Python objects{detail}; mmviz never unpickles files. "
        "Save a numeric array instead, e.g. np.save(path, x.astype(np.float32))"
    )


def _file_magic(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(6)


def _read_npy(path: Path) -> _Parsed:
    magic = _file_magic(path)
    if magic.startswith(_ZIP_MAGIC):
        return _read_npz(path)
    if not magic.startswith(_NPY_MAGIC):
        if magic.startswith(_PICKLE_MAGIC):
            raise _refuse_pickle(path)
        raise MmvizError(f"{path.name} is not a NumPy .npy file (no NUMPY header)")
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise _refuse_pickle(path, " (an object array)") from None
        raise MmvizError(f"{path.name}: could not read the .npy array ({err})") from None
    return _Parsed(_as_matrix(array, path.name))


def _read_npz(path: Path) -> _Parsed:
    """Arrays by shape: (N, D) embeddings (several = one per modality), (N,) metadata
    (``meta_`` prefix stripped), 0-d ``geometry``/``curvature``."""
    if not _file_magic(path).startswith(_ZIP_MAGIC):
        raise MmvizError(f"{path.name} is not a NumPy .npz archive (not a zip file)")
    matrices: dict[str, np.ndarray] = {}
    columns: dict[str, np.ndarray] = {}
    declared: dict[str, Any] = {}
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.files)
        for key in keys:
            try:
                array = archive[key]
            except ValueError as err:
                if "allow_pickle" in str(err):
                    raise _refuse_pickle(path, f" (array {key!r} is an object array)") from None
                raise MmvizError(f"{path.name}: could not read array {key!r} ({err})") from None
            if array.ndim == 0:
                declared[key] = array.item()
            elif array.ndim == 1:
                columns[key.removeprefix(META_PREFIX)] = array
            elif array.ndim == 2:
                matrices[key] = _as_matrix(array, f"{path.name}[{key!r}]")
            else:
                raise MmvizError(
                    f"{path.name}: array {key!r} has shape {array.shape}; expected (N, D) embeddings or (N,) metadata"
                )
    if not matrices:
        raise MmvizError(f"{path.name} has no (N, D) embedding array; arrays: {', '.join(keys) or 'none'}")
    if len(matrices) == 1:
        points = next(iter(matrices.values()))
        modality = None
    else:
        if "modality" in columns:
            raise MmvizError(f"{path.name} has one array per modality and a modality column; keep one of them")
        _check_same_dim(matrices)
        points = np.concatenate(list(matrices.values()))
        modality = np.concatenate([[name] * len(m) for name, m in matrices.items()])
    metadata = pd.DataFrame(index=range(len(points)))
    for name, values in columns.items():
        _check_metadata_rows(len(values), len(points), f"metadata column {name!r}")
        metadata[name] = _column_values(values)
    if modality is not None:
        metadata.insert(0, "modality", modality.tolist())
    geometry = declared.get("geometry")
    curvature = declared.get("curvature")
    extras = {k: declared[k] for k in SAVED_EXTRAS if k in declared}
    return _Parsed(points, metadata, str(geometry) if geometry is not None else None,
                   float(curvature) if curvature is not None else None, extras)


def _column_values(values: np.ndarray) -> Any:
    if values.dtype.kind == "U":
        return values.tolist()
    if values.dtype.kind == "S":
        return [v.decode("utf-8") for v in values]
    return values


def _read_csv(path: Path) -> _Parsed:
    return _read_delimited(path, ",")


def _read_tsv(path: Path) -> _Parsed:
    return _read_delimited(path, "\t")


def _numbers_in(line: str) -> list[str]:
    return line.replace(",", " ").split()


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_delimited(path: Path, sep: str) -> _Parsed:
    """A table with a header row, or (first line all numbers) rows of numbers only."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise MmvizError(f"{path.name} is empty")
    if not _is_header(lines[0], sep):
        return _Parsed(_read_number_rows(path.name, lines))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep)
    except pd.errors.ParserError as err:
        raise MmvizError(f"{path.name}: ragged rows, some rows have more fields than the header ({err})") from None
    points, metadata = _split_frame(frame, path.name)
    return _Parsed(points, metadata)


def _is_header(line: str, sep: str) -> bool:
    """False when ``line`` is a row of numbers (a file without a header).

    pandas writes an integer-named frame's header as ``0,1,...,D-1``: that is a header.
    """
    fields = [f.strip() for f in line.split(sep)]
    if fields == [str(i) for i in range(len(fields))] and len(fields) > 1:
        return True
    return not all(f and all(_is_number(t) for t in f.split()) for f in fields)


def _read_number_rows(where: str, lines: list[str]) -> np.ndarray:
    """lines: rows of numbers separated by tabs, commas or spaces → (N, D) float64."""
    counts = [len(_numbers_in(line)) for line in lines]
    _check_ragged(counts, where)
    text = "\n".join(lines).replace(",", " ")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=r"\s+", header=None, dtype=np.float64)
    except ValueError as err:
        raise MmvizError(f"{where}: not all values are numbers ({err})") from None
    return frame.to_numpy()


def _check_ragged(counts: Sequence[int], where: str) -> None:
    for row, count in enumerate(counts):
        if count != counts[0]:
            raise MmvizError(
                f"{where}: ragged rows: row 0 has {counts[0]} numbers but row {row} has {count}; "
                "every row needs the same dimension"
            )


def _read_parquet(path: Path) -> _Parsed:
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a damaged file
        raise MmvizError(f"{path.name}: could not read the parquet file ({_one_line(err)})") from None
    points, metadata = _split_frame(frame, path.name)
    return _Parsed(points, metadata)


def _read_hf_folder(path: Path) -> _Parsed:
    from datasets import Dataset, load_from_disk

    try:
        data = load_from_disk(str(path))
    except Exception as err:  # datasets raises several types for a damaged folder
        raise MmvizError(f"{path}: could not read the Hugging Face dataset ({_one_line(err)})") from None
    if not isinstance(data, Dataset):
        splits = list(data)
        if len(splits) != 1:
            raise MmvizError(
                f"{path} holds splits {', '.join(splits)}; pass one split's folder, e.g. {path / splits[0]}"
            )
        data = data[splits[0]]
    if data.num_rows == 0:
        raise MmvizError(f"{path.name}: no embeddings: the dataset has 0 rows")
    points, metadata = _split_frame(data.to_pandas(), path.name)
    return _Parsed(points, metadata)


def _is_projector_metadata(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".tsv" and "metadata" in path.name.lower()


def _read_projector(vectors: Path, metadata_path: Path) -> _Parsed:
    """TensorBoard projector: headerless tab-separated vectors + labels (header if >1 column)."""
    parsed = _read_path(vectors)
    if metadata_path.stat().st_size == 0:
        raise MmvizError(f"{metadata_path.name} is empty")
    rows = metadata_path.read_text(encoding="utf-8").split("\n")
    if rows[-1] == "":
        rows.pop()  # the newline that ends the last row
    if rows and "\t" in rows[0]:
        header, body = rows[0].split("\t"), [r.split("\t") for r in rows[1:]]
        for i, row in enumerate(body, start=1):
            if len(row) != len(header):
                raise MmvizError(
                    f"{metadata_path.name}: line {i + 1} has {len(row)} tab-separated values, the header {len(header)}"
                )
        metadata = pd.DataFrame(body, columns=header)
    else:
        metadata = pd.DataFrame({"label": rows})
    _check_metadata_rows(len(metadata), len(parsed.points), metadata_path.name)
    for column in metadata.columns:
        metadata[column] = _maybe_numeric(metadata[column])
    if len(parsed.metadata.columns):
        metadata = pd.concat([parsed.metadata.reset_index(drop=True), metadata], axis=1)
    return _Parsed(parsed.points, metadata, parsed.geometry, parsed.curvature)


def _maybe_numeric(values: pd.Series) -> pd.Series:
    try:
        return pd.to_numeric(values)
    except (ValueError, TypeError):
        return values


def _split_frame(frame: pd.DataFrame, where: str) -> tuple[np.ndarray, pd.DataFrame]:
    """A table → (points (N, D), metadata) following the column rules in the module docstring."""
    if len(frame) == 0:
        raise MmvizError(f"{where}: no embeddings: the table has 0 rows")
    by_name = [c for c in frame.columns if str(c).lower() in VECTOR_NAMES and not _is_plain_numeric(frame[c])]
    if by_name:
        column = by_name[0]
        return _stack_rows(frame[column], f"{where} column {column!r}"), frame.drop(columns=[column])
    numeric = [
        c for c in frame.columns
        if _is_plain_numeric(frame[c]) and str(c).lower() not in METADATA_NAMES and not str(c).startswith("Unnamed:")
    ]
    if numeric:
        return frame[numeric].to_numpy(dtype=np.float64), frame.drop(columns=numeric)
    for column in frame.columns:
        first = frame[column].iloc[0]
        if isinstance(first, (list, np.ndarray)) or (
            isinstance(first, str) and _numbers_in(first.strip("[]()")) and all(
                _is_number(t) for t in _numbers_in(first.strip("[]()"))
            )
        ):
            return _stack_rows(frame[column], f"{where} column {column!r}"), frame.drop(columns=[column])
    raise MmvizError(
        f"{where}: no embedding columns: expected numeric columns or an 'embedding' column of numbers; "
        f"columns are {', '.join(map(str, frame.columns))}"
    )


def _is_plain_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _stack_rows(values: pd.Series, where: str) -> np.ndarray:
    """values: N lists/arrays or strings of numbers → (N, D) float64."""
    rows = []
    for i, value in enumerate(values):
        if isinstance(value, str):
            tokens = _numbers_in(value.strip().strip("[]()"))
            try:
                rows.append(np.array(tokens, dtype=np.float64))
            except ValueError:
                raise MmvizError(f"{where}: row {i} is not a list of numbers: {value[:60]!r}") from None
        elif value is None:
            raise MmvizError(f"{where}: row {i} has no vector")
        else:
            rows.append(np.asarray(value, dtype=np.float64).ravel())
    _check_ragged([len(r) for r in rows], where)
    return np.stack(rows)


def _as_matrix(array: np.ndarray, where: str) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise MmvizError(f"{where}: expected numbers, got an array of dtype {array.dtype}")
    if array.ndim != 2:
        raise MmvizError(f"{where}: expected a 2-D (N, D) array, got shape {array.shape}")
    if array.shape[0] == 0:
        raise MmvizError(f"{where}: no embeddings: the array has 0 rows")
    return array


def _check_same_dim(matrices: dict[str, np.ndarray]) -> None:
    (first, ref), *rest = matrices.items()
    for name, array in rest:
        if array.shape[1] != ref.shape[1]:
            raise MmvizError(
                f"dimension mismatch between modalities: {name!r} has dimension {array.shape[1]} "
                f"but {first!r} has {ref.shape[1]}"
            )


def _concat_modalities(paths: list[Path], parts: list[_Parsed]) -> _Parsed:
    """One file per modality: the modality is the file's stem unless the file has a column."""
    _check_same_dim({p.stem: part.points for p, part in zip(paths, parts)})
    frames = []
    for path, part in zip(paths, parts):
        frame = part.metadata.reset_index(drop=True)
        if "modality" not in frame:
            frame.insert(0, "modality", [path.stem] * len(part.points))
        frames.append(frame)
    declared = {(part.geometry, part.curvature) for part in parts if part.geometry is not None}
    if len(declared) > 1:
        raise MmvizError(f"the files declare different geometries: {sorted(declared)}")
    geometry, curvature = declared.pop() if declared else (None, None)
    return _Parsed(
        np.concatenate([part.points for part in parts]), pd.concat(frames, ignore_index=True), geometry, curvature,
    )
