"""The Explorer's panels: search + neighbours + cone, lasso selection with thumbnails, the
quality read-outs, the specificity panel and MERU's traversal."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from mmviz.data.embeddings_io import EmbeddingSet
from mmviz.errors import MmvizError
from mmviz.explorer import queries
from mmviz.explorer.projections import Projection, original_depth
from mmviz.geometry import HYPERBOLIC
from mmviz.geometry import disk as unit_disk
from mmviz.plots.explorer import MAX_DRAWN, explorer_disk, specificity_figure
from mmviz.plots.images import mosaic
from mmviz.ui.charts import show_chart
from mmviz.ui.explore_source import Source, hover_texts, point_names, projection_key, run_source, source_images

MAX_LISTED = 60  # selected points listed beside the disk


def pick_root(meta: pd.DataFrame) -> int:
    """A selectbox of candidate roots (level-1 captions first, else the first rows): a row index."""
    names = queries.point_names(meta)
    if "level" in meta:
        rows = np.flatnonzero((queries.modality(meta) == "caption") & (meta["level"] == 1).to_numpy())
    else:
        rows = np.arange(min(len(meta), 500))
    rows = rows if len(rows) else np.arange(min(len(meta), 500))
    return int(st.selectbox("root", rows, key="root", format_func=lambda i: names[i],
                            help="Depth = angle to this point's direction."))


def search_box(es: EmbeddingSet) -> int | None:
    """'Find a caption or label': a text box (URL key q) and, with several hits, a pick list."""
    query = st.text_input("find a caption or label", key="q", placeholder="e.g. red star")
    if not query.strip():
        return None
    hits = queries.search(es.metadata, query)
    if len(hits) == 0:
        st.warning(f"Nothing named like “{query}”.")
        return None
    names = queries.point_names(es.metadata)
    mods = queries.modality(es.metadata)
    return int(st.selectbox(f"{len(hits)} match{'es' if len(hits) != 1 else ''}", hits, key="hit",
                            format_func=lambda i: f"{names[i]} ({mods[i]})"))


def pair_segments(meta: pd.DataFrame, disk: np.ndarray, limit: int = 2000) -> list[np.ndarray]:
    """(2, 2) segments joining each image to its own text (by pair_index), at most ``limit``."""
    mods = queries.modality(meta)
    pairs = meta["pair_index"].to_numpy()
    img = {int(p): i for i, (m, p) in enumerate(zip(mods, pairs)) if m == "image" and p == p}
    txt = {int(p): i for i, (m, p) in enumerate(zip(mods, pairs)) if m == "text" and p == p}
    common = sorted(set(img) & set(txt))[:limit]
    return [disk[[img[p], txt[p]]] for p in common]


def edge_arcs(disk: np.ndarray, edges: np.ndarray) -> list[np.ndarray]:
    """Geodesic arcs (n, 2) in the display disk for [child, parent] row pairs."""
    return [unit_disk.geodesic(disk[p], disk[c], n=16) for c, p in edges]


def disk_chart(proj: Projection, groups: np.ndarray, hover: list[str], **kw: Any) -> go.Figure:
    """The main disk figure (see mmviz.plots.explorer.explorer_disk)."""
    return explorer_disk(proj.disk, groups, hover, unit=proj.unit, **kw)


def disk_caption(proj: Projection, es: EmbeddingSet, method: str, specificity: str | None,
                 extent: str = "whole") -> str:
    """What the radius means here, and which part of the disk is shown, in one line."""
    if es.geometry == "sphere":
        what = (f"Sphere (CLIP-style) embeddings: every point has norm 1, so the radius shows the proxy "
                f"**{proj.depth_name}**, min-max scaled.")
    elif es.geometry == "euclidean":
        what = "Euclidean embeddings: the radius is the norm |x|."
    else:
        what = (f"Rings: equal distance d from the origin in the model's own units "
                f"(curvature −{es.curvature:.3g}).")
    tail = " The radius is exact (radial)." if method == "radial" and es.geometry != "sphere" else ""
    extra = f" Showing a random {MAX_DRAWN:,} of {len(es):,} points; all are used in the numbers." \
        if len(es) > MAX_DRAWN else ""
    notes = (" " + "; ".join(proj.notes) + ".") if proj.notes else ""
    view = (" Whole disk: the rim is infinitely far away." if extent == "whole" else
            " Zoomed to the data: the rim (radius 1) may be outside this view.")
    return f"{len(es):,} points.{view} {what}{tail}{notes}{extra} Lasso or box-select points to list them."


def found_panel(es: EmbeddingSet, row: int, members: list[int], hyperbolic: bool, method: str) -> None:
    """The searched point's nearest neighbours by the model's distance and its cone."""
    names = queries.point_names(es.metadata)
    st.markdown(f"**{names[row]}**")
    if hyperbolic:
        note = "" if method == "radial" else " (cone outline drawn with the radial projection only)"
        st.caption(f"Entailment cone (green): {len(members):,} points lie inside it in the original space{note}.")
    nn = queries.nearest(es, row, k=10)
    st.dataframe(nn[["name", "modality", "distance"]], hide_index=True, width="stretch",
                 column_config={"distance": st.column_config.NumberColumn(format="%.3f")})


def selected_rows(event: Any) -> list[int]:
    """Row indices (customdata) of the points a plotly selection event (or its state) holds."""
    try:
        points = event.selection.points  # type: ignore[union-attr]
    except AttributeError:
        try:
            points = event["selection"]["points"]
        except (KeyError, TypeError):
            return []
    rows = []
    for p in points:
        cd = p.get("customdata")
        if isinstance(cd, list):
            cd = cd[0] if cd else None
        if cd is not None:
            rows.append(int(cd))
    return sorted(set(rows))


def selection_panel(src: Source, event: Any) -> None:
    """Selected points beside the disk (``event``: a selection event, or the rows themselves):
    image thumbnails (a run's images, a pretrained model's inputs) and texts."""
    es = src.es
    rows = list(event) if isinstance(event, list) else selected_rows(event)
    if not rows:
        st.caption("Lasso or box-select points on the disk to list them here.")
        return
    names = queries.point_names(es.metadata)
    mods = queries.modality(es.metadata)
    st.markdown(f"**{len(rows):,} selected**")
    image_rows = [r for r in rows if mods[r] == "image"]
    images = source_images(src) if image_rows else None
    if images is not None and "pair_index" in es.metadata:
        idx = es.metadata["pair_index"].to_numpy()[image_rows[:MAX_LISTED]].astype(int)
        idx = idx[(idx >= 0) & (idx < len(images))]
        if len(idx):
            st.image(mosaic(images[idx], ncols=min(8, len(idx))), caption=f"{len(image_rows):,} images",
                     width="stretch")
    text_rows = [r for r in rows if mods[r] != "image"][:MAX_LISTED]
    if text_rows:
        st.dataframe(pd.DataFrame({"name": [names[r] for r in text_rows], "modality": mods[text_rows]}),
                     hide_index=True, width="stretch", height=min(300, 36 + 35 * len(text_rows)))


def quality_row(q: dict[str, Any], proj: Projection, compact: bool = False) -> None:
    """The projection's quality read-outs as metrics (``compact``: two rows of two, for half a page)."""
    cols = st.columns(4) if not compact else [*st.columns(2), *st.columns(2)]
    cols[0].metric("radius Spearman", f"{q['radius_spearman']:.4f}",
                   help="Spearman between the original depth and the distance from the disk's centre (all points).")
    cols[1].metric(f"trustworthiness (k = {q['k']})", f"{q['trustworthiness']:.3f}",
                   help=f"Are the disk's neighbours true neighbours? On a {q['sample']:,}-point sample.")
    cols[2].metric("mean relative distortion", f"{q['distortion']:.3f}",
                   help="Mean |d_disk / d_original − 1| over pairs of the sample"
                        + ("" if proj.unit else ", after the best single scale (no natural units)."))
    cols[3].metric("projection time", f"{proj.seconds * 1000:.0f} ms" if proj.seconds < 1 else f"{proj.seconds:.1f} s")


