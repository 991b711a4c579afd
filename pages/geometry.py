"""Geometry: hyperbolic vs Euclidean, taught on the Poincaré disk."""

import numpy as np
import streamlit as st

from mmviz import disk_scene, tree_layout
from mmviz.plots import disk as disk_plots
from mmviz.ui import geometry_cache as cached
from mmviz.ui.url_state import UrlParam, seed_from_url, write_to_url
from mmviz.ui.shell import page_setup

page_setup()

LABELS = ("A", "B", "C", "D")
DEFAULT_POINTS = ((0.8, 150.0), (0.85, 30.0), (0.4, 260.0), (0.95, 100.0))
URL = {
    "c": UrlParam(1.0, 0.1, 4.0), "rho": UrlParam(0.5, 0.1, 2.0), "k": UrlParam(3, 2, 4),
    "center": UrlParam("none", choices=("none",) + LABELS),
    "b": UrlParam(3, 2, 5), "d": UrlParam(4, 1, 6),
    "concept": UrlParam("none", choices=["none"] + tree_layout.tree_from_nested(tree_layout.CONCEPTS).labels),
}
for i, (r, a) in enumerate(DEFAULT_POINTS):
    URL[f"r{i}"] = UrlParam(r, 0.0, 0.99)
    URL[f"a{i}"] = UrlParam(a, 0.0, 360.0)
seed_from_url(URL)

st.title("Hyperbolic vs Euclidean geometry")
st.markdown(
    "The **Poincaré disk** draws the whole hyperbolic plane inside a circle. The rim is infinitely far "
    "away: equal steps in hyperbolic distance look smaller and smaller as you approach it. That is why "
    "there is so much *room* near the rim, and why hierarchies fit so well: put the generic concepts near "
    "the centre and the specific ones towards the edge."
)

with st.sidebar:
    st.subheader("Space")
    curvature = st.slider("curvature c (space has curvature −c)", 0.1, 4.0, step=0.1, key="c",
                          help="The disk always fills the picture; higher curvature = more room, "
                               "so the same picture means smaller distances (all scale by 1/√c).")
    rho = st.slider("circle radius ρ (hyperbolic)", 0.1, 2.0, step=0.05, key="rho",
                    help="Each point gets a circle of this hyperbolic radius.")
    st.caption("Every setting on this page is in the URL: copy it to share this exact view.")

st.header("1 · Distances", divider="gray")
left, right = st.columns([3, 2], gap="large")
with right:
    k = st.number_input("number of points", 2, 4, key="k")
    for i in range(k):
        c1, c2 = st.columns(2)
        c1.slider(f"{LABELS[i]}: distance from centre (fraction of radius)", 0.0, 0.99, step=0.01, key=f"r{i}")
        c2.slider(f"{LABELS[i]}: angle (°)", 0.0, 360.0, step=1.0, key=f"a{i}")
    center_choice = st.selectbox("Move to the centre (Möbius recentring)", ("none",) + LABELS[:k], key="center")
points = disk_scene.polar_to_disk(np.array([st.session_state[f"r{i}"] for i in range(k)]),
                                  np.array([st.session_state[f"a{i}"] for i in range(k)]))
recenter = None if center_choice == "none" else LABELS.index(center_choice)
scene = cached.distances(points, LABELS[:k], curvature, rho, recenter)
with left:
    st.plotly_chart(disk_plots.distance_figure(scene, "Geodesics bend towards the centre"),
                    width="stretch", key="distance_disk")
with right:
    st.dataframe(scene.table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in scene.table.columns[1:]})
st.markdown(
    "- The **shortest path** (blue) is an arc that bends towards the centre: going through the middle, "
    "where space is 'smaller', is a shortcut. The straight chord (orange, dashed) is only shortest in the "
    "Euclidean plane.\n"
    "- Every dotted circle has the **same hyperbolic radius ρ**, yet near the rim they look tiny: the "
    "picture shrinks as you go outwards. A circle's drawn centre is not its hyperbolic centre.\n"
    "- **Recentre** on a point: the Möbius map moves it to the middle, and everything moves with it. "
    "The hyperbolic distances in the table do not change (it is an isometry); the Euclidean ones do."
)

