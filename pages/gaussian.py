"""Gaussian lab: contrastive learning on jointly Gaussian pairs, checked against its closed form."""

import streamlit as st

from mmviz.errors import MmvizError
from mmviz.plots import gaussian as plots
from mmviz.runs import runner
from mmviz.runs.store import ACTIVE_STATUSES
from mmviz.ui import gaussian_lab as lab
from mmviz.ui.shell import page_setup
from mmviz.ui.train_runs import get_store
from mmviz.ui.url_state import UrlParam, seed_from_url, write_to_url

page_setup()

P = "gauss."
REFERENCE = "ref-gauss-l2"  # shipped: opens the page with a trained model beside the closed form
URL = {
    "du": UrlParam(16, 2, 32), "dv": UrlParam(16, 2, 32), "k": UrlParam(4, 1, 8),
    "rho_max": UrlParam(0.95, 0.05, 0.99), "decay": UrlParam(0.7, 0.1, 1.0), "noise": UrlParam(0.1, 0.01, 2.0),
    "latent": UrlParam(4, 1, 8), "u": UrlParam(0, 0, lab.N_QUERIES - 1),
    "loss": UrlParam(next(iter(lab.LOSSES)), choices=list(lab.LOSSES)),
    "direction": UrlParam("both", choices=["both", "v|u"]), "steps": UrlParam(1500, 100, 5000),
    "run": UrlParam(REFERENCE if get_store().has_run(REFERENCE) else ""),
}
seed_from_url(URL, P)
PLOTLY = {"displaylogo": False}

st.title("Gaussian lab")
st.markdown(
    "Two modalities **u** and **v** are jointly Gaussian, so everything a contrastive loss *should* learn is known "
    "exactly. Following Baptista, Stuart & Tran (2025), contrastive learning learns the conditional "
    "p(v | u) by **tilting** the marginal p(v) with an alignment score of the two encodings: "
    "p_θ(v | u) ∝ p(v)·exp f(G_u u, G_v v). Set up a population on the left, look at the closed-form answer, "
    "then train linear encoders and watch them converge to it."
)

with st.sidebar:
    st.subheader("Population")
    st.slider("du: dimension of u", 2, 32, key=P + "du")
    st.slider("dv: dimension of v", 2, 32, key=P + "dv")
    st.slider("k: shared directions", 1, 8, key=P + "k", help="How many canonical pairs are correlated.")
    st.slider("ρ₁: strongest correlation", 0.05, 0.99, step=0.01, key=P + "rho_max")
    st.slider("spectrum decay (ρ_i = ρ₁·decay^(i−1))", 0.1, 1.0, step=0.05, key=P + "decay")
    st.slider("noise σ", 0.01, 2.0, step=0.01, key=P + "noise",
              help="Isotropic noise added to each modality; the canonical correlations stay the chosen ones.")
    st.subheader("Encoders")
    st.slider("latent dimension k′", 1, 8, key=P + "latent", help="Rows of G_u and G_v.")
    st.caption("Every setting on this page is in the URL: copy it to share this lab.")

state = st.session_state
params = lab.LabParams(state[P + "du"], state[P + "dv"], state[P + "k"], state[P + "rho_max"], state[P + "decay"],
                       state[P + "noise"], state[P + "latent"])
try:
    params.check()
except MmvizError as err:
    st.error(f"{err}. Lower k or raise the dimensions.")
    write_to_url(URL, P)
    st.stop()

store = get_store()
runner.refresh(store)
gauss_runs = [r for r in store.list_runs() if str(r["model"]).startswith("gauss-") and r["dataset"] == "gaussian"]

# ---------------------------------------------------------------- train controls (sidebar bottom)
with st.sidebar:
    st.subheader("Train")
    st.selectbox("loss and tilt", list(lab.LOSSES), key=P + "loss")
    st.radio("fit", ["both", "v|u"], key=P + "direction", horizontal=True,
             format_func=lambda d: "both conditionals" if d == "both" else "p(v | u) only",
             help="Symmetric InfoNCE fits p(v|u) and p(u|v) with one score; 'p(v | u) only' fits one.")
    st.slider("steps", 100, 5000, step=100, key=P + "steps")
    if st.button("Train", type="primary", icon=":material/play_arrow:", width="stretch"):
        config = lab.run_config(params, state[P + "loss"], state[P + "direction"], state[P + "steps"])
        try:
            state[P + "run"] = runner.launch(config, store=store)
            st.toast("Training started: it runs in its own process.", icon=":material/rocket_launch:")
            gauss_runs = [r for r in store.list_runs() if str(r["model"]).startswith("gauss-")]
        except MmvizError as err:
            st.error(str(err))

