"""Data assimilation: drifter tracks (Lagrangian) linked to the gridded flow (Eulerian) by
contrastive learning, against the baselines an oceanographer uses."""

import json

import numpy as np
import pandas as pd
import streamlit as st

from mmviz.ui.shell import page_setup

page_setup()

from mmviz.errors import MmvizError  # noqa: E402
from mmviz.ocean.study import spread_skill_bins  # noqa: E402
from mmviz.plots import ocean as plots  # noqa: E402
from mmviz.ui import assimilation_lab as lab  # noqa: E402
from mmviz.ui import classroom, page_params  # noqa: E402
from mmviz.ui.charts import show_chart  # noqa: E402
from mmviz.ui.figure_cache import shared_figure  # noqa: E402
from mmviz.ui.pages import page_entry  # noqa: E402
from mmviz.ui.train_runs import get_store  # noqa: E402
from mmviz.ui.url_state import seed_from_url, write_to_url  # noqa: E402

P = page_entry("assimilation").state_prefix
store = get_store()
runs = lab.ocean_runs(store)
URL = page_params.assimilation_url(runs)
seed_from_url(URL, P)

st.title("Data assimilation")
st.markdown(
    "An ocean in a box: random incompressible flows, **drifters** carried by them (their tracks are the "
    "Lagrangian observations) and the flow's **velocity on a coarse grid**, noisy and mostly masked (the Eulerian "
    "observations). A contrastive model aligns the two, as Baptista, Stuart & Tran do in their ocean experiment. "
    "Its learned conditional p(flow | tracks) ∝ p(flow) e^f answers three questions: *which flow produced these "
    "tracks* (retrieval), *which regime is it in* (classification) and *what is the flow* (generation). Data "
    "assimilation answers the last one every day: the page sets the model beside its methods."
)
if not runs:
    st.info("No trained ocean model yet. The reference run installs with the app; or train one below.")
else:
    names = {r["id"]: f"{r['name'] or r['id']} ({r['model']})" for r in runs}
    c1, c2, c3 = st.columns([3, 2, 2])
    run_id = c1.selectbox("model (a finished run on ocean-drifters)", list(names), key=P + "run",
                          format_func=names.get)
    drifters = c2.segmented_control("drifters per flow (observation density)", lab.DENSITIES, key=P + "drifters",
                                    help="The same flows, observed by 4, 16 or 64 drifters; the model was trained "
                                         "at its own density and reads any number (its track encoder averages).")
    drifters = drifters or 16
    params = lab.data_params(store, run_id, drifters)
    n_test = int(params.get("n_test", 1000))
    flow = c3.number_input("flow (held-out)", 0, n_test - 1, key=P + "flow", step=1)
    params_json = json.dumps(params, sort_keys=True)
    try:
        with st.status(f"Evaluating on {n_test:,} held-out flows at {drifters} drifters…", expanded=False) as status:
            ev = lab.evaluation(store, run_id, params_json)
            train, test, assim = lab.splits(params_json)
            status.update(label=f"Evaluated on {n_test:,} held-out flows at {drifters} drifters", state="complete")
    except MmvizError as err:
        st.error(f"This run can't be evaluated: {err}")
        st.stop()

    m = st.columns(5)
    m[0].metric("R@1, model", f"{ev.r1['contrastive']:.1%}",
                help=f"The true flow ranked first among all {n_test:,} held-out flows' observed fields.")
    m[1].metric("R@1, misfit baseline", f"{ev.r1['misfit']:.1%}",
                help="‖y − H f‖²: the drifter velocities against each candidate's observed field at the drifters.")
    m[2].metric("RMSE / clim., model", f"{ev.rel_rmse['contrastive']:.2f}")
    m[3].metric("RMSE / clim., OI", f"{ev.rel_rmse['oi']:.2f}")
    m[4].metric("regime, model", f"{ev.regime_acc['contrastive']:.1%}",
                help=f"The exact conditional (an oracle) gets {ev.regime_acc['exact']:.1%}.")

    st.header("What is the flow, given the tracks?", divider="gray")
    truth = np.asarray(test.extras["truth"][flow], np.float64)
    shown = {k: ev.fields[k][flow] for k in ("contrastive", "oi", "exact", "climatology")}
    errors = {k: float(e[flow]) for k, e in ev.errors.items()}
    show_chart(shared_figure(plots.reconstruction_figure, truth, shown, test.modalities["tracks"][flow],
                             {k: errors[k] for k in shown}), width="stretch", key="reconstruction")
    st.caption(
        "Speed of the velocity field (top) and of the error (bottom). **Contrastive**: the conditional mean, the "
        "training flows weighted by e^f of the tracks' and each flow's embeddings (their noiseless fields). "
        "**Optimal interpolation**: the Kalman analysis with the training flows' mean and covariance and the "
        "drifters' finite-difference velocities, interpolated bilinearly. **Exact conditional**: an oracle that "
        "knows the Fourier modes and the regimes' spectra: the exact Gaussian-mixture posterior once the drifters' "
        "positions are fixed. **Climatology**: the mean training flow. In the table, the **analog bound** is what "
        "no reweighting of the training flows can beat by much: the mean of the 8 training flows nearest the "
        "truth (it looks at the answer).")
    methods = ("contrastive", "analog", "oi", "exact", "climatology")
    table = pd.DataFrame({
        "method": [plots.METHOD_LABELS[k] for k in methods],
        "RMSE / climatology (all held-out flows)": [ev.rel_rmse[k] for k in methods],
        "RMSE, this flow": [errors[k] for k in methods],
    })
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in table.columns[1:]})

    st.header("Which flow produced these tracks?", divider="gray")
    top = ev.top5[flow]
    scores = [float(s) for s in ev.top5_scores[flow]]
    show_chart(shared_figure(plots.retrieval_figure, test.modalities["tracks"][flow],
                             tuple(test.modalities["field"][j] for j in top), tuple(int(j) == int(flow) for j in top),
                             tuple(scores)), width="stretch", key="retrieval")
    st.caption(f"The model's top five among the {n_test:,} held-out flows' observed fields (masked cells blank); "
               "green: the flow that carried the drifters.")

    st.header("How sure is the generation?", divider="gray")
    spread, skill = spread_skill_bins(ev.spread, ev.errors["contrastive"])
    left, right = st.columns([3, 2])
    show_chart(shared_figure(plots.spread_skill_figure, spread, skill, float(np.median(ev.ess))), width="stretch",
               key="spread_skill", where=left)
    right.markdown(
        "Sixteen fields drawn from the learned conditional per held-out flow (importance resampling of the "
        "training flows). A calibrated ensemble's spread matches its mean's error: points on the dotted line. "
        "Above it the ensemble is over-confident, below it too cautious. The effective sample size says how many "
        "training flows the conditional rests on.")

