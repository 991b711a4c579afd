"""The Similarity page's controls and the sections that need them: where the pairs come from (a
run or an uploaded file), the batch and temperature controls, the batch panel with the two runs
side by side, and a run's alignment and uniformity over training.

Each function takes the page's URL spec and session-state prefix where it draws widgets; the
figures and tables are :mod:`mmviz.ui.similarity_views`'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from mmviz.errors import MmvizError
from mmviz.geometry.constants import GEOMETRY_NAMES, HYPERBOLIC
from mmviz.metrics.similarity import similarity_name
from mmviz.plots import similarity as ps
from mmviz.runs.store import RunStore
from mmviz.ui import similarity_cache as cache
from mmviz.ui import similarity_views as views
from mmviz.ui.charts import show_chart
from mmviz.ui.pretrained_panel import pretrained_source
from mmviz.ui.references import default_run
from mmviz.ui.run_source import run_label
from mmviz.ui.similarity_data import Pairs, order_columns, pairs_from_embeddings
from mmviz.ui.url_state import UrlSpec, url_number_input, url_slider, write_to_url

SOURCES = {"run": "a trained run", "pretrained": "a pretrained model", "file": "an embeddings file",
           "toy": "a toy batch (no run)"}
ORDER_NAMES = {"batch": "batch order", "cluster": "clustering of the similarity"}


@dataclass
class Source:
    """The pairs the page shows: their cache ``key``, the held-out ``pairs``; for a run its id,
    config and learned temperature (None if it logs none), and every inspectable run's label."""

    key: str
    pairs: Pairs
    run_id: str | None = None
    config: dict[str, Any] | None = None
    learned_tau: float | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchChoice:
    """The batch controls' values: batch size B, the seed that picks the pairs, the order."""

    size: int
    seed: int
    order: str


def source_choice(runs: list[dict[str, Any]], prefix: str) -> str:
    """The source menu: ``"run"``, ``"file"`` or ``"toy"`` (the toy batch, with a note, when the
    user asked for a run and none has a checkpoint)."""
    source = st.segmented_control("source", list(SOURCES), format_func=SOURCES.get, key=prefix + "src") or "run"
    if source == "run" and not runs:
        st.info("No trained run with a checkpoint yet: train one on the **Train** page (e.g. the preset "
                "*CLIP vs MERU on Trifeature captions*), upload an embeddings file, or play with the toy batch.")
        source = "toy"
    return source


def load_source(store: RunStore, runs: list[dict[str, Any]], source: str, prefix: str) -> Source | None:
    """The run menu or the file uploader, and what they pick, with a caption describing it; None
    when there is nothing to show (no file yet, or an error: the message is shown)."""
    run_ids = [r["id"] for r in runs]
    labels = {r["id"]: run_label(r) for r in runs}
    state = st.session_state
    try:
        if source == "run":
            if state.get(prefix + "run") not in run_ids:
                if state.get(prefix + "run"):
                    st.warning(f"Run {state[prefix + 'run']!r} has no checkpoint (or does not exist): "
                               "showing the default run instead.")
                state[prefix + "run"] = default_run(runs, ("ref-clip",))
            run_id = st.selectbox("run", run_ids, format_func=labels.get, key=prefix + "run")
            with st.spinner("Reading the run's held-out embeddings…"):
                pairs = cache.run_pairs(store, run_id)
            src = Source(cache.run_key(store, run_id), pairs, run_id, store.get_run(run_id)["config"],
                         store.latest_metrics(run_id).get("temperature", {}).get("value"), labels)
        elif source == "pretrained":
            result = pretrained_source(prefix)
            if result is None:
                return None
            if "pair_index" not in result.es.metadata or not (result.es.metadata["pair_index"] >= 0).any():
                st.info("These embeddings have no image–caption pairs (class prompts are not captions): the "
                        "similarity matrix needs one caption per image. Use a built-in set with captions, or a .csv "
                        "with image and caption columns; the Explorer shows class prompts and zero-shot.")
                return None
            tau = 1.0 / result.es.logit_scale if result.es.logit_scale else None
            src = Source(f"pretrained:{result.entry.name}", pairs_from_embeddings(result.es), learned_tau=tau,
                         labels=labels)
        else:
            c1, c2, c3 = st.columns([3, 1, 1])
            files = c1.file_uploader("paired embeddings (a 'modality' column with two modalities; rows paired "
                                     "by 'pair_index' or by order)", type=["npy", "npz", "parquet", "csv", "tsv"],
                                     accept_multiple_files=True, key=prefix + "files")
            geometry = c2.selectbox("geometry", ["as declared", *GEOMETRY_NAMES], key=prefix + "geometry")
            curvature = c3.number_input("curvature c", 0.1, 10.0, 1.0, key=prefix + "curvature")
            if not files:
                st.info("Upload a file written by `python -m mmviz embed RUN --out embeddings.npz`, or any paired "
                        "embeddings table.")
                return None
            declared = geometry == "as declared"
            src = Source(*cache.file_pairs(files, None if declared else geometry, None if declared else curvature))
    except MmvizError as err:
        st.error(str(err))
        return None
    pairs = src.pairs
    a_name, b_name = pairs.names
    curv = f", curvature c = {pairs.curvature:.3g}" if pairs.geometry in HYPERBOLIC else ""
    st.caption(f"{len(pairs)} held-out pairs ({a_name}, {b_name}) · geometry **{pairs.geometry}**{curv} · "
               f"similarity = {similarity_name(pairs.geometry)}")
    return src


