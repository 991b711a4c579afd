"""Cached computations for the Geometry page (keyed by the slider values).

Figures are ``st.cache_resource``: one per setting for every session of the server, shared and
never mutated (``show_chart`` sends a copy); scenes and tables are ``st.cache_data``."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mmviz.geometry import scenes
from mmviz.plots import disk as disk_plots
from mmviz.trees import layout


@st.cache_data(max_entries=64, show_spinner=False)
def distances(unit_points: np.ndarray, labels: tuple[str, ...], curvature: float, circle_radius: float,
              recenter: int | None):
    return scenes.distance_scene(unit_points, list(labels), curvature, circle_radius, recenter)


@st.cache_data(max_entries=32, show_spinner="Laying out the tree…")
def regular_tree_views(branching: int, depth: int, curvature: float):
    """Both layouts of the complete tree, with arcs and the per-depth room table."""
    tree = layout.regular_tree(branching, depth)
    hyp = layout.hyperbolic_layout(tree, 1.0, curvature)
    pos, arcs, grid = scenes.tree_scene(hyp, tree.edges(), curvature, n=12 if len(tree) > 500 else 24)
    plane = layout.euclidean_layout(tree, 1.0)
    room = layout.room_by_depth(tree, 1.0, curvature)
    return tree, pos, arcs, grid, plane, room


@st.cache_data(max_entries=32, show_spinner=False)
def concept_view(curvature: float, recenter: int | None):
    """The labelled animal → golden retriever tree in the disk, optionally recentred on a node."""
    tree = layout.tree_from_nested(layout.CONCEPTS)
    hyp = layout.hyperbolic_layout(tree, 1.0, curvature)
    pos, arcs, grid = scenes.tree_scene(hyp, tree.edges(), curvature, recenter)
    path = [tree.labels.index(name) for name in layout.CONCEPT_PATH]
    return tree, hyp, pos, arcs, grid, path


@st.cache_resource(max_entries=64, show_spinner=False)
def distance_figure(unit_points: np.ndarray, labels: tuple[str, ...], curvature: float, circle_radius: float,
                    recenter: int | None, title: str):
    """The distances disk of :func:`distances` (read-only)."""
    return disk_plots.distance_figure(distances(unit_points, labels, curvature, circle_radius, recenter), title)


@st.cache_resource(max_entries=32, show_spinner=False)
def regular_tree_figures(branching: int, depth: int, curvature: float, disk_title: str, plane_title: str):
    """(disk, plane, room) figures of :func:`regular_tree_views` and its room table (read-only)."""
    tree, pos, arcs, grid, plane, room = regular_tree_views(branching, depth, curvature)
    return (disk_plots.tree_disk_figure(pos, arcs, grid, tree.labels, tree.depth, title=disk_title),
            disk_plots.tree_plane_figure(plane, tree.edges(), tree.labels, tree.depth, title=plane_title),
            disk_plots.room_figure(room, branching), room)


@st.cache_resource(max_entries=32, show_spinner=False)
def concept_figure(curvature: float, recenter: int | None, title: str):
    """The labelled concept tree of :func:`concept_view` in the disk (read-only)."""
    tree, _, pos, arcs, grid, path = concept_view(curvature, recenter)
    return disk_plots.tree_disk_figure(pos, arcs, grid, tree.labels, tree.depth, title=title, show_labels=True,
                                       highlight=path, height=540)
