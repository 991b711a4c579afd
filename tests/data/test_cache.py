"""The on-disk dataset cache: exact round trips, hits, keys, atomic writes, corruption, speed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmviz.data.base import DatasetInfo, PairedDataset, ParamSpec
from mmviz.data.cache import cache_key, cached_load, load_entry, params_key, save_entry
from mmviz.paths import cache_dir

INFO = DatasetInfo(
    name="fake",
    description="a made-up dataset for cache tests",
    kind="pairs",
    params=(ParamSpec("n", "int", 12), ParamSpec("seed", "int", 0)),
    modalities=("image", "text"),
    version=3,
    cacheable=True,
)


def make_fake(n: int = 12, seed: int = 0, split: str = "train") -> PairedDataset:
    """Every kind of column the cache must carry, with awkward values."""
    rng = np.random.default_rng(seed)
    modalities = {
        "image": rng.integers(0, 256, (n, 3, 4, 5), dtype=np.uint8),
        "text": rng.integers(0, 50, (n, 7), dtype=np.int64),
        "vector": rng.standard_normal((n, 6)).astype(np.float32),
        "score": rng.standard_normal(n),  # float64, one value per sample
        "grid": rng.standard_normal((n, 2, 3)).astype(np.float16),
        "deep": rng.random((n, 2, 1, 2, 1, 2, 2)) > 0.5,  # 6 axes: beyond HF's Array5D
    }
    metadata = pd.DataFrame({
        "label": rng.integers(0, 10, n).astype(np.int64),
        "small": rng.integers(-5, 5, n).astype(np.int32),
        "weight": rng.random(n).astype(np.float32),
        "value": rng.standard_normal(n),
        "flag": rng.random(n) > 0.5,
        "caption": [f"caption {i} é" for i in range(n)],
        "attributes": [list(range(i % 3)) for i in range(n)],  # list cells, some empty
        "level": pd.Categorical(rng.choice(["leaf", "root", "mid"], n), categories=["root", "mid", "leaf"],
                                ordered=True),
    })
    extras = {
        "covariance": rng.standard_normal((4, 4)),
        "prompts": rng.integers(0, 9, (2, 10, 3)),
        "table": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
        "vocab": ["<pad>", "one", "two"],
        "mapping": {"3": 1.5, "k": [1, 2, None]},
        "count": 7,
        "note": None,
    }
    return PairedDataset("fake", split, {"n": n, "seed": seed}, modalities, metadata, extras)


def assert_same(a: PairedDataset, b: PairedDataset) -> None:
    assert (a.name, a.split, len(a)) == (b.name, b.split, len(b))
    assert list(a.modalities) == list(b.modalities)
    for key in a.modalities:
        assert b.modalities[key].dtype == a.modalities[key].dtype, key
        assert b.modalities[key].shape == a.modalities[key].shape, key
        np.testing.assert_array_equal(b.modalities[key], a.modalities[key])
    pd.testing.assert_frame_equal(b.metadata, a.metadata, check_exact=True)
    assert list(b.extras) == list(a.extras)
    for key, value in a.extras.items():
        if isinstance(value, np.ndarray):
            assert b.extras[key].dtype == value.dtype
            np.testing.assert_array_equal(b.extras[key], value)
        elif isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(b.extras[key], value)
        else:
            assert b.extras[key] == value, key


class Builder:
    """A build callable that counts its calls."""

    def __init__(self, **params) -> None:
        self.params = params
        self.calls = 0

    def __call__(self) -> PairedDataset:
        self.calls += 1
        return make_fake(**self.params)


def test_round_trip_is_exact(tmp_path: Path) -> None:
    data = make_fake(n=25, seed=4)
    save_entry(data, tmp_path / "entry")
    assert_same(data, load_entry(tmp_path / "entry"))


def test_round_trip_of_zero_rows(tmp_path: Path) -> None:
    data = make_fake(n=0)
    save_entry(data, tmp_path / "entry")
    assert_same(data, load_entry(tmp_path / "entry"))


def test_round_trip_without_metadata_columns(tmp_path: Path) -> None:
    full = make_fake(n=5)
    data = PairedDataset("fake", "train", {}, full.modalities, pd.DataFrame(index=pd.RangeIndex(5)))
    save_entry(data, tmp_path / "entry")
    loaded = load_entry(tmp_path / "entry")
    assert len(loaded) == 5 and list(loaded.metadata.columns) == [] and loaded.extras == {}
    np.testing.assert_array_equal(loaded.modalities["text"], full.modalities["text"])


def test_second_load_hits_the_cache() -> None:
    build = Builder(n=12, seed=1)
    first = cached_load(INFO, "train", {"n": 12, "seed": 1}, build)
    second = cached_load(INFO, "train", {"n": 12, "seed": 1}, build)
    assert build.calls == 1
    assert_same(first, second)
    assert second.params == {"n": 12, "seed": 1}
    entries = [p.name for p in cache_dir("datasets").iterdir()]
    assert entries == [cache_key(INFO, "train", {"n": 12, "seed": 1})]


def test_cache_lives_under_mmviz_home(mmviz_home: Path) -> None:
    cached_load(INFO, "test", {"n": 3, "seed": 0}, Builder(n=3, split="test"))
    key = cache_key(INFO, "test", {"n": 3, "seed": 0})
    assert (mmviz_home / "cache" / "datasets" / key / "manifest.json").is_file()


def test_key_names_dataset_version_split_and_params() -> None:
    key = cache_key(INFO, "train", {"n": 12, "seed": 1})
    assert key == f"fake-v3-train-{params_key({'n': 12, 'seed': 1})}"
    assert len(params_key({"n": 12})) == 12


@pytest.mark.parametrize(
    "other",
    [
        (INFO, "train", {"n": 12, "seed": 2}),
        (INFO, "train", {"n": 13, "seed": 1}),
        (INFO, "test", {"n": 12, "seed": 1}),
        (DatasetInfo("fake", "", "pairs", INFO.params, version=4), "train", {"n": 12, "seed": 1}),
        (DatasetInfo("other", "", "pairs", INFO.params, version=3), "train", {"n": 12, "seed": 1}),
    ],
)
def test_different_inputs_give_different_keys(other) -> None:
    assert cache_key(*other) != cache_key(INFO, "train", {"n": 12, "seed": 1})


def test_key_ignores_param_order_and_numpy_scalars() -> None:
    a = cache_key(INFO, "train", {"n": 12, "seed": 1})
    assert cache_key(INFO, "train", {"seed": 1, "n": 12}) == a
    assert cache_key(INFO, "train", {"seed": np.int64(1), "n": np.int32(12)}) == a


def test_different_params_build_separate_entries() -> None:
    build_a, build_b = Builder(seed=1), Builder(seed=2)
    a = cached_load(INFO, "train", {"n": 12, "seed": 1}, build_a)
    b = cached_load(INFO, "train", {"n": 12, "seed": 2}, build_b)
    assert (build_a.calls, build_b.calls) == (1, 1)
    assert not np.array_equal(a.modalities["image"], b.modalities["image"])
    assert len(list(cache_dir("datasets").iterdir())) == 2


def _delete_manifest(entry: Path) -> None:
    (entry / "manifest.json").unlink()


def _truncate_arrow(entry: Path) -> None:
    arrow = next((entry / "table").glob("*.arrow"))
    arrow.write_bytes(arrow.read_bytes()[:100])


def _garble_npz(entry: Path) -> None:
    (entry / "extras.npz").write_bytes(b"not a zip file")


def _old_format(entry: Path) -> None:
    text = (entry / "manifest.json").read_text().replace('"format": 1', '"format": 0')
    (entry / "manifest.json").write_text(text)


def _empty_folder(entry: Path) -> None:
    for path in sorted(entry.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()


@pytest.mark.parametrize("corrupt", [_delete_manifest, _truncate_arrow, _garble_npz, _old_format, _empty_folder])
def test_corrupt_entry_is_rebuilt(corrupt) -> None:
    params = {"n": 12, "seed": 5}
    build = Builder(seed=5)
    original = cached_load(INFO, "train", params, build)
    corrupt(cache_dir("datasets") / cache_key(INFO, "train", params))
    rebuilt = cached_load(INFO, "train", params, build)
    assert build.calls == 2
    assert_same(original, rebuilt)
    assert_same(original, cached_load(INFO, "train", params, build))  # and the new entry is good
    assert build.calls == 2


def test_failed_write_leaves_nothing_behind() -> None:
    def build() -> PairedDataset:
        data = make_fake()
        data.extras["model"] = object()  # not JSON, not an array: the cache refuses it
        return data

    with pytest.raises(TypeError, match="extras\\['model'\\]"):
        cached_load(INFO, "train", {"n": 12, "seed": 0}, build)
    assert list(cache_dir("datasets").iterdir()) == []


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    data = make_fake()
    data.extras["names"] = np.array(["a", None], dtype=object)
    with pytest.raises(TypeError, match="object array"):
        save_entry(data, tmp_path / "entry")
    assert not (tmp_path / "entry").exists()


def test_existing_entry_wins_over_a_late_writer(tmp_path: Path) -> None:
    first, second = make_fake(seed=1), make_fake(seed=1)
    save_entry(first, tmp_path / "entry")
    save_entry(second, tmp_path / "entry")  # as if another process finished first
    assert_same(first, load_entry(tmp_path / "entry"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry"]


def test_stale_temp_folders_are_swept(tmp_path: Path) -> None:
    stale = tmp_path / ".tmp-entry-1-deadbeef"
    fresh = tmp_path / ".tmp-entry-2-cafef00d"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "half.arrow").write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    save_entry(make_fake(), tmp_path / "entry")
    assert not stale.exists()
    assert fresh.exists()  # may belong to a writer still at work


def test_loading_10k_images_is_fast() -> None:
    rng = np.random.default_rng(0)
    n = 10_000
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    data = PairedDataset(
        "fake", "train", {"n": n, "seed": 0},
        {"image": images, "text": rng.integers(0, 100, (n, 16), dtype=np.int64)},
        pd.DataFrame({"label": rng.integers(0, 10, n)}),
    )
    cached_load(INFO, "train", {"n": n, "seed": 0}, lambda: data)
    start = time.perf_counter()
    loaded = cached_load(INFO, "train", {"n": n, "seed": 0}, lambda: pytest.fail("cache missed"))
    seconds = time.perf_counter() - start
    assert loaded.modalities["image"].dtype == np.uint8
    np.testing.assert_array_equal(loaded.modalities["image"], images)
    assert seconds < 2.0, f"loading took {seconds:.2f} s"
