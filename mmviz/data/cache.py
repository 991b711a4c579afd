"""On-disk cache of generated paired datasets, stored as HF datasets.

A cache entry is a folder ``cache_dir("datasets") / <key>`` holding

- ``table/``: an HF dataset (``Dataset.save_to_disk``) with one column per modality
  (``modality:<name>``, fixed-shape array features) and one per metadata column
  (``meta:<name>``);
- ``extras.npz`` (numpy arrays), ``extras-<name>.parquet`` (DataFrames), ``extras.json``
  (everything else that JSON can carry);
- ``manifest.json``: what is where, with the exact dtypes and shapes to restore.

Entries are written into a temporary folder and renamed into place, so a crash never
leaves half an entry; an entry that cannot be read is deleted and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pandas as pd
import pyarrow as pa

from mmviz.data.base import DatasetInfo, PairedDataset
from mmviz.paths import cache_dir

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TABLE_DIR = "table"
MODALITY_PREFIX = "modality:"
META_PREFIX = "meta:"
STALE_TEMP_SECONDS = 3600  # a temp folder this old belongs to a crashed writer

# HF has fixed-shape array features for 2 to 5 axes per sample.
_ARRAY_FEATURES = {2: datasets.Array2D, 3: datasets.Array3D, 4: datasets.Array4D, 5: datasets.Array5D}


def params_key(params: dict[str, Any]) -> str:
    """A short stable hash (12 hex digits) of the parameters' sorted JSON."""
    text = json.dumps(_to_json(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def cache_key(info: DatasetInfo, split: str, params: dict[str, Any]) -> str:
    """Folder name of a cache entry: ``<name>-v<version>-<split>-<params hash>``."""
    return f"{info.name}-v{info.version}-{split}-{params_key(params)}"


def cached_load(
    info: DatasetInfo, split: str, params: dict[str, Any], build: Callable[[], PairedDataset]
) -> PairedDataset:
    """The dataset from the cache, or ``build()`` saved to the cache and returned.

    An unreadable entry (partial, corrupt, older format) is removed and rebuilt.
    """
    root = cache_dir("datasets")
    path = root / cache_key(info, split, params)
    if path.exists():
        try:
            return load_entry(path, params)
        except Exception:  # noqa: BLE001 - any unreadable entry is rebuilt, never fatal
            shutil.rmtree(path, ignore_errors=True)
    data = build()
    save_entry(data, path)
    return data


def save_entry(data: PairedDataset, path: Path) -> None:
    """Write ``data`` to the entry folder ``path`` atomically (temp folder, then rename).

    If another writer got there first, its entry is kept and this one discarded.
    Raises ``TypeError`` for content the cache cannot store faithfully.
    """
    path = Path(path)
    _remove_stale_temps(path)
    temp = path.parent / f".tmp-{path.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    temp.mkdir(parents=True)
    try:
        manifest: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "name": data.name,
            "split": data.split,
            "params": _to_json(data.params),
            "rows": len(data),
        }
        manifest["modalities"], manifest["metadata"] = _write_table(data, temp / TABLE_DIR)
        manifest["extras"] = _write_extras(data.extras, temp)
        (temp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        try:
            os.replace(temp, path)
        except OSError:
            if not (path / MANIFEST).exists():
                raise
            # A concurrent writer finished the same entry first; the two are identical.
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def load_entry(path: Path, params: dict[str, Any] | None = None) -> PairedDataset:
    """Read the entry folder ``path`` back into a :class:`PairedDataset`."""
    path = Path(path)
    manifest = json.loads((path / MANIFEST).read_text())
    if manifest.get("format") != FORMAT_VERSION:
        raise ValueError(f"cache entry {path} has format {manifest.get('format')}, expected {FORMAT_VERSION}")
    table = datasets.load_from_disk(str(path / TABLE_DIR))
    if len(table) != manifest["rows"]:
        raise ValueError(f"cache entry {path} has {len(table)} rows, manifest says {manifest['rows']}")
    modalities = {}
    for name, spec in manifest["modalities"].items():
        column = MODALITY_PREFIX + name
        arr = table.with_format("numpy", columns=[column], dtype=np.dtype(spec["dtype"]))[column][:]
        modalities[name] = np.asarray(arr).reshape([len(table), *spec["shape"]])
    metadata = _read_metadata(table, manifest["metadata"])
    extras = _read_extras(path, manifest["extras"])
    return PairedDataset(
        manifest["name"], manifest["split"], dict(params) if params is not None else manifest["params"],
        modalities, metadata, extras,
    )


# ---------------------------------------------------------------- the HF table


def _write_table(data: PairedDataset, folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Save modalities and metadata as one HF dataset; return their manifest parts."""
    columns: dict[str, pa.Array] = {}
    features: dict[str, Any] = {}
    modality_specs: dict[str, Any] = {}
    for name, arr in data.modalities.items():
        arr = np.asarray(arr)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"modality {name!r} has dtype {arr.dtype}; the cache stores numbers and booleans only")
        column = MODALITY_PREFIX + name
        columns[column], features[column] = _array_column(arr)
        modality_specs[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape[1:])}

    meta_specs: dict[str, Any] = {"columns": [], "dtypes": {}, "categories": {}}
    meta_table = pa.Table.from_pandas(_plain_metadata(data.metadata, meta_specs), preserve_index=False)
    meta_features = datasets.Features.from_arrow_schema(meta_table.schema)
    for name in meta_specs["columns"]:
        column = META_PREFIX + name
        columns[column] = meta_table.column(name).combine_chunks()
        features[column] = meta_features[name]

    with _quiet_progress():
        table = datasets.Dataset.from_dict(columns, features=datasets.Features(features))
        # HF writes no shard at all for zero rows (and then cannot read the folder back).
        table.save_to_disk(str(folder), num_shards=1 if len(table) == 0 else None)
    return modality_specs, meta_specs


def _array_column(arr: np.ndarray) -> tuple[pa.Array, Any]:
    """An (N, ...) array as an arrow column (nested fixed-size lists) and its HF feature."""
    value = datasets.Value(str(arr.dtype))
    sample_shape = arr.shape[1:]
    flat = pa.array(np.ascontiguousarray(arr).reshape(-1))
    if not sample_shape:
        return flat, value
    if len(sample_shape) in _ARRAY_FEATURES:
        nested = flat
        for size in reversed(sample_shape):
            nested = pa.FixedSizeListArray.from_arrays(nested, size)
        return nested, _ARRAY_FEATURES[len(sample_shape)](shape=tuple(sample_shape), dtype=str(arr.dtype))
    # One axis, or more than HF's fixed-shape features take: a flat row, reshaped on load.
    size = int(np.prod(sample_shape))
    return pa.FixedSizeListArray.from_arrays(flat, size), datasets.List(value, length=size)


def _plain_metadata(metadata: pd.DataFrame, specs: dict[str, Any]) -> pd.DataFrame:
    """Metadata with categoricals as plain values; records dtypes and categories in ``specs``."""
    out = {}
    for name in metadata.columns:
        if not isinstance(name, str):
            raise TypeError(f"metadata column names must be strings, got {name!r}")
        col = metadata[name]
        specs["columns"].append(name)
        specs["dtypes"][name] = str(col.dtype)
        if isinstance(col.dtype, pd.CategoricalDtype):
            specs["categories"][name] = {
                "values": _to_json(list(col.cat.categories)), "ordered": bool(col.cat.ordered),
            }
            col = col.astype(col.cat.categories.dtype)
        out[name] = col.reset_index(drop=True)
    return pd.DataFrame(out, index=pd.RangeIndex(len(metadata)))


def _read_metadata(table: datasets.Dataset, specs: dict[str, Any]) -> pd.DataFrame:
    """The metadata DataFrame with its original dtypes."""
    names = specs["columns"]
    if not names:
        return pd.DataFrame(index=pd.RangeIndex(len(table)))
    arrow = table.data.table.select([META_PREFIX + n for n in names])
    frame = arrow.to_pandas()
    frame.columns = names
    for name, field in zip(names, arrow.schema):
        dtype = specs["dtypes"][name]
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            # arrow gives numpy arrays for list cells; the metadata had Python lists.
            frame[name] = pd.Series(arrow.column(field.name).to_pylist(), dtype=object)
        elif name in specs["categories"]:
            cats = specs["categories"][name]
            frame[name] = pd.Categorical(frame[name], categories=cats["values"], ordered=cats["ordered"])
        elif str(frame[name].dtype) != dtype:
            frame[name] = frame[name].astype(dtype)
    return frame.reset_index(drop=True)


@contextlib.contextmanager
def _quiet_progress() -> Iterator[None]:
    """HF progress bars off while the cache writes (restored afterwards)."""
    was_enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_enabled:
            datasets.enable_progress_bars()


# ---------------------------------------------------------------- extras


def _write_extras(extras: dict[str, Any], folder: Path) -> dict[str, list[str]]:
    """Arrays → ``extras.npz``, DataFrames → parquet, the rest → ``extras.json``."""
    arrays: dict[str, np.ndarray] = {}
    frames: list[str] = []
    plain: dict[str, Any] = {}
    for key, value in extras.items():
        if not isinstance(key, str):
            raise TypeError(f"extras keys must be strings, got {key!r}")
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise TypeError(f"extras[{key!r}] is an object array; the cache stores no pickles")
            arrays[key] = value
        elif isinstance(value, pd.DataFrame):
            value.to_parquet(folder / f"extras-{_file_safe(key)}.parquet")
            frames.append(key)
        else:
            try:
                plain[key] = _to_json(value, strict=True)
            except TypeError as err:
                raise TypeError(f"extras[{key!r}] cannot be cached: {err}") from None
    if arrays:
        np.savez(folder / "extras.npz", **arrays)
    (folder / "extras.json").write_text(json.dumps(plain))
    return {"npz": sorted(arrays), "parquet": frames, "json": sorted(plain), "order": list(extras)}


def _read_extras(folder: Path, specs: dict[str, list[str]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if specs["npz"]:
        with np.load(folder / "extras.npz", allow_pickle=False) as npz:
            found.update({key: npz[key] for key in specs["npz"]})
    for key in specs["parquet"]:
        found[key] = pd.read_parquet(folder / f"extras-{_file_safe(key)}.parquet")
    plain = json.loads((folder / "extras.json").read_text())
    found.update({key: plain[key] for key in specs["json"]})
    return {key: found[key] for key in specs["order"]}


def _file_safe(key: str) -> str:
    """A file-name fragment for ``key`` (readable prefix + hash, so distinct keys never clash)."""
    readable = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in key)[:40]
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _to_json(value: Any, strict: bool = False) -> Any:
    """``value`` with numpy scalars/tuples made JSON-native; ``strict`` raises on anything else."""
    if isinstance(value, dict):
        return {str(k): _to_json(v, strict) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v, strict) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if strict:
        raise TypeError(f"{type(value).__name__} is not JSON data")
    return str(value)


def _remove_stale_temps(path: Path) -> None:
    """Delete temp folders of ``path`` left by writers that crashed long ago."""
    now = time.time()
    for temp in path.parent.glob(f".tmp-{path.name}-*"):
        with contextlib.suppress(OSError):
            if now - temp.stat().st_mtime > STALE_TEMP_SECONDS:
                shutil.rmtree(temp, ignore_errors=True)