st.header("2 · Why trees fit", divider="gray")
b_col, d_col, _ = st.columns([1, 1, 2])
branching = b_col.slider("branching b", 2, 5, key="b")
depth = d_col.slider("depth d", 1, 6, key="d")
if branching ** depth > 3125:
    depth = max(dd for dd in range(1, 7) if branching ** dd <= 3125)
    st.info(f"Showing depth {depth}: deeper trees with b = {branching} have too many nodes to draw.")
tree, pos, arcs, grid, plane, room = cached.regular_tree_views(branching, depth, curvature)
t1, t2 = st.columns(2)
t1.plotly_chart(disk_plots.tree_disk_figure(pos, arcs, grid, tree.labels, tree.depth,
                                            title="Hyperbolic: every edge has length 1 (colour = depth)"),
                width="stretch", key="tree_disk")
t2.plotly_chart(disk_plots.tree_plane_figure(plane, tree.edges(), tree.labels, tree.depth,
                                             title="Euclidean: every edge has length 1 (colour = depth)"),
                width="stretch", key="tree_plane")
leaf = room.iloc[-1]
m1, m2, m3 = st.columns(3)
m1.metric(f"nodes at depth {depth}", f"{int(leaf['nodes']):,}")
m2.metric("closest two leaves, hyperbolic", f"{leaf['closest pair (hyperbolic)']:.3f}")
m3.metric("closest two leaves, Euclidean", f"{leaf['closest pair (Euclidean)']:.3f}")
st.plotly_chart(disk_plots.room_figure(room, branching), width="stretch", key="room")
st.markdown(
    f"A tree with branching {branching} has {branching}^k nodes at depth k: the count grows "
    "**exponentially**. Placing depth k on a circle of radius k, the Euclidean circle has length 2πk — it "
    "grows only linearly, so leaves get crammed together (look at the closest pair). The hyperbolic circle "
    "has length 2π·sinh(r) ≈ π·eʳ: exponential, like the tree. Both drawings use the same construction "
    "(each node owns a wedge its children share); only the geometry differs."
)

st.header("3 · From generic to specific", divider="gray")
concept = st.selectbox("Move to the centre", URL["concept"].choices, key="concept")
recenter_c = None if concept == "none" else URL["concept"].choices.index(concept) - 1  # choices = none + labels
tree_c, hyp, pos_c, arcs_c, grid_c, path = cached.concept_view(curvature, recenter_c)
g1, g2 = st.columns([3, 2], gap="large")
g1.plotly_chart(disk_plots.tree_disk_figure(pos_c, arcs_c, grid_c, tree_c.labels, tree_c.depth,
                                            title="animal → mammal → dog → golden retriever",
                                            show_labels=True, highlight=path, height=540),
                width="stretch", key="concept_disk")
origin_name = "the origin" if recenter_c is None else f"“{concept}”"
g2.caption(f"Hyperbolic distance of each concept on the path from {origin_name}:")
g2.dataframe({"concept": [tree_c.labels[i] for i in path],
              "distance": disk_scene.distances_from(hyp, curvature, recenter_c)[path]},
             hide_index=True, width="stretch",
             column_config={"distance": st.column_config.NumberColumn(format="%.3f")})
g2.markdown(
    "MERU-style models learn exactly this: **distance from the origin reads as specificity**. "
    "*animal* sits at the centre, *golden retriever* far out. Recentre on *dog*: now *dog* is the "
    "middle of the world, its breeds are close, and *animal* has moved out towards the rim — "
    "yet every distance between two concepts is the same as before."
)
write_to_url(URL)