def _spearman_text(stats: dict[str, float] | None) -> str:
    if stats is None:
        return "No caption levels in this data: no Spearman(level, depth)."
    return (f"Spearman(level, depth) = **{stats['spearman_balanced']:.3f}** on level-balanced samples "
            f"(ceiling {stats['ceiling_balanced']:.3f}); {stats['spearman']:.3f} over all distinct captions "
            f"and images (ceiling {stats['ceiling']:.3f}). Levels: captions 1–3, images 4.")


def _depth_of(es: EmbeddingSet, specificity: str | None) -> tuple[np.ndarray, str]:
    raw = es.metadata["raw_norm"].to_numpy(np.float64) if "raw_norm" in es.metadata else None
    if es.geometry == "sphere" and specificity in (None, "root"):
        specificity = "raw_norm" if raw is not None else "mean"
    return original_depth(es.points, es.geometry, es.curvature, specificity=specificity, raw_norm=raw)


def _specificity(es: EmbeddingSet, depth: np.ndarray, depth_name: str, label: str) -> tuple[go.Figure, str]:
    """The specificity figure and its Spearman line."""
    groups = queries.specificity_groups(es.metadata)
    fig = specificity_figure(groups, depth, depth_name, title=label)
    wordnet = queries.wordnet_depth_spearman(es.metadata, depth) if "level" not in es.metadata else None
    if wordnet is not None:
        return fig, (f"Spearman(WordNet depth, distance from the origin) = **{wordnet['spearman']:.3f}** over "
                     f"{wordnet['n']:,} class prompts (ceiling {wordnet['ceiling']:.3f}): MERU's claim says "
                     "deeper (more specific) WordNet concepts sit further out.")
    return fig, _spearman_text(queries.specificity_spearman(es.metadata, depth))