report = lab.bench_report()
st.header("Few shots: 100, 1,000 and 10,000 training pairs", divider="gray")
points = lab.sweep_points(store, runs)
if report is None and not points:
    st.info("No sweep yet: queue one below, or run `python bench/ocean_targets.py`.")
else:
    show_chart(shared_figure(plots.few_shot_figure, report, tuple(tuple(sorted(p.items())) for p in points)),
               width="stretch", key="few_shot")
    if report is not None:
        st.caption(f"Lines: `bench/ocean_targets.py` on this machine ({report['cores']} cores), each model trained "
                   f"{report['steps']:,} steps on each training-set size and evaluated at 16 drifters among 1,000 "
                   "held-out flows, its own training flows as the pool; the baselines take the same training flows "
                   "as their prior ensemble. Markers: the finished runs on this server (their last held-out "
                   "evaluation).")

st.header("Train it live", divider="gray")
c1, c2, c3 = st.columns([2, 1, 3])
model = c1.selectbox("model", lab.MODELS, key=P + "model",
                     format_func=lambda m: {"ocean-clip": "CLIP's InfoNCE (cosine)",
                                            "ocean-prob": "probabilistic loss (L2 tilt)"}[m])
steps = c2.number_input("steps", 100, 10_000, 3000, step=100, key=P + "steps")
c3.caption("10,000 flows, 16 drifters: about two and a half minutes on two CPU cores for 3,000 steps. Follow it "
           "on the Train page; it appears in the menu above when it finishes.")
b1, b2 = c3.columns(2)
configs = None
if b1.button("Train", type="primary", icon=":material/play_arrow:"):
    configs = [lab.live_config(model, steps)]
if b2.button("Queue the few-shot sweep", icon=":material/stacked_line_chart:",
             help="Three runs of this model on 100, 1,000 and 10,000 training pairs, one after another."):
    configs = [lab.live_config(model, steps, n) for n in (100, 1000, 10_000)]
if configs:
    try:
        launched = classroom.launch_all(configs, store)
        st.success(f"Launched {len(launched)} run{'s' if len(launched) > 1 else ''}: {', '.join(launched)}.")
        st.page_link("pages/train.py", label="Watch on the Train page", icon=":material/model_training:")
    except MmvizError as err:
        st.error(f"The runs can't start: {err}")
write_to_url(URL, P)
