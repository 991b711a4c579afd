"""The Gaussian lab page: the closed form renders for the default and a changed population,
bad input is an error (not a traceback), and a finished run is overlaid on the plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mmviz.runs.loop import train_run
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config
from mmviz.ui import gaussian_lab as lab
from tests.app.figures import decode, figure

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "gaussian.py")


def ys(trace: dict) -> np.ndarray:
    return np.asarray(decode(trace["y"]), dtype=float)


def test_closed_form_renders():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    spectrum = figure(at, "gauss_spectrum")
    bars = spectrum["data"][0]
    np.testing.assert_allclose(ys(bars), [0.95 * 0.7**i for i in range(4)], atol=1e-9)
    names = [t["name"] for t in spectrum["data"]]
    assert "L2 tilt, fits p(v|u)" in names and "dot tilt" in names
    exact = next(t for t in spectrum["data"] if t["name"] == "L2 tilt, fits p(v|u)")
    np.testing.assert_allclose(ys(exact), ys(bars), atol=1e-9)  # the one-sided L2 tilt is exact
    ellipse = figure(at, "gauss_ellipse")
    assert ellipse["layout"]["yaxis"]["scaleanchor"] == "x"
    assert figure(at, "gauss_samples") and figure(at, "gauss_mean")


def test_sliders_and_bad_input():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.sidebar.slider(key="gauss.k").set_value(2).run()
    assert not at.exception
    assert len(ys(figure(at, "gauss_spectrum")["data"][0])) == 4  # max(k, k′) pairs shown
    at.sidebar.slider(key="gauss.du").set_value(2).run()
    at.sidebar.slider(key="gauss.k").set_value(5).run()
    assert not at.exception
    assert any("do not fit" in e.value for e in at.error)


@pytest.mark.slow
def test_finished_run_is_overlaid(monkeypatch, tmp_path):
    params = lab.LabParams(du=6, dv=5, k=2, rho_max=0.9, decay=0.6, noise=0.3, latent=2)
    config = lab.run_config(params, "probabilistic loss, L2 tilt", "v|u", 300)
    config["dataset_params"]["n"] = 20000
    config = resolve_config(config)
    store = RunStore()
    run_id = store.create_run(config, dataset="gaussian", model=config["model"], total_steps=config["steps"])
    assert train_run(store, run_id) == "finished"
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in vars(params).items():
        at.session_state[f"gauss.{key}"] = value
    at.session_state["gauss.run"] = run_id
    at.run()
    assert not at.exception, at.exception
    spectrum = figure(at, "gauss_spectrum")
    learned = [t for t in spectrum["data"] if str(t["name"]).startswith("learned")]
    assert learned
    np.testing.assert_allclose(ys(learned[0]), ys(spectrum["data"][0]), atol=0.05)
    angles = figure(at, "gauss_angles")
    assert angles["data"] and ys(angles["data"][0])[-1] < 10.0