@st.cache_resource(show_spinner=False, max_entries=16)
def _shared_specificity(cache_key: str, label: str, _es: EmbeddingSet, _depth: np.ndarray,
                        depth_name: str) -> tuple[go.Figure, str]:
    return _specificity(_es, _depth, depth_name, label)  # one per source and depth, for every session: read-only


def _specificity_block(es: EmbeddingSet, depth: np.ndarray, depth_name: str, label: str, key: str,
                       cache_key: str | None = None) -> None:
    fig, text = (_specificity(es, depth, depth_name, label) if cache_key is None else
                 _shared_specificity(cache_key, label, es, depth, depth_name))
    show_chart(fig, key=key)
    st.markdown(text)


def specificity_section(es: EmbeddingSet, proj: Projection, label: str, other_runs: list[str],
                        labels: dict[str, str], specificity: str | None, cache_key: str | None = None) -> None:
    """Distance from the origin by caption level and modality, with Spearman(level, depth);
    optionally the same for another run (e.g. CLIP beside MERU). ``cache_key`` (see
    :func:`mmviz.ui.explore_source.projection_key`) shares the figure between sessions."""
    st.markdown("MERU's claim: generic text sits near the origin, specific text further out, images outermost. "
                "For a CLIP run the depth is the chosen proxy (by default the raw feature norm).")
    compare = st.selectbox("compare with", [""] + other_runs, key="compare",
                           format_func=lambda i: "— no other run —" if not i else labels.get(i, i))
    cols = st.columns(2 if compare else 1)
    with cols[0]:
        _specificity_block(es, proj.depth, proj.depth_name, label, "explorer_specificity", cache_key)
    if compare:
        with cols[1]:
            try:
                other_src = run_source(compare, labels.get(compare, compare))
                other = other_src.es
                depth, name = _depth_of(other, None)
                _specificity_block(other, depth, name, labels.get(compare, compare), "explorer_specificity_compare",
                                   f"{other_src.key}|{name}")
            except MmvizError as err:
                st.error(f"That run's embeddings can't be read: {err}")


