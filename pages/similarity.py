"""Similarity: what the contrastive loss computes on a batch, and what a run's geometry does
with it (similarity, temperature, softmax, per-row InfoNCE, retrieval, the modality gap)."""

import streamlit as st

from mmviz.errors import MmvizError
from mmviz.metrics.similarity import similarity_name
from mmviz.plots import similarity as ps
from mmviz.ui import similarity_cache as cache
from mmviz.ui import similarity_views as views
from mmviz.ui.references import default_run
from mmviz.ui.run_source import inspectable_runs, run_label
from mmviz.ui.shell import page_setup
from mmviz.ui.similarity_data import order_columns
from mmviz.ui.train_runs import get_store
from mmviz.ui.url_state import UrlParam, seed_from_url, write_to_url

page_setup()

P = "sim."  # session-state prefix: this page's keys never meet another page's
ORDER_NAMES = {"batch": "batch order", "cluster": "clustering of the similarity"}
SOURCES = {"run": "a trained run", "file": "an embeddings file", "toy": "a toy batch (no run)"}
URL = {
    "src": UrlParam("run", choices=tuple(SOURCES)), "run": UrlParam(""), "cmp": UrlParam(""),
    "B": UrlParam(32, choices=cache.BATCH_SIZES), "seed": UrlParam(0, 0, 1_000_000),
    "learned": UrlParam(True), "tau": UrlParam(0.07, 0.005, 1.0), "order": UrlParam("batch"),
    "left": UrlParam("similarity", choices=tuple(views.LEFT_VIEWS)),
    "right": UrlParam("rows", choices=tuple(views.RIGHT_VIEWS)),
    "toy_b": UrlParam(8, 2, 64), "toy_tau": UrlParam(0.1, choices=views.TOY_TAUS),
    "toy_pos": UrlParam(0.8, -1.0, 1.0), "toy_neg": UrlParam(0.2, -1.0, 1.0), "toy_noise": UrlParam(0.05, 0.0, 0.5),
}
seed_from_url(URL, P)

st.title("Similarity: what the contrastive loss sees")
st.markdown(
    "A contrastive model scores every image of a batch against every text: cosine similarity on the "
    "sphere (CLIP), minus the geodesic distance in hyperbolic space (MERU). Dividing by the temperature τ "
    "gives the **logits**; the softmax of a row is p(text | image), of a column p(image | text); the "
    "loss of a row is −log of its diagonal entry, the true pair. Below: the matrices of a real batch, the "
    "same batch in two runs, how the batch size changes the loss, retrieval, and the modality gap.")

store = get_store()
runs = inspectable_runs(store)
source = st.segmented_control("source", list(SOURCES), format_func=SOURCES.get, key=P + "src") or "run"
if source == "run" and not runs:
    st.info("No trained run with a checkpoint yet: train one on the **Train** page (e.g. the preset "
            "*CLIP vs MERU on Trifeature captions*), upload an embeddings file, or play with the toy batch.")
    source = "toy"

if source == "toy":
    st.header("Toy batch", divider="gray")
    views.toy_section(P)
    write_to_url(URL, P)
    st.stop()

