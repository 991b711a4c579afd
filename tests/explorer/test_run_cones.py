"""The Explorer draws a run's entailment cones with the run's own constant K (MERU's
``min_radius``), not the default 0.1: both when the embeddings are re-computed from the
checkpoint and when the exported ``embeddings.npz`` is read back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmviz.explorer import queries
from mmviz.geometry import DEFAULT_CONE_MIN_RADIUS, get_geometry
from mmviz.runs.embeddings import embeddings_path, run_embeddings
from mmviz.runs.loop import train_run
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config

K = 0.5  # the run's cone constant; far enough from the default that every cone changes
TINY_MERU = {
    "dataset": "trifeature-captions", "dataset_params": {"n": 200, "n_test": 48, "size": 16},
    "model": "meru", "model_params": {"dim": 8, "cnn_widths": "4,8", "text_width": 8, "min_radius": K},
    "steps": 4, "batch_size": 32, "eval_every": 100000, "eval_size": 48, "device": "cpu", "threads": 1,
}


@pytest.fixture(scope="module")
def meru_run(tmp_path_factory) -> tuple[RunStore, str]:
    """A store with a finished tiny MERU run trained with ``min_radius=K`` (a few seconds)."""
    store = RunStore(tmp_path_factory.mktemp("home"))
    config = resolve_config(TINY_MERU)
    assert config["model_params"]["min_radius"] == K
    run_id = store.create_run(config, dataset=config["dataset"], model=config["model"], total_steps=config["steps"])
    assert train_run(store, run_id) == "finished", store.get_run(run_id)["error"]
    return store, run_id


def _assert_queries_use(es, k: float) -> None:
    """``queries.half_aperture`` and ``queries.in_cone`` agree with the geometry at K = k, and
    differ from what the default K would give on the same points."""
    assert k != DEFAULT_CONE_MIN_RADIUS
    geo = get_geometry(es.geometry, es.curvature)
    x = torch.as_tensor(np.asarray(es.points, np.float64))
    own = geo.half_aperture(x, k).numpy()
    default = geo.half_aperture(x, DEFAULT_CONE_MIN_RADIUS).numpy()
    # Apertures are capped at pi/2 near the origin; pick the deepest point, where neither K caps.
    i = int(np.argmax(geo.dist0(x).numpy()))
    assert own[i] < np.pi / 2 - 1e-3 and abs(own[i] - default[i]) > 1e-3, (own[i], default[i])
    assert queries.half_aperture(es, i) == pytest.approx(float(own[i]), abs=1e-9)
    assert queries.half_aperture(es, i) != pytest.approx(float(default[i]), abs=1e-6)

    # Cone membership: for every apex, queries.in_cone matches the geometry at K = k, and the
    # total membership at K = k differs from the one at the default K on the same points.
    counts = {k: 0, DEFAULT_CONE_MIN_RADIUS: 0}
    for apex in range(len(es)):
        got = queries.in_cone(es, apex)
        for radius in counts:
            direct = geo.in_cone(x[apex][None, :].expand_as(x), x, radius).numpy()
            direct[apex] = False
            counts[radius] += int(direct.sum())
            if radius == k:
                np.testing.assert_array_equal(got, direct)
    assert counts[k] != counts[DEFAULT_CONE_MIN_RADIUS], counts


def test_embeddings_recomputed_from_the_checkpoint_carry_the_runs_cone_constant(meru_run):
    store, run_id = meru_run
    embeddings_path(store, run_id).unlink()  # no export: run_embeddings embeds with the checkpoint
    es = run_embeddings(store, run_id)
    assert es.geometry == "lorentz"
    assert es.cone_min_radius == K
    _assert_queries_use(es, K)
    assert embeddings_path(store, run_id).exists()  # saved for next time


def test_the_exported_file_read_back_still_carries_the_runs_cone_constant(meru_run):
    store, run_id = meru_run
    path = embeddings_path(store, run_id)
    if not path.exists():  # when this test runs alone: export it as the other test does
        run_embeddings(store, run_id)
    before = path.stat().st_mtime_ns
    es = run_embeddings(store, run_id)
    assert path.stat().st_mtime_ns == before  # the cached path: the file was read, not re-written
    assert es.cone_min_radius == K
    _assert_queries_use(es, K)
