"""A dataset's ``train_size`` (what a batch may not exceed, known before loading) is the length of
the split it loads."""

from __future__ import annotations

import pytest

from mmviz.data.registry import get_info, list_datasets, load, resolve_params

SMALL = {
    "trifeature": {"n": 20, "size": 16},
    "trifeature-pairs": {"n_train": 24, "n_test": 16, "size": 16},
    "trifeature-captions": {"n": 30, "n_test": 10, "size": 16},
    "trifeature-triples": {"n_train": 24, "n_test": 16, "size": 16},
    "gaussian": {"n": 50, "n_test": 10},
    "digits": {"test_fraction": 0.3, "seed": 2},
    "ocean-drifters": {"n": 24, "n_test": 10, "drifters": 2, "steps": 2, "grid": 6},
}


def test_every_generated_paired_dataset_states_its_size():
    sized = {info.name for info in list_datasets() if info.train_size is not None}
    assert sized == set(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_train_size_is_the_loaded_length(name, tmp_path, monkeypatch):
    monkeypatch.setenv("MMVIZ_HOME", str(tmp_path))
    params = resolve_params(name, SMALL[name])
    assert get_info(name).train_size(params) == len(load(name, "train", **SMALL[name]))
