"""The Geometry page's URL parameters and sections: the space (curvature, circle radius),
distances between chosen points, why trees fit, and from generic to specific. Each section takes
the page's URL spec and session-state prefix; the scenes are :mod:`mmviz.ui.geometry_cache`'s."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mmviz.geometry import scenes
from mmviz.trees import layout
from mmviz.ui import geometry_cache as cached
from mmviz.ui.charts import show_chart
from mmviz.ui.url_state import UrlParam, UrlSpec, url_number_input, url_slider

LABELS = ("A", "B", "C", "D")
DEFAULT_POINTS = ((0.8, 150.0), (0.85, 30.0), (0.4, 260.0), (0.95, 100.0))
MAX_TREE_NODES = 3125  # deepest level drawn: 5^5 leaves


def url_spec() -> UrlSpec:
    """The page's URL parameters: the space, the points (``r0``, ``a0``...: radius as a fraction
    of the disk's and angle in degrees), the tree and the concept to recentre on."""
    url = {
        "c": UrlParam(1.0, 0.1, 4.0, step=0.1), "rho": UrlParam(0.5, 0.1, 2.0, step=0.05), "k": UrlParam(3, 2, 4),
        "center": UrlParam("none", choices=("none",) + LABELS),
        "b": UrlParam(3, 2, 5), "d": UrlParam(4, 1, 6),
        "concept": UrlParam("none", choices=["none"] + layout.tree_from_nested(layout.CONCEPTS).labels),
    }
    for i, (r, a) in enumerate(DEFAULT_POINTS):
        url[f"r{i}"] = UrlParam(r, 0.0, 0.99, step=0.01)
        url[f"a{i}"] = UrlParam(a, 0.0, 360.0, step=1.0)
    return url


def space_sidebar(url: UrlSpec, prefix: str) -> tuple[float, float]:
    """The curvature and circle-radius sliders; returns (c, ρ)."""
    with st.sidebar:
        st.subheader("Space")
        curvature = url_slider("curvature c (space has curvature −c)", "c", url, prefix,
                               help="The disk always fills the picture; higher curvature = more room, "
                                    "so the same picture means smaller distances (all scale by 1/√c).")
        rho = url_slider("circle radius ρ (hyperbolic)", "rho", url, prefix,
                         help="Each point gets a circle of this hyperbolic radius.")
        st.caption("Every setting on this page is in the URL: copy it to share this exact view.")
    return curvature, rho


def distances_section(url: UrlSpec, prefix: str, curvature: float, rho: float) -> None:
    """Up to four points, their geodesics, circles and distances, and Möbius recentring."""
    state = st.session_state
    left, right = st.columns([3, 2], gap="large")
    with right:
        k = url_number_input("number of points", "k", url, prefix)
        for i in range(k):
            c1, c2 = st.columns(2)
            url_slider(f"{LABELS[i]}: distance from centre (fraction of radius)", f"r{i}", url, prefix, where=c1)
            url_slider(f"{LABELS[i]}: angle (°)", f"a{i}", url, prefix, where=c2)
        center_choice = st.selectbox("Move to the centre (Möbius recentring)", ("none",) + LABELS[:k],
                                     key=prefix + "center")
    points = scenes.polar_to_disk(np.array([state[f"{prefix}r{i}"] for i in range(k)]),
                                  np.array([state[f"{prefix}a{i}"] for i in range(k)]))
    recenter = None if center_choice == "none" else LABELS.index(center_choice)
    scene = cached.distances(points, LABELS[:k], curvature, rho, recenter)
    with left:
        show_chart(cached.distance_figure(points, LABELS[:k], curvature, rho, recenter,
                                          "Geodesics bend towards the centre"),
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


def trees_section(url: UrlSpec, prefix: str, curvature: float) -> None:
    """A complete tree laid out with unit edges in the disk and in the plane, and the room each
    level gets."""
    b_col, d_col, _ = st.columns([1, 1, 2])
    branching = url_slider("branching b", "b", url, prefix, where=b_col)
    depth = url_slider("depth d", "d", url, prefix, where=d_col)
    if branching ** depth > MAX_TREE_NODES:
        depths = range(int(url["d"].lo), int(url["d"].hi) + 1)
        depth = max(dd for dd in depths if branching ** dd <= MAX_TREE_NODES)
        st.info(f"Showing depth {depth}: deeper trees with b = {branching} have too many nodes to draw.")
    tree_disk, tree_plane, room_fig, room = cached.regular_tree_figures(
        branching, depth, curvature, "Hyperbolic: every edge has length 1 (colour = depth)",
        "Euclidean: every edge has length 1 (colour = depth)")
    t1, t2 = st.columns(2)
    show_chart(tree_disk, width="stretch", key="tree_disk", where=t1)
    show_chart(tree_plane, width="stretch", key="tree_plane", where=t2)
    leaf = room.iloc[-1]
    m1, m2, m3 = st.columns(3)
    m1.metric(f"nodes at depth {depth}", f"{int(leaf['nodes']):,}")
    m2.metric("closest two leaves, hyperbolic", f"{leaf['closest pair (hyperbolic)']:.3f}")
    m3.metric("closest two leaves, Euclidean", f"{leaf['closest pair (Euclidean)']:.3f}")
    show_chart(room_fig, width="stretch", key="room")
    st.markdown(
        f"A tree with branching {branching} has {branching}^k nodes at depth k: the count grows "
        "**exponentially**. Placing depth k on a circle of radius k, the Euclidean circle has length 2πk — it "
        "grows only linearly, so leaves get crammed together (look at the closest pair). The hyperbolic circle "
        "has length 2π·sinh(r) ≈ π·eʳ: exponential, like the tree. Both drawings use the same construction "
        "(each node owns a wedge its children share); only the geometry differs."
    )


def concepts_section(url: UrlSpec, prefix: str, curvature: float) -> None:
    """animal → mammal → dog → golden retriever in the disk, recentred on a chosen concept."""
    choices = url["concept"].choices
    concept = st.selectbox("Move to the centre", choices, key=prefix + "concept")
    recenter = None if concept == "none" else list(choices).index(concept) - 1  # choices = none + labels
    tree, hyp, _, _, _, path = cached.concept_view(curvature, recenter)
    g1, g2 = st.columns([3, 2], gap="large")
    show_chart(cached.concept_figure(curvature, recenter, "animal → mammal → dog → golden retriever"),
               width="stretch", key="concept_disk", where=g1)
    origin_name = "the origin" if recenter is None else f"“{concept}”"
    g2.caption(f"Hyperbolic distance of each concept on the path from {origin_name}:")
    g2.dataframe({"concept": [tree.labels[i] for i in path],
                  "distance": scenes.distances_from(hyp, curvature, recenter)[path]},
                 hide_index=True, width="stretch",
                 column_config={"distance": st.column_config.NumberColumn(format="%.3f")})
    g2.markdown(
        "MERU-style models learn exactly this: **distance from the origin reads as specificity**. "
        "*animal* sits at the centre, *golden retriever* far out. Recentre on *dog*: now *dog* is the "
        "middle of the world, its breeds are close, and *animal* has moved out towards the rim — "
        "yet every distance between two concepts is the same as before."
    )
