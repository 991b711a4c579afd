"""The Explorer page's controls and main section: where the embeddings come from (a run, a file
or the synthetic example), how they are projected and drawn, and the disk with the search and
selection panels beside it. The panels themselves are :mod:`mmviz.ui.explore_panels`'; sources,
projections and their caches :mod:`mmviz.ui.explore_source`'s."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from mmviz.data.embeddings_io import EmbeddingSet, fits_poincare_ball
from mmviz.errors import MmvizError
from mmviz.explorer import queries
from mmviz.explorer.projections import METHODS, SPECIFICITY, Projection
from mmviz.geometry.constants import GEOMETRY_NAMES, HYPERBOLIC
from mmviz.ui import explore_panels as panels
from mmviz.ui.charts import show_chart
from mmviz.ui.explore_source import (
    Source,
    example_source,
    hover_texts,
    mammal_source,
    projection,
    projection_key,
    run_source,
    upload_source,
)
from mmviz.ui.pretrained_panel import pretrained_source, thumbnails_chw

EXTENTS = {"whole": "whole disk", "fit": "fit to the data"}
NO_COMPARE = "none"
METHOD_HELP = ("radial: exact distance from the origin, angle from a PCA of the directions (fast). tangent-pca: PCA "
               "at the Fréchet mean. horopca: HoroPCA, projection along horospheres (hyperbolic; fitted, seconds). "
               "co-sne: hyperbolic t-SNE keeping each point's norm (hyperbolic; fitted on at most 1,500 points, "
               "the rest placed by their neighbours; a minute). umap: UMAP to the hyperboloid (slow, opt-in, "
               "cached). identity: 2-D points already in a disk.")
LINKED_ROWS = "explorer_linked_rows"  # the rows selected on either of two linked disks
SOURCES = {"run": "a trained run", "pretrained": "a pretrained model", "file": "your own file",
           "example": "a synthetic hierarchy", "mammals": "WordNet mammals (10-D)"}


@dataclass(frozen=True)
class View:
    """How the disk is drawn: the projection method, the colouring, the sphere's specificity
    proxy (and its root), and the rings, pair lines and tree edges (``edges``, (E, 2) rows)."""

    method: str
    color_by: str
    specificity: str | None
    root: int | None
    rings: bool
    pairs: bool
    edges: np.ndarray
    show_edges: bool
    extent: str = "whole"
    compare: str | None = None  # a second projection drawn beside the first, linked


def pick_source(labels: dict[str, str], prefix: str) -> Source | None:
    """The source radio and, beside it, the run menu, the file uploader or a note on the example;
    None when there is nothing to draw (no file yet, or one that cannot be read: the message says)."""
    source_col, pick_col = st.columns([1, 3])
    kind = source_col.radio("source", list(SOURCES), key=prefix + "source", format_func=SOURCES.get)
    if kind == "mammals":
        pick_col.caption("WordNet's 1,182 mammal synsets trained in 10-D Poincaré (the projections' benchmark set): "
                         "compare tangent-pca, horopca and co-sne beside one another.")
        return mammal_source()
    if kind == "example" or (kind == "run" and not labels):
        if kind == "run":
            pick_col.info("No trained run yet: launch one on the [Train](train) page (e.g. the preset *CLIP vs "
                          "MERU on Trifeature captions*), or load your own embeddings file. Meanwhile, here is a "
                          "synthetic hierarchy in hyperbolic space.")
        else:
            pick_col.caption("6 generic concepts → 24 → 72 specific ones, 8 'images' around each specific "
                             "concept, in 16-d hyperbolic space (Lorentz, c = 1).")
        return example_source()
    if kind == "pretrained":
        with pick_col:
            result = pretrained_source(prefix)
        if result is None:
            return None
        return Source(result.es, result.info.get("model", "pretrained model"), f"pretrained:{result.entry.name}",
                      images=thumbnails_chw(result))
    if kind == "run":
        run_id = pick_col.selectbox("run", list(labels), key=prefix + "run", format_func=lambda i: labels.get(i, i))
        try:
            return run_source(run_id, labels[run_id])
        except MmvizError as err:
            st.error(f"This run's embeddings can't be read: {err}")
            return None
    from mmviz.plots.density import warm_up_in_background  # noqa: PLC0415

    warm_up_in_background()  # a large file will be drawn as a density: compile datashader while the user picks it
    g_col, c_col, f_col = pick_col.columns([1, 1, 2])
    geometry = g_col.selectbox("geometry of the file", ("as declared in the file",) + GEOMETRY_NAMES,
                               key=prefix + "file_geometry")
    curvature = c_col.number_input("curvature c", 0.01, 100.0, 1.0, help="Hyperbolic geometries: curvature −c.")
    files = f_col.file_uploader("embeddings file(s)", type=["npy", "npz", "parquet", "csv", "tsv"],
                                accept_multiple_files=True,
                                help="As on the Data page: .npz written by mmviz, .npy, .parquet, .csv/.tsv, or "
                                     "TensorBoard's vectors.tsv + metadata.tsv. Nothing is unpickled.")
    if not files:
        st.info("Upload an embeddings file to place it on the disk.")
        return None
    declared = geometry.startswith("as declared")
    try:
        source = upload_source(files, None if declared else geometry, None if declared else curvature)
    except MmvizError as err:
        st.error(f"This file can't be used: {err}")
        return None
    if fits_poincare_ball(source.es):
        hint, switch = st.columns([4, 1], vertical_alignment="center")
        hint.info("Every point lies inside the unit ball: these may be Poincaré-ball coordinates. They are read "
                  "as **euclidean**, as a plain array says.", icon=":material/info:")
        switch.button("Read as Poincaré ball", key=prefix + "to_poincare", on_click=_set_state,
                      args=(prefix + "file_geometry", "poincare"))
    return source


def _set_state(key: str, value: object) -> None:
    st.session_state[key] = value


def view_controls(es: EmbeddingSet, prefix: str) -> View:
    """Projection, colouring, the specificity proxy (sphere) or what depth means, and the toggles."""
    meta = es.metadata
    state = st.session_state
    m_col, col_col, p_col, t_col = st.columns([1.2, 1.2, 1.6, 1.2])
    method = m_col.selectbox("projection", METHODS, key=prefix + "method", help=METHOD_HELP)
    compare = m_col.selectbox("beside it", (NO_COMPARE,) + METHODS, key=prefix + "beside",
                              format_func=lambda m: "— one picture —" if m == NO_COMPARE else m,
                              help="Draw a second projection of the same points beside the first: hover and "
                                   "selection are linked, so you can see which picture to trust.")
    options = queries.colourings(meta)
    if state.get(prefix + "color") not in options:
        state[prefix + "color"] = options[0]
    color_by = col_col.selectbox("colour by", options, key=prefix + "color")
    specificity, root = None, None
    if es.geometry == "sphere":
        proxies = [p for p in SPECIFICITY if p != "raw_norm" or "raw_norm" in meta]
        if state.get(prefix + "proxy") not in proxies:
            state[prefix + "proxy"] = proxies[0]
        specificity = p_col.selectbox("specificity proxy (sphere)", proxies, key=prefix + "proxy",
                                      format_func=lambda p: SPECIFICITY[p],
                                      help="On the sphere every point has norm 1: choose what stands for depth. "
                                           "raw feature norm is what the engine uses as CLIP's depth.")
        if specificity == "root":
            root = panels.pick_root(meta)
    else:
        p_col.markdown(f"**depth** = distance from the origin ({es.geometry}, c = {es.curvature:.3g})")
    extent = t_col.segmented_control("view", list(EXTENTS), key=prefix + "zoom", format_func=EXTENTS.get,
                                     help="The whole disk shows the rim (infinitely far away); fitting zooms to "
                                          "the points, which a learned curvature can keep deep inside.") or "whole"
    rings = t_col.toggle("rings", key=prefix + "rings", help="Circles of equal hyperbolic distance from the centre.")
    has_pairs = "pair_index" in meta and {"image", "text"} <= set(queries.modality(meta))
    pairs = t_col.toggle("pair lines", key=prefix + "pairs", disabled=not has_pairs,
                         help="Join each image to its own caption: the modality gap made visible.")
    edges = queries.tree_edges(meta)
    show_edges = len(edges) > 0 and t_col.toggle("tree edges", key=prefix + "edges",
                                                help="Parent → child edges drawn as geodesic arcs.")
    return View(method, color_by, specificity, root, rings, pairs and has_pairs, edges, show_edges, extent,
                None if compare == NO_COMPARE or compare == method else compare)


def project(src: Source, view: View) -> Projection | None:
    """The 2-D projection the view asks for (cached), or None with the reason shown."""
    try:
        return projection(src, view.method, view.specificity, view.root)
    except MmvizError as err:
        st.error(f"This projection can't be made: {err}")
        return None


def search_overlay(es: EmbeddingSet, proj: Projection, found: int | None,
                   method: str) -> tuple[list[int], list[int], list]:
    """What a search hit adds to the disk: (highlighted rows, rows inside its entailment cone,
    the cone's outline). Cones exist in hyperbolic geometries; their outline in the radial
    projection only."""
    if found is None:
        return [], [], []
    if es.geometry not in HYPERBOLIC:
        return [found], [], []
    members = np.flatnonzero(queries.in_cone(es, found)).tolist()
    cone = queries.cone_outline(proj.disk[found], queries.half_aperture(es, found)) if method == "radial" else []
    return [found], members, cone


@st.cache_resource(show_spinner=False, max_entries=32)
def _disk_figure(key: str, color_by: str, rings: bool, pairs: bool, show_edges: bool, extent: str,
                 found: int | None, method: str, _src: Source, _proj: Projection, _edges: np.ndarray,
                 selected: tuple[int, ...] = (), half_width: bool = False):
    """The main disk figure, built once per view for every session of the server (read-only)."""
    es, proj, meta = _src.es, _proj, _src.es.metadata
    highlight, members, cone = search_overlay(es, proj, found, method)
    pair_lines = panels.pair_segments(meta, proj.disk) if pairs else []
    arcs = panels.edge_arcs(proj.disk, _edges) if show_edges else []
    fig = panels.disk_chart(proj, queries.group_labels(meta, color_by), hover_texts(_src, proj), rings=rings,
                            title=f"{method} projection", highlight=highlight, cone=cone, cone_members=members,
                            pair_lines=pair_lines, arcs=arcs, extent=extent, selected=selected,
                            ordinal=color_by == "tree depth")
    if half_width:  # beside another disk: the legend goes underneath, so the disk keeps the width
        fig.update_layout(legend=dict(orientation="h", x=0.0, xanchor="left", y=-0.02, yanchor="top"),
                          margin=dict(b=60))
    return fig


def disk_section(src: Source, proj: Projection, view: View) -> None:
    """The disk (search hit, cone, pair lines, tree edges) with its caption, and beside it the
    search box, the hit's panel and the lasso selection."""
    es = src.es
    disk_col, side_col = st.columns([2.6, 1.4])
    with side_col:
        found = panels.search_box(es)  # row picked by the search box, or None
    _, members, _ = search_overlay(es, proj, found, view.method)  # a search hit's cone: computed on a search only
    fig = _disk_figure(projection_key(src, proj), view.color_by, view.rings, view.pairs, view.show_edges,
                       view.extent, found, view.method, src, proj, view.edges)
    with disk_col:
        event = show_chart(fig, key="explorer_disk", on_select="rerun", selection_mode=("lasso", "box"),
                           config={"scrollZoom": True, "displaylogo": False})
        st.caption(panels.disk_caption(proj, es, view.method, view.specificity, view.extent))
    with side_col:
        if found is not None:
            panels.found_panel(es, found, members, es.geometry in HYPERBOLIC, view.method)
        panels.selection_panel(src, event)


def _remember_selection(chart_key: str) -> None:
    """on_select of a linked disk: its lasso/box rows become the selection of both."""
    state = st.session_state.get(chart_key)
    st.session_state[LINKED_ROWS] = panels.selected_rows(state)


def compare_section(src: Source, left: Projection, right: Projection, view: View) -> None:
    """Two projections of the same points side by side, each with its quality read-outs; hover
    one point and the other disk names it too, lasso points on either and both ring them."""
    from mmviz.ui.explore_source import projection_quality  # noqa: PLC0415
    from mmviz.ui.linked_hover import link_hover  # noqa: PLC0415

    rows = tuple(st.session_state.get(LINKED_ROWS, ()))
    charts = (("explorer_disk", left), ("explorer_disk_right", right))
    for col, (chart_key, proj) in zip(st.columns(2), charts):
        fig = _disk_figure(projection_key(src, proj), view.color_by, view.rings, view.pairs, view.show_edges,
                           view.extent, None, proj.method, src, proj, view.edges, rows, half_width=True)
        with col:
            show_chart(fig, key=chart_key, on_select=lambda k=chart_key: _remember_selection(k),
                       selection_mode=("lasso", "box"), config={"scrollZoom": True, "displaylogo": False})
            panels.quality_row(projection_quality(src, proj, view.specificity, view.root), proj, compact=True)
            st.caption(panels.disk_caption(proj, src.es, proj.method, view.specificity, view.extent))
    link_hover("explorer_disk", "explorer_disk_right", key="explorer_linked_hover")
    st.markdown("**Which picture to trust?** Trustworthiness asks whether a point's neighbours on the disk were "
                "its neighbours before; distortion, whether distances kept their size; radius Spearman, whether "
                "depth still reads as distance from the centre. Hover a point to find it in both pictures.")
    if rows:
        if st.button("clear the selection", key="explorer_clear_linked"):
            st.session_state[LINKED_ROWS] = []
            st.rerun()
    panels.selection_panel(src, list(rows))