# --- the source: a run or a file --------------------------------------------------------------
run_ids = [r["id"] for r in runs]
labels = {r["id"]: run_label(r) for r in runs}
key = pairs = config = None
learned_tau = None
try:
    if source == "run":
        if st.session_state.get(P + "run") not in run_ids:
            if st.session_state.get(P + "run"):
                st.warning(f"Run {st.session_state[P + 'run']!r} has no checkpoint (or does not exist): "
                           "showing the default run instead.")
            st.session_state[P + "run"] = default_run(runs, ("ref-clip",))
        run_id = st.selectbox("run", run_ids, format_func=labels.get, key=P + "run")
        with st.spinner("Reading the run's held-out embeddings…"):
            pairs = cache.run_pairs(store, run_id)
        key = cache.run_key(store, run_id)
        config = store.get_run(run_id)["config"]
        learned_tau = store.latest_metrics(run_id).get("temperature", {}).get("value")
    else:
        c1, c2, c3 = st.columns([3, 1, 1])
        files = c1.file_uploader("paired embeddings (a 'modality' column with two modalities; rows paired "
                                 "by 'pair_index' or by order)", type=["npy", "npz", "parquet", "csv", "tsv"],
                                 accept_multiple_files=True, key=P + "files")
        geometry = c2.selectbox("geometry", ["as declared", "sphere", "euclidean", "poincare", "lorentz"],
                                key=P + "geometry")
        curvature = c3.number_input("curvature c", 0.1, 10.0, 1.0, key=P + "curvature")
        if not files:
            st.info("Upload a file written by `python -m mmviz embed RUN --out embeddings.npz`, or any paired "
                    "embeddings table.")
            write_to_url(URL, P)
            st.stop()
        key, pairs = cache.file_pairs(files, None if geometry == "as declared" else geometry,
                                      None if geometry == "as declared" else curvature)
except MmvizError as err:
    st.error(str(err))
    write_to_url(URL, P)
    st.stop()

a_name, b_name = pairs.names
curv = f", curvature c = {pairs.curvature:.3g}" if pairs.geometry in ("poincare", "lorentz") else ""
st.caption(f"{len(pairs)} held-out pairs ({a_name}, {b_name}) · geometry **{pairs.geometry}**{curv} · "
           f"similarity = {similarity_name(pairs.geometry)}")

# --- the batch --------------------------------------------------------------------------------
st.header("1 · One batch, step by step", divider="gray")
c1, c2, c3 = st.columns([2, 1, 2])
batch_size = c1.select_slider("batch size B", cache.BATCH_SIZES, key=P + "B")
seed = c2.number_input("seed (which pairs)", 0, 1_000_000, key=P + "seed")
orders = ["batch", "cluster"] + order_columns(pairs)
if st.session_state.get(P + "order") not in orders:
    st.session_state[P + "order"] = "batch"
order = c3.selectbox("order rows and columns by", orders, key=P + "order",
                     format_func=lambda o: ORDER_NAMES.get(o, o),
                     help="Reordering rows and columns together keeps positives on the diagonal and reveals blocks "
                          "of pairs that share an attribute.")
if batch_size > len(pairs):
    st.caption(f"There are only {len(pairs)} held-out pairs: the batch is all of them (B = {len(pairs)}).")


def temperature_controls() -> float:
    """The learned-τ checkbox and the τ slider; returns the τ in use."""
    c1, c2 = st.columns([1, 3])
    learned = c1.checkbox("the model's learned τ", key=P + "learned", disabled=learned_tau is None,
                          help="The temperature the run had learned at its last logged step.")
    if learned and learned_tau is not None:
        st.session_state[P + "tau"] = min(max(round(float(learned_tau), 3), 0.005), 1.0)
    c2.slider("temperature τ", 0.005, 1.0, step=0.001, format="%.3f", key=P + "tau",
              disabled=bool(learned and learned_tau is not None))
    return float(learned_tau) if learned and learned_tau is not None else float(st.session_state[P + "tau"])


