"""Explorer: a trained model's (or your own) embeddings on the Poincaré disk — specificity,
entailment cones, nearest neighbours and MERU's traversal."""

import numpy as np
import streamlit as st

from mmviz import explore
from mmviz.data.embeddings_io import GEOMETRIES
from mmviz.errors import MmvizError
from mmviz.project import METHODS, SPECIFICITY
from mmviz.ui import explore_panels as panels
from mmviz.ui.explore_source import example_source, projection, projection_quality, run_source, upload_source
from mmviz.ui.references import default_run
from mmviz.ui.run_source import inspectable_runs, run_label
from mmviz.ui.shell import page_setup
from mmviz.ui.train_runs import get_store
from mmviz.ui.url_state import UrlParam, seed_from_url, write_to_url

page_setup()

store = get_store()
runs = inspectable_runs(store)
run_ids = [r["id"] for r in runs]
labels = {r["id"]: run_label(r) for r in runs}
URL = {
    "source": UrlParam("run", choices=["run", "file", "example"]),
    "run": UrlParam(default_run(runs, ("ref-meru",)) or "", choices=run_ids or [""]),
    "method": UrlParam("radial", choices=list(METHODS)),
    "color": UrlParam("modality"),
    "proxy": UrlParam("raw_norm", choices=list(SPECIFICITY)),
    "q": UrlParam(""),
    "pairs": UrlParam(False),
    "rings": UrlParam(True),
    "compare": UrlParam(""),
    "edges": UrlParam(True),
}
seed_from_url(URL)

st.title("Explorer")
st.markdown(
    "Embeddings on the **Poincaré disk**: the distance from the centre is the distance from the origin "
    "(hyperbolic models: generic concepts near the centre, specific ones near the rim). Hover a point to name "
    "it, search a caption to see its entailment cone and neighbours, lasso points to list them."
)

# ---------------------------------------------------------------- source
src = None
source_col, pick_col = st.columns([1, 3])
kind = source_col.radio("source", ["run", "file", "example"], key="source",
                        format_func=lambda k: {"run": "a trained run", "file": "your own file",
                                               "example": "a synthetic hierarchy"}[k])
if kind == "example" or (kind == "run" and not run_ids):
    if kind == "run":
        pick_col.info("No trained run yet: launch one on the [Train](train) page (e.g. the preset *CLIP vs MERU "
                      "on Trifeature captions*), or load your own embeddings file. Meanwhile, here is a synthetic "
                      "hierarchy in hyperbolic space.")
    else:
        pick_col.caption("6 generic concepts → 24 → 72 specific ones, 8 'images' around each specific concept, "
                         "in 16-d hyperbolic space (Lorentz, c = 1).")
    src = example_source()
elif kind == "run":
    run_id = pick_col.selectbox("run", run_ids, key="run", format_func=lambda i: labels.get(i, i))
    try:
        src = run_source(run_id, labels[run_id])
    except MmvizError as err:
        st.error(f"This run's embeddings can't be read: {err}")
else:
    g_col, c_col, f_col = pick_col.columns([1, 1, 2])
    geometry = g_col.selectbox("geometry of the file", ("as declared in the file",) + GEOMETRIES)
    curvature = c_col.number_input("curvature c", 0.01, 100.0, 1.0, help="Hyperbolic geometries: curvature −c.")
    files = f_col.file_uploader("embeddings file(s)", type=["npy", "npz", "parquet", "csv", "tsv"],
                                accept_multiple_files=True,
                                help="As on the Data page: .npz written by mmviz, .npy, .parquet, .csv/.tsv, or "
                                     "TensorBoard's vectors.tsv + metadata.tsv. Nothing is unpickled.")
    if files:
        declared = geometry.startswith("as declared")
        try:
            src = upload_source(files, None if declared else geometry, None if declared else curvature)
        except MmvizError as err:
            st.error(f"This file can't be used: {err}")
    else:
        st.info("Upload an embeddings file to place it on the disk.")

if src is None:
    write_to_url(URL)
    st.stop()

es = src.es
meta = es.metadata
hyperbolic = es.geometry in explore.HYPERBOLIC