@st.cache_resource(show_spinner=False, max_entries=32)
def _traversal(key: str, start: int, _es: EmbeddingSet) -> tuple[queries.Traversal, pd.DataFrame]:
    """MERU's traversal from row ``start`` and its table, once per source and image (read-only)."""
    tr = queries.traversal(_es, start, n_steps=50)
    return tr, queries.traversal_table(_es, tr)


@st.cache_resource(show_spinner=False, max_entries=32)
def _traversal_figure(key: str, start: int, extent: str, _src: Source, _proj: Projection,
                      _tr: queries.Traversal) -> go.Figure:
    """The traversal drawn on the disk, once per projection and image for every session (read-only)."""
    es, proj, tr = _src.es, _proj, _tr
    # The path on the disk: along the image's display direction at each step's depth (exact for radial).
    direction = proj.disk[start] / max(np.linalg.norm(proj.disk[start]), 1e-300)
    unit = proj.unit or (2 * np.arctanh(min(np.linalg.norm(proj.disk[start]), 1 - 1e-15)) / max(tr.depth[0], 1e-12))
    radius = np.tanh(unit * tr.depth / 2.0)
    path = radius[:, None] * direction[None, :]
    retrieved = sorted(set(tr.captions.tolist()))
    groups = np.where(np.isin(np.arange(len(es)), retrieved), "retrieved caption", "other")
    hover = hover_texts(_src, proj)
    keep = np.isin(np.arange(len(es)), retrieved + [start])
    sub = np.flatnonzero(keep)
    return explorer_disk(proj.disk[sub], np.where(sub == start, "image", groups[sub]), [hover[i] for i in sub],
                         unit=proj.unit, title="traversal path on the disk", height=480, extent=extent,
                         path=path if proj.method == "radial" else None)


def traversal_section(src: Source, proj: Projection, extent: str = "whole") -> None:
    """Pick an image, walk the geodesic to the origin in 50 steps, list the captions retrieved."""
    es = src.es
    mods = queries.modality(es.metadata)
    image_rows = np.flatnonzero(mods == "image")
    if es.geometry not in HYPERBOLIC:
        st.info("The traversal walks toward the origin of hyperbolic space (MERU); this source is "
                f"{es.geometry}, which has no root to walk to.")
        return
    if len(image_rows) == 0:
        st.info("No image rows (modality 'image') in this source to start a traversal from.")
        return
    names = point_names(src)
    pick_col, info_col = st.columns([2, 3])
    start = int(pick_col.selectbox("image", image_rows[:500], key="trav_image", format_func=lambda i: names[i]))
    try:
        tr, table = _traversal(src.key, start, es)
    except MmvizError as err:
        st.error(str(err))
        return
    images = source_images(src)
    if images is not None and "pair_index" in es.metadata:
        pos = int(es.metadata["pair_index"].iloc[start])
        if 0 <= pos < len(images):
            pick_col.image(mosaic(images[[pos]], ncols=1), caption=names[start], width=160)
    info_col.markdown(f"{len(table)} distinct captions along 50 steps; each is the nearest caption whose "
                      "entailment cone contains the step (or the nearest caption, when none does).")
    info_col.dataframe(table, hide_index=True, width="stretch",
                       column_config={"distance from origin": st.column_config.NumberColumn(format="%.3f")})
    show_chart(_traversal_figure(projection_key(src, proj), start, extent, src, proj, tr), key="explorer_traversal")
    if proj.method != "radial":
        st.caption("The path is drawn with the radial projection only (where it is exact).")