def batch_controls(pairs: Pairs, url: UrlSpec, prefix: str) -> BatchChoice:
    """Batch size, seed and the order of rows and columns."""
    c1, c2, c3 = st.columns([2, 1, 2])
    batch_size = url_slider("batch size B", "B", url, prefix, where=c1)
    seed = url_number_input("seed (which pairs)", "seed", url, prefix, where=c2)
    orders = ["batch", "cluster"] + order_columns(pairs)
    if st.session_state.get(prefix + "order") not in orders:
        st.session_state[prefix + "order"] = "batch"
    order = c3.selectbox("order rows and columns by", orders, key=prefix + "order",
                         format_func=lambda o: ORDER_NAMES.get(o, o),
                         help="Reordering rows and columns together keeps positives on the diagonal and reveals "
                              "blocks of pairs that share an attribute.")
    if batch_size > len(pairs):
        st.caption(f"There are only {len(pairs)} held-out pairs: the batch is all of them (B = {len(pairs)}).")
    return BatchChoice(batch_size, seed, order)


def model_tau(src: Source, prefix: str) -> float:
    """The τ of the whole-split sections: the model's own, else the slider's."""
    return float(src.learned_tau) if src.learned_tau is not None else float(st.session_state[prefix + "tau"])


def temperature_controls(learned_tau: float | None, url: UrlSpec, prefix: str) -> float:
    """The learned-τ checkbox and the τ slider; returns the τ in use."""
    c1, c2 = st.columns([1, 3])
    learned = c1.checkbox("the model's learned τ", key=prefix + "learned", disabled=learned_tau is None,
                          help="The temperature the run had learned at its last logged step.")
    if learned and learned_tau is not None:
        tau = url["tau"]
        st.session_state[prefix + "tau"] = min(max(round(float(learned_tau), 3), tau.lo), tau.hi)
    url_slider("temperature τ", "tau", url, prefix, where=c2, format="%.3f",
               disabled=bool(learned and learned_tau is not None))
    return float(learned_tau) if learned and learned_tau is not None else float(st.session_state[prefix + "tau"])


def batch_panel(store: RunStore, src: Source, choice: BatchChoice, url: UrlSpec, prefix: str) -> None:
    """Everything τ changes: the matrices, the hardest negatives and (section 2) the side-by-side
    runs. With a learned τ the whole-split sections after it ignore the slider, so the panel is a
    fragment: a τ drag reruns and redraws only it. Without one (a file) they follow the slider:
    the whole page reruns."""
    panel = st.fragment(_batch_panel) if src.learned_tau is not None else _batch_panel
    panel(store, src, choice, url, prefix)


