"""The Interactions page's three-modality view: an example triple with its tones, the six probes
by the protocol (R, U1–U3 from the unbiased run, S1, S2 from the biased one) beside chance, the
curves, and the ablation of CoMM n = 3's per-modality terms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from mmviz.runs.store import RunStore
from tests.app.figures import decode, figure

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "interactions.py")
KEYS = ("R", "U1", "U2", "U3", "S1", "S2")


def _run(store: RunStore, name: str, model: str, biased: bool, probes: dict[int, tuple], reference: bool = False,
         **params) -> str:
    config = {"dataset": "trifeature-triples", "dataset_params": {"biased": biased}, "model": model,
              "model_params": params, "steps": 200, "name": name}
    run_id = store.create_run(config, dataset="trifeature-triples", model=model, total_steps=200,
                              run_id=f"ref-{name.replace(' ', '-')}" if reference else None)
    for step, values in probes.items():
        store.log_metrics(run_id, step, {f"eval/probe_{k}": v for k, v in zip(KEYS, values)})
    store.update_run(run_id, status="finished", step=max(probes))
    if reference:
        store.mark_reference(run_id)
    return run_id


def _page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["study"] = "three"
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def test_empty_store_shows_an_example_triple_and_chance():
    at = _page()
    assert not at.exception, at.exception
    hover = figure(at, "example_triples")["data"][1]["hovertext"]
    assert len(hover) == 4 and "both relations hold" in hover[0] and "neither holds" in hover[2]
    tones = figure(at, "example_tones")
    assert len(tones["data"]) == 2 and len(decode(tones["data"][0]["y"])) == 256
    assert "rhythm 0" in tones["layout"]["annotations"][0]["text"]
    bars = figure(at, "rus_bars3")
    assert [t["name"] for t in bars["data"]] == ["categories"]  # no measured bars: chance lines only
    assert len(bars["layout"]["shapes"]) == 6
    assert [s["y0"] for s in bars["layout"]["shapes"]] == [10, 10, 10, 10, 50, 50]
    assert any("No runs of the three-modality study yet" in i.value for i in at.info)
    assert not [el for el in at.get("plotly_chart") if "example_pairs" in (el.proto.id or "")]  # the other study


def test_protocol_reads_u_from_unbiased_and_s_from_biased_runs():
    store = RunStore()
    _run(store, "pairwise biased", "pairwise3", True, {300: (1.0, 0.9, 0.5, 0.2, 0.50, 0.49)})
    _run(store, "pairwise unbiased", "pairwise3", False, {300: (0.99, 0.2, 0.18, 0.15, 0.5, 0.5)})
    _run(store, "comm biased", "comm3", True,
         {100: (0.9, 0.5, 0.4, 0.6, 0.6, 0.52), 200: (1.0, 0.8, 0.7, 0.9, 0.7, 0.66)})
    _run(store, "comm unbiased", "comm3", False, {200: (1.0, 0.7, 0.65, 0.8, 0.5, 0.5)})
    _run(store, "comm two-view", "comm3", True,
         {100: (0.9, 0.5, 0.4, 0.5, 0.55, 0.5), 200: (0.95, 0.6, 0.5, 0.6, 0.6, 0.51)}, masked_terms="")
    at = _page()
    assert not at.exception, at.exception
    bars = {t["name"]: decode(t["y"]) for t in figure(at, "rus_bars3")["data"]}
    np.testing.assert_allclose(bars["CoMM n = 3 (here)"], [100, 70, 65, 80, 70, 66])
    np.testing.assert_allclose(bars["Pairwise (here)"], [99, 20, 18, 15, 50, 49])
    assert set(bars) == {"categories", "CoMM n = 3 (here)", "Pairwise (here)"}  # the ablation is not a method
    table = at.dataframe[0].value
    assert len(table) == 5 and "S2 (%)" in table and set(table["trained on"]) == {"biased", "unbiased"}
    assert "CoMM n = 3 (two-view term only)" in set(table["method"])
    curves = figure(at, "rus_curves3")
    assert len(curves["layout"]["annotations"]) >= 6  # six panel titles (+ chance labels)
    assert {t["name"] for t in curves["data"]} >= {"CoMM n = 3 · biased", "Pairwise · unbiased",
                                                   "CoMM n = 3 (two-view term only) · biased"}
    ablation = {t["name"]: decode(t["y"]) for t in figure(at, "ablation3_bars")["data"][1:]}
    np.testing.assert_allclose(ablation["CoMM n = 3 (two-view term only) · biased (here)"], [95, 60, 50, 60, 60, 51])
    s_curves = figure(at, "ablation3_curves")["data"]
    assert len(s_curves) == 4 and {t["hovertemplate"].split("<br>")[-1][:3] for t in s_curves} == {"S1:", "S2:"}


def test_opens_on_the_shipped_study_and_keeps_the_two_modality_view():
    store = RunStore()
    refs = {_run(store, "comm3 biased", "comm3", True, {100: (0.9, 0.8, 0.7, 0.9, 0.74, 0.7)}, reference=True),
            _run(store, "comm3 unbiased", "comm3", False, {100: (0.96, 0.78, 0.7, 0.9, 0.52, 0.5)}, reference=True)}
    _run(store, "my anchor", "anchor3", True, {100: (0.99, 0.97, 0.5, 0.2, 0.5, 0.5)})
    at = _page()
    assert not at.exception, at.exception
    assert set(at.multiselect(key="interactions_runs3").value) == refs
    at = AppTest.from_file(PAGE, default_timeout=120).run()  # no ?study: the two-modality study
    assert not at.exception, at.exception
    assert figure(at, "rus_bars")["data"][1]["name"] == "Cross (paper)"
    assert not [el for el in at.get("plotly_chart") if "rus_bars3" in (el.proto.id or "")]


def test_cross_views_of_the_shipped_comm3_runs_explain_s1_and_s2():
    from mmviz.gallery.install import install_reference

    store = RunStore()
    for name in ("comm3-biased", "comm3-two-view"):
        install_reference(store, f"ref-{name}")
    at = _page(runs3="ref-comm3-biased,ref-comm3-two-view")
    assert not at.exception, at.exception
    fig = figure(at, "cross_views")
    bars = {t["name"]: dict(zip(t["x"], decode(t["y"]))) for t in fig["data"][1:]}
    comm, two_view = bars["CoMM n = 3 · biased"], bars["CoMM n = 3 (two-view term only) · biased"]
    assert comm["1→c2"] > 80 and two_view["1→c2"] < 30, bars  # the image-1 term carries S1's other side
    assert comm["3→bass"] > 90 and comm["12→bass"] < 30, bars  # nothing but the tone carries S2's
    assert [s["y0"] for s in fig["layout"]["shapes"]] == [10] * 5
    assert "images 1 + 2 → bass (S2)" in fig["layout"]["xaxis"]["ticktext"]
    assert not at.warning