run_ids = [""] + [r["id"] for r in gauss_runs]
if state[P + "run"] not in run_ids:
    state[P + "run"] = ""
labels = {r["id"]: f"{r.get('name') or r['model']} · {r['id']}" for r in gauss_runs}
st.selectbox("Compare with a trained run", run_ids, key=P + "run",
             format_func=lambda rid: "none: closed form only" if not rid else labels.get(rid, rid))
run_id = state[P + "run"]
run = next((r for r in gauss_runs if r["id"] == run_id), None)

# ---------------------------------------------------------------- solve
chosen = int(state[P + "u"])
with st.spinner("Solving the closed form…"):
    solved = lab.cached_solve(params, chosen)
learned, learned_label = None, ""
if run is not None and run["status"] == "finished":
    try:
        with st.spinner("Loading the trained model…"):
            learned, run_lab = lab.cached_learned(str(store.home), run["id"], int(run.get("step") or 0), chosen)
        if run_lab != params:
            st.info("The selected run was trained on another population or latent dimension; its curves are shown "
                    "below, but it is left out of the closed-form plots.")
            if st.button("Use that run's settings"):
                for key, value in vars(run_lab).items():
                    state[P + key] = value
                st.rerun()
            learned = None
        learned_label = f"learned: {run.get('name') or run['model']}"
    except MmvizError as err:
        st.error(f"Cannot load run {run['id']}: {err}")

views = dict(solved.references)
if learned is not None:
    views[learned_label] = learned

st.header("1 · The closed form", divider="gray")
st.markdown(
    "The **canonical correlations** ρ_i measure how much each shared direction of u predicts v. Each marker is "
    "the correlation a conditional *implies* (the singular values of its whitened regression of v on u): a "
    "model that learned p(v | u) exactly sits on top of the bars."
)
st.plotly_chart(plots.spectrum_figure(solved.true_rho, {k: v.rho[:len(solved.true_rho)] for k, v in views.items()}),
                width="stretch", key="gauss_spectrum", config=PLOTLY)
with st.expander("Where the references come from", icon=":material/functions:"):
    st.markdown(
        "- **L2 tilt, fits p(v|u)** — f = −½‖G_u u − G_v v‖² is quadratic, so the learned conditional is Gaussian; "
        "with G_vᵀG_v and G_uᵀG_v equal to the v-part of log p(u,v)/(p(u)p(v)) it is *exactly* the true one.\n"
        "- **L2 tilt, fits both** — one score cannot be exact for both conditionals; per canonical pair the optimum "
        "has conditional variance x = (√(9 − 8ρ) − 1)/2 and mean coefficient 1 − x (a little too narrow and "
        "too short).\n"
        "- **dot tilt** — f = (G_u u)·(G_v v): the optimum is the best rank-k′ approximation of the whitened "
        "cross-covariance (Eckart–Young). Its conditional mean is right, its covariance is the marginal's.\n"
        "- **cosine tilt** (CLIP) — normalising the encodings makes p_θ(v | u) non-Gaussian and flat along the "
        "length of G_v v: no closed form; train it below and see."
    )

left, right = st.columns(2, gap="large")
with left:
    st.slider("chosen held-out u (index)", 0, lab.N_QUERIES - 1, key=P + "u")
    slices = {plots.TRUTH: (solved.truth.centre, solved.truth.cov)}
    slices.update({k: (v.centre, v.cov) for k, v in views.items()})
    st.plotly_chart(plots.ellipse_figure(slices), width="stretch", key="gauss_ellipse", config=PLOTLY)
    st.caption(
        "The 2σ ellipse of p(v | u) in the two strongest canonical coordinates of v (b₁, b₂). **Cosine vs L2:** the "
        "L2 tilt penalises *distance*, so it controls how far v may wander from where u points — the spread of v "
        "— and can match the true ellipse. The cosine tilt only scores the *angle* between the encodings: "
        "stretching G_v v changes nothing, so the conditional keeps much of the marginal's spread."
    )
