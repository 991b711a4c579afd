"""The Similarity page in real Chromium: the toy batch and a tiny trained run at B = 64, with
readable heatmaps (colour bars drawn), no exception, screenshots for the README."""

from __future__ import annotations

import pytest
import torch

from mmviz.runs.loop import train_run
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config
from tests.browser.conftest import screenshot, start_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HEATMAPS = "[data-testid=stPlotlyChart] .hm image"
COLORBARS = "[data-testid=stPlotlyChart] .colorbar"


@pytest.fixture(scope="module")
def sim_app(tmp_path_factory):
    """A server whose store holds a tiny CLIP run with 64 held-out pairs."""
    home = tmp_path_factory.mktemp("sim_browser")
    torch.set_num_threads(1)
    store = RunStore(home)
    config = resolve_config({
        "name": "tiny CLIP", "dataset": "trifeature-captions", "dataset_params": {"n": 128, "n_test": 64, "size": 16},
        "model": "clip", "model_params": {"dim": 8, "mlp_hidden": 32, "cnn_widths": "8,8"}, "steps": 6,
        "batch_size": 32, "eval_every": 6, "eval_size": 64, "log_every": 3, "checkpoint_every": 6,
        "device": "cpu", "threads": 1,
    })
    run_id = store.create_run(config, dataset=config["dataset"], model="clip", total_steps=config["steps"])
    train_run(store, run_id)
    with start_app(home) as url:
        yield url, run_id


def _no_exception(page) -> None:
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()


def test_toy_batch_draws_matrices_with_colour_bars(page, sim_app):
    url, _ = sim_app
    page.goto(f"{url}/similarity?src=toy&toy_b=8")
    wait_idle(page)
    page.wait_for_function(f"document.querySelectorAll('{HEATMAPS}').length >= 2", timeout=60_000)
    _no_exception(page)
    assert page.locator(COLORBARS).count() >= 2
    assert page.get_by_text("batch loss").count() >= 1
    screenshot(page, "similarity-toy")


def test_a_run_at_b64_draws_heatmaps_loss_bars_and_tables(page, sim_app):
    url, run_id = sim_app
    page.goto(f"{url}/similarity?run={run_id}&B=64&order=shape")
    wait_idle(page)
    page.wait_for_function(f"document.querySelectorAll('{HEATMAPS}').length >= 2", timeout=90_000)
    wait_idle(page)
    _no_exception(page)
    assert page.locator(COLORBARS).count() >= 3  # two batch matrices + confusion
    assert page.locator("[data-testid=stPlotlyChart] .barlayer .point").count() >= 64  # per-row loss bars
    box = page.locator("[data-testid=stPlotlyChart]").first.bounding_box()
    assert box and box["width"] > 400 and box["height"] > 400, box
    assert page.get_by_text("Hardest negatives").count() == 1
    screenshot(page, "similarity")