def _batch_panel(store: RunStore, src: Source, choice: BatchChoice, url: UrlSpec, prefix: str) -> None:
    key, pairs = src.key, src.pairs
    tau = temperature_controls(src.learned_tau, url, prefix)
    batch = views.make_batch(key, pairs, choice.size, choice.seed, choice.order, tau)
    batch_key = (key, choice.size, choice.seed, choice.order)  # what the τ-free figures and tables are memoised by
    metrics, (left, right) = st.container(), st.columns(2)
    # The softmax first: the browser redraws it (the slow part at B = 1024) while the server
    # goes on with the metrics above it and the τ-free similarity beside it.
    with right:
        right_view = st.segmented_control("right", list(views.RIGHT_VIEWS), format_func=views.RIGHT_VIEWS.get,
                                          key=prefix + "right", label_visibility="collapsed") or "rows"
        show_chart(views.softmax_figure_at_tau(batch, right_view, pairs.names, batch_key),
                   width="stretch", key="matrix_right")
    with left:
        left_view = st.segmented_control("left", list(views.LEFT_VIEWS), format_func=views.LEFT_VIEWS.get,
                                         key=prefix + "left", label_visibility="collapsed") or "similarity"
        # The raw similarity does not depend on τ: built once per batch, so a τ drag only redraws the right.
        left_params = (*batch_key[1:], left_view) + ((tau,) if left_view == "logits" else ())
        show_chart(cache.memo("left", key, left_params, lambda: views.similarity_figure(
                   batch, left_view, tau, pairs.geometry, pairs.names)), width="stretch", key="matrix_left")
    with metrics:
        views.batch_metrics(batch, pairs.names)
    st.subheader("Hardest negatives")
    hardest = cache.memo("hardest", key, batch_key[1:],
                         lambda: views.hardest_negatives_frame(pairs, batch, src.config))
    views.hardest_negatives_table(hardest, tau)
    if src.run_id is not None and len(src.labels) > 1:
        side_by_side_section(store, src, batch, batch_key, tau, bool(st.session_state.get(prefix + "learned")),
                             prefix)
    write_to_url(url, prefix)


def side_by_side_section(store: RunStore, src: Source, batch: views.Batch, batch_key: tuple, tau: float,
                         learned: bool, prefix: str) -> None:
    """Section 2: the same batch in another run, each run at its own geometry and τ."""
    st.header("2 · Two runs, the same batch", divider="gray")
    labels = src.labels
    others = [""] + [r for r in labels if r != src.run_id]
    if st.session_state.get(prefix + "cmp") not in others:
        st.session_state[prefix + "cmp"] = ""
    other_id = st.selectbox("compare with", others, key=prefix + "cmp",
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
    st.session_state.setdefault(prefix + "side_view", "rows")
    view = st.segmented_control("show", ["rows", "similarity"], key=prefix + "side_view",
                                format_func={"rows": "row softmax + loss", "similarity": "raw similarity"}.get
                                ) or "rows"
    views.side_by_side(src.pairs, cache.run_key(store, other_id), other, batch, tau, float(other_tau or tau),
                       (labels[src.run_id].split(" · ")[0], labels[other_id].split(" · ")[0]), view, batch_key)


def training_curves(store: RunStore, src: Source) -> None:
    """A run's alignment, uniformity and modality gap over training (sphere runs log them)."""
    if src.run_id is None:
        return
    curves = store.metrics(src.run_id, names=["eval/alignment", "eval/modality_gap"] +
                           [f"eval/uniformity_{m}" for m in src.pairs.names])
    if curves.empty:
        st.caption("Alignment and uniformity (Wang & Isola 2020) are logged during training for sphere runs only.")
    else:
        st.markdown("**Over training** (held-out pairs; alignment α = 2, uniformity t = 2):")
        show_chart(cache.memo("curves", src.run_id, (len(curves), int(curves["step"].max())),
                   lambda: ps.geometry_curves_figure(curves)), width="stretch", key="geometry_curves")