with right:
    names = list(views)
    source = st.selectbox("generate from", names, index=len(names) - 1 if learned is not None else names.index("dot tilt"),
                          key=P + ("gen.learned" if learned is not None else "gen"))
    st.plotly_chart(plots.samples_figure(solved.truth.samples, {source: views[source].samples},
                                         palette=plots.colors(names)),
                    width="stretch", key="gauss_samples", config=PLOTLY)
    st.caption(
        "Crossmodal generation: samples of the learned p_θ(v | u) over samples of the true one. Gaussian "
        "conditionals are sampled in closed form; the cosine tilt's by importance resampling of marginal samples "
        "with weights exp f."
    )
st.plotly_chart(plots.mean_scatter_figure(solved.truth.mean_b1, {k: v.mean_b1 for k, v in views.items()}),
                width="stretch", key="gauss_mean", config=PLOTLY)
st.caption(
    f"Retrieval looks for the mode of p_θ(v | u). For {lab.N_QUERIES} held-out u's: the learned conditional mean "
    "of b₁ against the true one. On the dashed line the model retrieves the right place; a slope below 1 "
    "means a shrunk conditional mean."
)

# ---------------------------------------------------------------- train, live
st.header("2 · Train and watch", divider="gray")
st.markdown(
    "**Train** (sidebar) launches linear encoders on 100,000 samples of this population, in their own process. "
    "While it trains, the largest **principal angle** between the subspace the model uses and the true canonical "
    "subspace is logged at every evaluation: it should fall to a few degrees."
)


def live_panel(selected: str) -> None:
    current = store.get_run(selected) if selected else None
    if current is None:
        st.plotly_chart(plots.angles_figure({}), width="stretch", key="gauss_angles_empty", config=PLOTLY)
        return
    names = ["eval/angle_u_max", "eval/angle_v_max", "eval/form_rel_err", "eval/cond_cov_rel_err",
             "eval/cond_mean_rel_err"]
    frame = store.metrics(selected, names=names)
    total = current.get("total_steps") or 1
    step = int(current.get("step") or 0)
    st.progress(min(1.0, step / total), text=f"{current['status']} · step {step} of {total}")
    curves = {}
    for name, label in (("eval/angle_u_max", "u side"), ("eval/angle_v_max", "v side")):
        rows = frame[frame.name == name]
        if len(rows):
            curves[label] = (rows.step.to_numpy(), rows.value.to_numpy())
    st.plotly_chart(plots.angles_figure(curves), width="stretch", key="gauss_angles", config=PLOTLY)
    last = frame.groupby("name").value.last() if len(frame) else {}
    cols = st.columns(4)
    for col, (name, label) in zip(cols, (("eval/angle_u_max", "largest angle (u)"),
                                         ("eval/form_rel_err", "form error vs reference"),
                                         ("eval/cond_mean_rel_err", "conditional mean error"),
                                         ("eval/cond_cov_rel_err", "conditional covariance error"))):
        value = last.get(name) if hasattr(last, "get") else None
        text = "—" if value is None else (f"{value:.2f}°" if "angle" in name else f"{100 * value:.1f}%")
        col.metric(label, text)
    if current["status"] == "failed":
        st.error(f"The run failed: {current.get('error')}")
    if current["status"] not in ACTIVE_STATUSES and state.get(P + "was_active") == selected:
        state[P + "was_active"] = None
        st.rerun()  # finished: redraw the page so the closed-form plots add the learned model
    if current["status"] in ACTIVE_STATUSES:
        state[P + "was_active"] = selected


active = run is not None and run["status"] in ACTIVE_STATUSES
st.fragment(live_panel, run_every=1.0 if active else None)(run_id)
st.caption(
    "Angles are measured between the top singular subspaces of the learned form G_uᵀG_v and the canonical "
    "directions; the form error compares G_uᵀG_v with the reference of the same tilt (whitened Frobenius norm; "
    "none for the cosine tilt, whose optimum has no closed form); the conditional errors compare the learned "
    "p_θ(v | u) with the truth."
)
write_to_url(URL, P)
