"""The Hierarchy lab page's sections: the sidebar, the hierarchy (built in or uploaded), the
construction with its precision sweep, live training with MAP against dimension, and why the two
differ. Each takes the page's URL spec and session-state prefix where it draws widgets; the
cached computations and the live panel are :mod:`mmviz.ui.hierarchy_lab`'s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from mmviz.data import wordnet
from mmviz.data.base import Hierarchy
from mmviz.errors import MmvizError
from mmviz.plots import hierarchy as plots
from mmviz.trees import lab
from mmviz.trees.trainer import MAX_NODES
from mmviz.ui import hierarchy_lab as ui
from mmviz.ui.charts import show_chart
from mmviz.ui.train_runs import get_store
from mmviz.ui.url_state import UrlSpec, url_number_input, url_slider

SOURCES = ("tree", "wordnet-mammal", "wordnet-vehicle", "wordnet-tool", "wordnet-noun", "upload")
SOURCE_LABELS = {"tree": "synthetic tree", "wordnet-mammal": "WordNet: mammals (1,182 synsets)",
                 "wordnet-vehicle": "WordNet: vehicles (528)", "wordnet-tool": "WordNet: tools (348)",
                 "wordnet-noun": f"WordNet: all nouns ({wordnet.NOUN_SYNSETS:,}; a part at a time)",
                 "upload": "your edge list (CSV)"}
SWEEP_TAUS = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


@dataclass(frozen=True)
class Loaded:
    """The hierarchy on show, and the dataset name and parameters runs train it by."""

    h: Hierarchy
    dataset: str
    params: dict[str, Any]


def sidebar(url: UrlSpec, prefix: str) -> tuple[str, str]:
    """The hierarchy menu (with the tree's shape for a synthetic tree) and the method; returns
    (source, method)."""
    with st.sidebar:
        st.subheader("Hierarchy")
        source = st.selectbox("hierarchy", SOURCES, key=prefix + "h", format_func=SOURCE_LABELS.get)
        if source == "tree":
            url_slider("children per node", "b", url, prefix)
            url_slider("levels below the root", "d", url, prefix)
        if source == "wordnet-noun":
            st.text_input("root synset", key=prefix + "root",
                          help="A synset id (animal.n.01), an ImageNet wnid (n00015388) or a noun (animal).")
            url_slider("synsets (breadth-first from the root)", "n", url, prefix,
                       help="The lab constructs, draws and trains this many of the synsets nearest the root.")
        method = st.radio("method", ("construct", "train"), key=prefix + "method", horizontal=True,
                          format_func={"construct": "construct at once", "train": "train live"}.get,
                          help="Construct: Sarkar's combinatorial embedding, no optimisation. Train: "
                               "Nickel & Kiela's loss, through the training engine.")
        st.caption("Every setting on this page is in the URL: copy it to share this view.")
    return source, method


def load_hierarchy(source: str, prefix: str) -> Loaded | None:
    """The chosen hierarchy (for ``"upload"``, the uploader and the file) with a caption that
    sizes it up; None when there is none to show (no file yet, or a bad one: the message says)."""
    dataset, params = source, {}
    if source == "upload":
        file = st.file_uploader("Edge list: a CSV with columns child,parent (one edge per row)",
                                type=["csv", "tsv", "txt"])
        if file is None:
            st.info("Upload a CSV with one `child,parent` pair per row (a tree or a DAG with one root), or "
                    "pick a built-in hierarchy in the sidebar.")
            return None
        try:
            h = ui.uploaded(file.getvalue(), file.name)
            # Runs train on a saved copy (dataset "edgelist"), so they outlive this browser session.
            dataset, params = "edgelist", {"path": ui.save_upload(file.getvalue(), file.name)}
        except MmvizError as err:
            st.error(f"This edge list can't be used: {err}")
            return None
    else:
        if source == "tree":
            params = {"branching": int(st.session_state[prefix + "b"]), "depth": int(st.session_state[prefix + "d"])}
        elif source == "wordnet-noun":
            params = noun_params(st.session_state[prefix + "root"], int(st.session_state[prefix + "n"]))
            if params is None:
                return None
        h = ui.hierarchy(source, tuple(sorted(params.items())))
    kind = "a tree" if h.extras.get("is_tree") else "a DAG (the construction embeds its shortest-path spanning tree)"
    st.caption(f"**{len(h):,} nodes**, {len(h.edges):,} edges, {len(h.closure):,} ancestor pairs in the "
               f"closure, depth {int(h.depth.max())}: {kind}.")
    return Loaded(h, dataset, params)


def noun_params(root: str, max_nodes: int) -> dict[str, Any] | None:
    """The ``wordnet-noun`` parameters of a part of the noun hierarchy (the root as a synset id),
    with a caption saying what part; None, with a message, when the root names no noun."""
    index = ui.noun_index()
    row = index.row(root)
    if row is None:
        st.error(f"WordNet has no noun {root.strip()!r}: give a synset id (animal.n.01), an ImageNet wnid "
                 "(n00015388) or a noun (animal).")
        return None
    below = len(wordnet.subtree(index, row))
    part = (f"all {below:,} synsets under **{index.ids[row]}**" if below <= max_nodes else
            f"the **{max_nodes:,} synsets nearest {index.ids[row]}** (breadth-first, of the {below:,} under it)")
    st.caption(
        f"The whole noun hierarchy has {wordnet.NOUN_SYNSETS:,} synsets and {wordnet.NOUN_CLOSURE_PAIRS:,} ancestor "
        f"pairs (Nickel & Kiela's all-nouns data): too many for this page (the construction's distance "
        f"matrix alone would take {wordnet.NOUN_SYNSETS ** 2 * 8 / 1e9:.0f} GB; runs train on at most "
        f"{MAX_NODES:,} nodes), so it shows {part}. Pick a root and a size in the sidebar."
    )
    return {"root": index.ids[row], "max_nodes": max_nodes}


def construct_section(h: Hierarchy, prefix: str) -> None:
    """Sarkar's construction at a chosen scale τ, in the disk and (edge length 1) in the plane,
    their scores, and the sweep of τ in float64 against high precision."""
    c1, c2, c3 = st.columns([2, 1, 1])
    tau = c1.slider("scale factor τ (every edge's hyperbolic length)", 0.5, 12.0, value=ui.default_tau(h),
                    step=0.5, key=prefix + "tau",
                    help="Larger τ separates the children of busy nodes better, and pushes the "
                         "deep nodes towards the rim: radius ≈ depth × τ.")
    precision = c2.radio("arithmetic", ("high", "float64"), key=prefix + "prec",
                         format_func={"high": "high precision (mpmath)", "float64": "float64"}.get)
    with st.spinner("Constructing and scoring…"):
        points, radius, scores = ui.construction(h, float(tau), "mpmath" if precision == "high" else "float64")
        flat_points, flat_scores = ui.euclidean_construction(h)
        draw_tau = ui.drawing_tau(h, float(tau))
        drawn = points if draw_tau == tau else ui.construction(h, draw_tau, "float64")[0]
    c3.metric("MAP on the direct edges (Sala et al.)", f"{scores['map_edges']:.4f}")
    c3.caption(f"{scores['bits']} bits of working precision · deepest node at radius {radius.max():.1f} · "
               f"{scores['seconds']:.1f} s")
    disk, plane = st.columns(2)
    title = f"Poincaré disk, τ = {tau:g}" if draw_tau == tau else f"Poincaré disk, drawn at τ = {draw_tau:.2f}"
    show_chart(ui.shared_figure("construct_disk", h, (float(tau), precision), lambda: plots.hierarchy_disk_figure(
               drawn, h.edges, h.names, h.depth, extra=[f"distance from the origin {r:.3f} (at τ = {tau:g})"
                                                        for r in radius], title=title, height=560)),
               width="stretch", key="construct_disk", where=disk)
    if draw_tau != tau:
        disk.caption(f"At τ = {tau:g} the deepest nodes lie {radius.max():.0f} units out, closer to the rim "
                     "than a screen pixel (or float64) can show, so the disk draws the same construction "
                     f"at τ = {draw_tau:.2f}; the scores and the hover distances are for τ = {tau:g}.")
    show_chart(ui.shared_figure("construct_plane", h, (), lambda: plots.hierarchy_plane_figure(
               flat_points, h.edges, h.names, h.depth, height=560,
               title="The same construction in the plane (edge length 1)")),
               width="stretch", key="construct_plane", where=plane)
    st.dataframe(lab.metrics_table({"hyperbolic construction": scores, "Euclidean construction": flat_scores})
                 .style.format("{:.3f}", na_rep="–"), width="stretch")

    st.subheader("Precision vs quality")
    st.markdown(
        "A node at depth k sits at radius ≈ kτ, i.e. about 2e^(−kτ) from the rim of the disk. float64 keeps "
        "53 bits, so beyond radius ≈ 36 neighbouring nodes round to the same point on the rim: raising τ "
        "first helps (busy nodes' children separate), then hurts. Computing in mpmath with "
        "≈ kτ/ln 2 + 64 bits, and measuring distances from exact polar coordinates, keeps every node apart."
    )
    if st.button("Sweep τ in both arithmetics", icon=":material/tune:", key="sweep"):
        st.session_state[prefix + "swept"] = True
    if st.session_state.get(prefix + "swept"):
        with st.spinner("Constructing at 8 scales in float64 and in high precision…"):
            sweep = ui.precision_sweep(h, SWEEP_TAUS)
        show_chart(plots.precision_figure(sweep), width="stretch", key="precision")


def train_section(loaded: Loaded, url: UrlSpec, prefix: str) -> None:
    """A Poincaré and a Euclidean run trained side by side, live; then MAP against dimension."""
    dataset, params = loaded.dataset, loaded.params
    state = st.session_state
    c1, c2, c3 = st.columns([1, 1, 2])
    dim = url_number_input("dimension", "dim", url, prefix, where=c1)
    steps = url_number_input("steps", "steps", url, prefix, where=c2)
    c3.caption("One point per node, the loss over the transitive closure with 50 negatives, "
               "Riemannian Adam (geoopt), a burn-in at a tenth of the learning rate. The Poincaré and "
               "the Euclidean run train side by side in their own processes.")
    if c3.button("Train Poincaré and Euclidean", type="primary", icon=":material/play_arrow:"):
        try:
            state[prefix + "runs"] = ui.launch_pair(dataset, params, int(dim), int(steps))
        except MmvizError as err:
            st.error(f"These runs can't start: {err}")
    runs = lab.tree_runs(get_store(), dataset, params)
    if prefix + "runs" not in state and len(runs):
        latest = runs.drop_duplicates("geometry")  # newest run of each geometry
        state[prefix + "runs"] = list(latest["run_id"])
    if state.get(prefix + "runs"):
        ui.live_panel(loaded.h, dataset, params, state[prefix + "runs"])
    else:
        st.info("Press the button to train; the disks redraw every 250 steps beside the loss and MAP curves.")

    st.subheader("MAP against dimension")
    by_dim = lab.map_by_dimension(runs)
    if st.button("Queue the sweep: 2, 5 and 10 dimensions, both geometries", icon=":material/stacked_line_chart:"):
        try:
            ui.launch_sweep(dataset, params, [2, 5, 10], int(steps))
            st.success("Queued 6 runs; they train in turn. Come back to this chart when they finish.")
        except MmvizError as err:
            st.error(f"The sweep can't start: {err}")
    reference = lab.BENCH_MAMMALS_MAP if dataset == "wordnet-mammal" else None
    if by_dim.empty and reference is None:
        st.caption("No finished runs of this hierarchy yet: the chart fills in as runs finish.")
    else:
        show_chart(plots.dimension_figure(by_dim, reference), width="stretch", key="by_dim")
        if reference is not None:
            st.caption("Dotted: the benchmark's runs on this machine (bench/hierarchy_targets.py). For "
                       "scale, Nickel & Kiela 2017 (Table 1) report closure MAP 0.82/0.85 (Poincaré) vs "
                       "0.02/0.06 (Euclidean) at 5/10 dimensions on the full WordNet noun hierarchy.")


def why_note() -> None:
    """Why the construction and the trained embedding score so differently."""
    st.markdown(
        "The construction reproduces the **tree metric**: distance ≈ τ × (number of edges between two nodes). "
        "Under a tree metric a node's siblings are 2 edges away while its great-grandparent is 3 and the root "
        "may be 9: when you rank a node's *ancestors* (the transitive closure, Nickel & Kiela's measure) its "
        "siblings and cousins come first, so the closure MAP stays low however precise the arithmetic. For the "
        "*direct edges* (Sala et al.'s measure) the neighbours are exactly the nodes one edge away, so a faithful "
        "tree metric scores ≈ 1.\n\n"
        "The trained embedding is not a tree metric: Nickel & Kiela's loss pulls every node towards *all* its "
        "ancestors and pushes it away from unrelated nodes, so generic nodes settle near the centre, close to "
        "everything below them, and a node's ancestors can all be nearer than its siblings. It buys closure "
        "MAP with distortion. In Euclidean space neither works well: the plane has no room for exponentially "
        "many nodes at each level."
    )
