"""The reference runs shipped in assets/runs: complete, small, and reproducible from their weights."""

from __future__ import annotations

import pytest

from mmviz.gallery.entries import list_entries
from mmviz.gallery.package import shipped_runs
from mmviz.gallery.verify import verify_run

SHIPPED = shipped_runs()


def test_the_gallery_ships_its_entries_and_stays_small():
    names = {run.name for run in SHIPPED}
    assert {"meru", "clip", "gauss-l2", "mammal-poincare"} <= names
    assert names <= {entry.name for entry in list_entries()}
    # 32 MB, as before the three-modality study's seven runs (which took it to 45.0 MB in float32):
    # the large sphere runs ship in float16 (gallery/package.py), 29.4 MB in all
    assert sum(sum(run.size_bytes().values()) for run in SHIPPED) < 32e6
    assert {run.name for run in SHIPPED if run.meta.get("weights") == "float16"} >= {
        "comm3-biased", "comm3-unbiased", "comm3-two-view", "pairwise3-biased", "anchor3-biased", "comm-biased"}


@pytest.mark.parametrize("shipped", SHIPPED, ids=[run.name for run in SHIPPED])
def test_gallery_verify_reproduces_each_shipped_run(shipped):
    result = verify_run(shipped)
    assert result.ok, result.problems
    assert result.metrics_checked >= 5


def test_the_shipped_meru_shows_meru_s_ordering_and_clip_does_not():
    final = {run.name: run.meta["final"] for run in SHIPPED}
    meru, clip = final["meru"], final["clip"]
    assert meru["dist0_level1"] < meru["dist0_level2"] < meru["dist0_level3"] < meru["dist0_image"]
    assert meru["dist0_chain"] >= 0.9 and meru["dist0_spearman_bal"] >= 0.8
    assert min(meru["zeroshot_color"], meru["zeroshot_shape"]) >= 0.9 and meru["zeroshot_texture"] >= 0.7
    assert clip["rawnorm_spearman_bal"] < 0
    assert final["gauss-l2"]["cond_cov_rel_err"] < 0.05
    assert final["mammal-poincare"]["map_closure"] > final["mammal-euclid"]["map_closure"] + 0.2