def batch_panel() -> None:
    """Everything τ changes: the matrices, the hardest negatives and the side-by-side runs."""
    tau = temperature_controls()
    batch = views.make_batch(key, pairs, batch_size, seed, order, tau)
    batch_key = (key, batch_size, seed, order)  # what the τ-free figures and tables are memoised by
    metrics, (left, right) = st.container(), st.columns(2)
    # The softmax first: the browser redraws it (the slow part at B = 1024) while the server
    # goes on with the metrics above it and the τ-free similarity beside it.
    with right:
        right_view = st.segmented_control("right", list(views.RIGHT_VIEWS), format_func=views.RIGHT_VIEWS.get,
                                          key=P + "right", label_visibility="collapsed") or "rows"
        st.plotly_chart(views.softmax_figure_at_tau(batch, right_view, pairs.names, batch_key),
                        width="stretch", key="matrix_right")
    with left:
        left_view = st.segmented_control("left", list(views.LEFT_VIEWS), format_func=views.LEFT_VIEWS.get,
                                         key=P + "left", label_visibility="collapsed") or "similarity"
        # The raw similarity does not depend on τ: built once per batch, so a τ drag only redraws the right.
        left_params = (*batch_key[1:], left_view) + ((tau,) if left_view == "logits" else ())
        st.plotly_chart(cache.memo("left", key, left_params, lambda: views.similarity_figure(
            batch, left_view, tau, pairs.geometry, pairs.names)), width="stretch", key="matrix_left")
    with metrics:
        views.batch_metrics(batch, pairs.names)
    st.subheader("Hardest negatives")
    hardest = cache.memo("hardest", key, batch_key[1:], lambda: views.hardest_negatives_frame(pairs, batch, config))
    views.hardest_negatives_table(hardest, tau)
    if source == "run" and len(run_ids) > 1:
        side_by_side_section(batch, batch_key, tau, bool(st.session_state.get(P + "learned")))
    write_to_url(URL, P)


def side_by_side_section(batch: views.Batch, batch_key: tuple, tau: float, learned: bool) -> None:
    """Section 2: the same batch in another run, each run at its own geometry and τ."""
    st.header("2 · Two runs, the same batch", divider="gray")
    others = [""] + [r for r in run_ids if r != run_id]
    if st.session_state.get(P + "cmp") not in others:
        st.session_state[P + "cmp"] = ""
    other_id = st.selectbox("compare with", others, key=P + "cmp",
                            format_func=lambda r: "—" if not r else labels[r],
                            help="E.g. CLIP against MERU trained on the same data: the same pairs, each run's own "
                                 "geometry and temperature.")
    if not other_id:
        return
    try:
        other = cache.run_pairs(store, other_id)
    except MmvizError as err:
        st.error(str(err))
        return
    other_tau = store.latest_metrics(other_id).get("temperature", {}).get("value") if learned else None
    st.session_state.setdefault(P + "side_view", "rows")
    view = st.segmented_control("show", ["rows", "similarity"], key=P + "side_view",
                                format_func={"rows": "row softmax + loss", "similarity": "raw similarity"}.get
                                ) or "rows"
    views.side_by_side(pairs, cache.run_key(store, other_id), other, batch, tau, float(other_tau or tau),
                       (labels[run_id].split(" · ")[0], labels[other_id].split(" · ")[0]), view, batch_key)


# With a learned τ the whole-split sections below ignore the slider, so the panel is a fragment:
# a τ drag reruns and redraws only it. Without one (a file) they follow the slider: rerun them all.
(st.fragment(batch_panel) if learned_tau is not None else batch_panel)()

# --- the whole split --------------------------------------------------------------------------
st.header("3 · Batch size: N = 2B − 2 negatives", divider="gray")
# Whole-split analyses at the model's own τ (the slider's τ without one): a τ drag stays instant.
tau_ref = float(learned_tau) if learned_tau is not None else float(st.session_state[P + "tau"])
views.batch_size_section(key, pairs, tau_ref, int(seed), batch_size)

st.header("4 · Retrieval and zero-shot", divider="gray")
views.retrieval_section(key, pairs)

st.header("5 · The modality gap", divider="gray")
views.gap_section(key, pairs, tau_ref, int((config or {}).get("batch_size", 256)))
if source == "run":
    curves = store.metrics(run_id, names=["eval/alignment", "eval/modality_gap"] +
                           [f"eval/uniformity_{m}" for m in pairs.names])
    if curves.empty:
        st.caption("Alignment and uniformity (Wang & Isola 2020) are logged during training for sphere runs only.")
    else:
        st.markdown("**Over training** (held-out pairs; alignment α = 2, uniformity t = 2):")
        st.plotly_chart(cache.memo("curves", run_id, (len(curves), int(curves["step"].max())),
                                   lambda: ps.geometry_curves_figure(curves)), width="stretch", key="geometry_curves")

write_to_url(URL, P)
