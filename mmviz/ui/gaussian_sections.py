"""The Gaussian lab page's sections: the population and Train controls in the sidebar, the run to
compare with, the closed form (with a trained run beside it) and the live training panel.

Each function takes the page's URL spec and session-state prefix (its ``PageEntry.state_prefix``)
where it draws widgets; the numbers come from :mod:`mmviz.ui.gaussian_lab`.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import streamlit as st

from mmviz.errors import MmvizError
from mmviz.plots import gaussian as plots
from mmviz.runs import runner
from mmviz.runs.store import ACTIVE_STATUSES, RunStore
from mmviz.ui import classroom
from mmviz.ui import gaussian_lab as lab
from mmviz.ui.charts import show_chart
from mmviz.ui.figure_cache import shared_figure
from mmviz.ui.url_state import UrlSpec, url_slider


def population_sidebar(url: UrlSpec, prefix: str) -> lab.LabParams | None:
    """The population and encoder sliders; the lab's parameters, or None (with an error shown)
    when they do not fit together."""
    with st.sidebar:
        st.subheader("Population")
        url_slider("du: dimension of u", "du", url, prefix)
        url_slider("dv: dimension of v", "dv", url, prefix)
        url_slider("k: shared directions", "k", url, prefix, help="How many canonical pairs are correlated.")
        url_slider("ρ₁: strongest correlation", "rho_max", url, prefix)
        url_slider("spectrum decay (ρ_i = ρ₁·decay^(i−1))", "decay", url, prefix)
        url_slider("noise σ", "noise", url, prefix,
                   help="Isotropic noise added to each modality; the canonical correlations stay the chosen ones.")
        st.subheader("Encoders")
        url_slider("latent dimension k′", "latent", url, prefix, help="Rows of G_u and G_v.")
        st.caption("Every setting on this page is in the URL: copy it to share this lab.")
    params = lab.LabParams(**{f.name: st.session_state[prefix + f.name] for f in fields(lab.LabParams)})
    try:
        params.check()
    except MmvizError as err:
        st.error(f"{err}. Lower k or raise the dimensions.")
        return None
    return params


def choose_run(store: RunStore, params: lab.LabParams, url: UrlSpec, prefix: str) -> dict[str, Any] | None:
    """The Train controls (sidebar bottom: the Train button launches a run of this population and
    selects it) and the menu of trained runs to compare with; returns the chosen run, if any."""
    state = st.session_state
    runner.refresh(store)
    runs = lab.gauss_runs(store.list_runs())
    with st.sidebar:
        st.subheader("Train")
        st.selectbox("loss and tilt", list(lab.LOSSES), key=prefix + "loss")
        st.radio("fit", ["both", "v|u"], key=prefix + "direction", horizontal=True,
                 format_func=lambda d: "both conditionals" if d == "both" else "p(v | u) only",
                 help="Symmetric InfoNCE fits p(v|u) and p(u|v) with one score; 'p(v | u) only' fits one.")
        url_slider("steps", "steps", url, prefix)
        if st.button("Train", type="primary", icon=":material/play_arrow:", width="stretch"):
            config = lab.run_config(params, state[prefix + "loss"], state[prefix + "direction"],
                                    state[prefix + "steps"])
            try:
                state[prefix + "run"] = classroom.launch(config, store)  # this session's, within its quota
                st.toast("Training started: it runs in its own process.", icon=":material/rocket_launch:")
                runs = lab.gauss_runs(store.list_runs())
            except MmvizError as err:
                st.error(str(err))

    run_ids = [""] + [r["id"] for r in runs]
    if state[prefix + "run"] not in run_ids:
        state[prefix + "run"] = ""
    labels = {r["id"]: f"{r.get('name') or r['model']} · {r['id']}" for r in runs}
    st.selectbox("Compare with a trained run", run_ids, key=prefix + "run",
                 format_func=lambda rid: "none: closed form only" if not rid else labels.get(rid, rid))
    return next((r for r in runs if r["id"] == state[prefix + "run"]), None)


def conditionals(store: RunStore, params: lab.LabParams, run: dict[str, Any] | None,
                 prefix: str) -> tuple[lab.Solved, dict[str, lab.CondView], bool]:
    """The closed form for the chosen held-out u, and every view to draw: the references, plus the
    run's learned conditional when it finished on this population (else a note and a button that
    loads its settings). Returns (solved, views by legend label, whether a learned view is in)."""
    state = st.session_state
    chosen = int(state[prefix + "u"])
    with st.spinner("Solving the closed form…"):
        solved = lab.cached_solve(params, chosen)
    learned, learned_label = None, ""
    if run is not None and run["status"] == "finished":
        try:
            with st.spinner("Loading the trained model…"):
                learned, run_lab = lab.cached_learned(str(store.home), run["id"], int(run.get("step") or 0), chosen)
            if run_lab != params:
                st.info("The selected run was trained on another population or latent dimension; its curves are "
                        "shown below, but it is left out of the closed-form plots.")
                if st.button("Use that run's settings"):
                    for key, value in vars(run_lab).items():
                        state[prefix + key] = value
                    st.rerun()
                learned = None
            learned_label = f"learned: {run.get('name') or run['model']}"
        except MmvizError as err:
            st.error(f"Cannot load run {run['id']}: {err}")
    views = dict(solved.references)
    if learned is not None:
        views[learned_label] = learned
    return solved, views, learned is not None


def closed_form_section(solved: lab.Solved, views: dict[str, lab.CondView], learned: bool, url: UrlSpec,
                        prefix: str) -> None:
    """Section 1: the implied correlations against the true spectrum, the conditional's ellipse and
    samples for the chosen u (with its slider), and the conditional means of every held-out u."""
    st.markdown(
        "The **canonical correlations** ρ_i measure how much each shared direction of u predicts v. Each marker "
        "is the correlation a conditional *implies* (the singular values of its whitened regression of v on u): "
        "a model that learned p(v | u) exactly sits on top of the bars."
    )
    spectrum = {k: v.rho[:len(solved.true_rho)] for k, v in views.items()}
    show_chart(shared_figure(plots.spectrum_figure, solved.true_rho, spectrum), width="stretch", key="gauss_spectrum")
    with st.expander("Where the references come from", icon=":material/functions:"):
        st.markdown(
            "- **L2 tilt, fits p(v|u)** — f = −½‖G_u u − G_v v‖² is quadratic, so the learned conditional is "
            "Gaussian; with G_vᵀG_v and G_uᵀG_v equal to the v-part of log p(u,v)/(p(u)p(v)) it is *exactly* the "
            "true one.\n"
            "- **L2 tilt, fits both** — one score cannot be exact for both conditionals; per canonical pair the "
            "optimum has conditional variance x = (√(9 − 8ρ) − 1)/2 and mean coefficient 1 − x (a little too "
            "narrow and too short).\n"
            "- **dot tilt** — f = (G_u u)·(G_v v): the optimum is the best rank-k′ approximation of the whitened "
            "cross-covariance (Eckart–Young). Its conditional mean is right, its covariance is the marginal's.\n"
            "- **cosine tilt** (CLIP) — normalising the encodings makes p_θ(v | u) non-Gaussian and flat along the "
            "length of G_v v: no closed form; train it below and see."
        )

    left, right = st.columns(2, gap="large")
    with left:
        url_slider("chosen held-out u (index)", "u", url, prefix)
        slices = {plots.TRUTH: (solved.truth.centre, solved.truth.cov)}
        slices.update({k: (v.centre, v.cov) for k, v in views.items()})
        show_chart(shared_figure(plots.ellipse_figure, slices), width="stretch", key="gauss_ellipse")
        st.caption(
            "The 2σ ellipse of p(v | u) in the two strongest canonical coordinates of v (b₁, b₂). **Cosine vs "
            "L2:** the L2 tilt penalises *distance*, so it controls how far v may wander from where u points — "
            "the spread of v — and can match the true ellipse. The cosine tilt only scores the *angle* between "
            "the encodings: stretching G_v v changes nothing, so the conditional keeps much of the marginal's "
            "spread."
        )
    with right:
        names = list(views)
        source = st.selectbox("generate from", names, index=len(names) - 1 if learned else names.index("dot tilt"),
                              key=prefix + ("gen.learned" if learned else "gen"))
        show_chart(shared_figure(plots.samples_figure, solved.truth.samples, {source: views[source].samples},
                   palette=plots.colors(names)),
                   width="stretch", key="gauss_samples")
        st.caption(
            "Crossmodal generation: samples of the learned p_θ(v | u) over samples of the true one. Gaussian "
            "conditionals are sampled in closed form; the cosine tilt's by importance resampling of marginal "
            "samples with weights exp f."
        )
    show_chart(shared_figure(plots.mean_scatter_figure, solved.truth.mean_b1, {k: v.mean_b1 for k, v in views.items()}),
               width="stretch", key="gauss_mean")
    st.caption(
        f"Retrieval looks for the mode of p_θ(v | u). For {lab.N_QUERIES} held-out u's: the learned conditional "
        "mean of b₁ against the true one. On the dashed line the model retrieves the right place; a slope below "
        "1 means a shrunk conditional mean."
    )


def live_section(store: RunStore, run: dict[str, Any] | None, prefix: str) -> None:
    """Section 2: the chosen run's progress, principal angles and errors, redrawn every second
    while it trains (the page reruns once when it ends, so the learned model joins section 1)."""
    st.markdown(
        "**Train** (sidebar) launches linear encoders on 100,000 samples of this population, in their own "
        "process. While it trains, the largest **principal angle** between the subspace the model uses and the "
        "true canonical subspace is logged at every evaluation: it should fall to a few degrees."
    )
    active = run is not None and run["status"] in ACTIVE_STATUSES
    st.fragment(_live_panel, run_every=1.0 if active else None)(store, run["id"] if run else "", prefix)
    st.caption(
        "Angles are measured between the top singular subspaces of the learned form G_uᵀG_v and the canonical "
        "directions; the form error compares G_uᵀG_v with the reference of the same tilt (whitened Frobenius "
        "norm; none for the cosine tilt, whose optimum has no closed form); the conditional errors compare the "
        "learned p_θ(v | u) with the truth."
    )


def _live_panel(store: RunStore, selected: str, prefix: str) -> None:
    state = st.session_state
    current = store.get_run(selected) if selected else None
    if current is None:
        show_chart(shared_figure(plots.angles_figure, {}), width="stretch", key="gauss_angles_empty")
        return
    frame = store.metrics(selected, names=list(lab.LIVE_METRICS))
    total = current.get("total_steps") or 1
    step = int(current.get("step") or 0)
    st.progress(min(1.0, step / total), text=f"{current['status']} · step {step} of {total}")
    show_chart(shared_figure(plots.angles_figure, lab.angle_curves(frame)), width="stretch", key="gauss_angles")
    for col, (label, text) in zip(st.columns(4), lab.readouts(frame).items()):
        col.metric(label, text)
    if current["status"] == "failed":
        st.error(f"The run failed: {current.get('error')}")
    if current["status"] not in ACTIVE_STATUSES and state.get(prefix + "was_active") == selected:
        state[prefix + "was_active"] = None
        st.rerun()  # finished: redraw the page so the closed-form plots add the learned model
    if current["status"] in ACTIVE_STATUSES:
        state[prefix + "was_active"] = selected
