"""The Interactions page: example pairs, the paper's bars on an empty store, and CoMM's protocol
(R, U from the unbiased run, S from the biased one) on runs with logged probe metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from mmviz.runs.store import RunStore
from tests.app.figures import decode, figure

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "interactions.py")


def _run(store: RunStore, name: str, model: str, biased: bool, probes: dict[int, tuple], reference: bool = False,
         **params) -> str:
    config = {"dataset": "trifeature-pairs", "dataset_params": {"biased": biased}, "model": model,
              "model_params": params, "steps": 200, "name": name}
    run_id = store.create_run(config, dataset="trifeature-pairs", model=model, total_steps=200,
                              run_id=f"ref-{name.replace(' ', '-')}" if reference else None)
    for step, (r, u, u2, s) in probes.items():
        store.log_metrics(run_id, step, {"eval/probe_R": r, "eval/probe_U1": u, "eval/probe_U2": u2,
                                         "eval/probe_S": s})
    store.update_run(run_id, status="finished", step=max(probes))
    if reference:
        store.mark_reference(run_id)
    return run_id


def test_empty_store_shows_examples_and_the_papers_bars():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    hover = figure(at, "example_pairs")["data"][1]["hovertext"]
    assert len(hover) == 4 and "mapping holds" in hover[0] and "mapping fails" in hover[2]
    bars = figure(at, "rus_bars")["data"][1:]  # after the empty trace that fixes the categories
    names = [t["name"] for t in bars]
    assert names == ["Cross (paper)", "Cross+Self (paper)", "FactorCL (paper)", "CoMM (paper)"]
    assert list(decode(bars[3]["y"])) == [99.9, 87.8, 71.9]
    assert any("No runs of the study yet" in i.value for i in at.info)


def test_protocol_takes_r_u_from_unbiased_and_s_from_biased():
    store = RunStore()
    _run(store, "cross biased", "cross", True, {100: (0.99, 0.97, 0.5, 0.50)})
    _run(store, "cross unbiased", "cross", False, {100: (0.998, 0.126, 0.1, 0.489)})
    _run(store, "comm biased", "comm", True, {50: (0.8, 0.5, 0.4, 0.60), 100: (0.95, 0.8, 0.7, 0.74)})
    _run(store, "comm unbiased", "comm", False, {100: (0.96, 0.78, 0.7, 0.52)})
    _run(store, "comm two-view", "comm", True, {50: (0.8, 0.5, 0.4, 0.52), 100: (0.9, 0.7, 0.6, 0.61)},
         modality_terms=False)
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    bars = {t["name"]: decode(t["y"]) for t in figure(at, "rus_bars")["data"]}
    np.testing.assert_allclose(bars["Cross (here)"], [99.8, 12.6, 50.0])
    np.testing.assert_allclose(bars["CoMM (here)"], [96.0, 78.0, 74.0])
    table = at.dataframe[0].value
    assert len(table) == 5 and set(table["trained on"]) == {"biased", "unbiased"}
    curves = figure(at, "rus_curves")["data"]
    assert {t["name"] for t in curves} >= {"CoMM · biased", "Cross · unbiased",
                                           "CoMM (two-view term only) · biased"}
    ablation = figure(at, "ablation_curves")["data"]
    assert len(ablation) == 2 and all("S:" in t["hovertemplate"] for t in ablation)


def test_opens_on_the_reference_study_when_shipped():
    store = RunStore()
    refs = {_run(store, "comm biased", "comm", True, {100: (0.9, 0.8, 0.7, 0.74)}, reference=True),
            _run(store, "comm unbiased", "comm", False, {100: (0.96, 0.78, 0.7, 0.52)}, reference=True)}
    _run(store, "my cross", "cross", True, {100: (0.99, 0.97, 0.5, 0.50)})
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    assert set(at.multiselect(key="interactions_runs").value) == refs
    bars = {t["name"]: decode(t["y"]) for t in figure(at, "rus_bars")["data"]}
    np.testing.assert_allclose(bars["CoMM (here)"], [96.0, 78.0, 74.0])
    assert "Cross (here)" not in bars