# ---------------------------------------------------------------- controls
m_col, col_col, p_col, t_col = st.columns([1.2, 1.2, 1.6, 1.2])
method = m_col.selectbox("projection", METHODS, key="method",
                         help="radial: exact distance from the origin, angle from a PCA of the directions (fast). "
                              "tangent-pca: PCA at the Fréchet mean. umap: UMAP to the hyperboloid (slow, opt-in, "
                              "cached). identity: 2-D points already in a disk.")
options = explore.colourings(meta)
if st.session_state.get("color") not in options:
    st.session_state["color"] = options[0]
color_by = col_col.selectbox("colour by", options, key="color")
specificity, root = None, None
if es.geometry == "sphere":
    proxies = [p for p in SPECIFICITY if p != "raw_norm" or "raw_norm" in meta]
    if st.session_state.get("proxy") not in proxies:
        st.session_state["proxy"] = proxies[0]
    specificity = p_col.selectbox("specificity proxy (sphere)", proxies, key="proxy",
                                  format_func=lambda p: SPECIFICITY[p],
                                  help="On the sphere every point has norm 1: choose what stands for depth. "
                                       "raw feature norm is what the engine uses as CLIP's depth.")
    if specificity == "root":
        root = panels.pick_root(meta)
else:
    p_col.markdown(f"**depth** = distance from the origin ({es.geometry}, c = {es.curvature:.3g})")
show_rings = t_col.toggle("rings", key="rings", help="Circles of equal hyperbolic distance from the centre.")
has_pairs = "pair_index" in meta and {"image", "text"} <= set(explore.modality(meta))
show_pairs = t_col.toggle("pair lines", key="pairs", disabled=not has_pairs,
                          help="Join each image to its own caption: the modality gap made visible.")
edges = explore.tree_edges(meta)
show_edges = len(edges) > 0 and t_col.toggle("tree edges", key="edges",
                                            help="Parent → child edges drawn as geodesic arcs.")

try:
    proj = projection(src, method, specificity, root)
except MmvizError as err:
    st.error(f"This projection can't be made: {err}")
    write_to_url(URL)
    st.stop()

# ---------------------------------------------------------------- disk + side panel
groups = explore.group_labels(meta, color_by)
hover = explore.hover_texts(meta, proj.depth, proj.depth_name)
disk_col, side_col = st.columns([2.6, 1.4])
with side_col:
    found = panels.search_box(es)  # row picked by the search box, or None
cone, members, highlight = [], [], []
if found is not None:
    highlight = [found]
    if hyperbolic:
        inside = explore.in_cone(es, found)
        members = np.flatnonzero(inside).tolist()
        cone = explore.cone_outline(proj.disk[found], explore.half_aperture(es, found)) if method == "radial" else []
pair_lines = panels.pair_segments(meta, proj.disk) if show_pairs and has_pairs else []
title = f"{method} projection"
arcs = panels.edge_arcs(proj.disk, edges) if show_edges else []
fig = panels.disk_chart(proj, groups, hover, rings=show_rings, title=title, highlight=highlight, cone=cone,
                        cone_members=members, pair_lines=pair_lines, arcs=arcs)
with disk_col:
    event = st.plotly_chart(fig, key="explorer_disk", on_select="rerun", selection_mode=("lasso", "box"),
                            config={"scrollZoom": True, "displaylogo": False})
    st.caption(panels.disk_caption(proj, es, method, specificity))
with side_col:
    if found is not None:
        panels.found_panel(es, found, members, hyperbolic, method)
    panels.selection_panel(es, event, src.run_id)

q = projection_quality(src, proj, specificity, root)
panels.quality_row(q, proj)

# ---------------------------------------------------------------- specificity
st.subheader("Specificity: distance from the origin by group")
others = [i for i in run_ids if i != src.run_id]
panels.specificity_section(es, proj, src.label, others, labels, specificity)

# ---------------------------------------------------------------- traversal
st.subheader("Traversal: from an image to the origin (MERU)")
panels.traversal_section(es, proj, src.run_id)

write_to_url(URL)
