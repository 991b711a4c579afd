"""The home page's sections: the first picture (the reference MERU and CLIP runs side by side on
the disk, each with a one-line caption telling a first-time visitor what to look at) and a card
per page."""

from __future__ import annotations

import numpy as np
import streamlit as st

from mmviz.data.embeddings_io import EmbeddingSet
from mmviz.explorer import queries
from mmviz.explorer.projections import project_set
from mmviz.plots.explorer import explorer_disk
from mmviz.runs.embeddings import embeddings_version
from mmviz.ui.charts import show_chart
from mmviz.ui.pages import PAGES
from mmviz.ui.run_source import load_run_embeddings
from mmviz.ui.train_runs import get_store

SHOWN = (("ref-meru", "MERU (hyperbolic)"), ("ref-clip", "CLIP (sphere)"))
POINTS = 1500  # a readable picture, and a fast first paint: the Explorer shows them all


def _sample(es: EmbeddingSet, n: int, seed: int = 0) -> EmbeddingSet:
    """Every distinct caption plus a random sample of the rest, at most ``n`` rows."""
    meta = es.metadata
    captions = np.flatnonzero(queries.modality(meta) == "caption")
    others = np.setdiff1d(np.arange(len(es)), captions)
    rng = np.random.default_rng(seed)
    keep_captions = rng.choice(captions, min(len(captions), n // 2), replace=False) if len(captions) else captions
    keep_others = rng.choice(others, min(len(others), n - len(keep_captions)), replace=False)
    rows = np.sort(np.concatenate([keep_captions, keep_others]))
    return EmbeddingSet(es.points[rows], meta.iloc[rows].reset_index(drop=True), es.geometry, es.curvature, es.source)


EXTENTS = {"whole": "whole disk", "fit": "fit to the data"}


@st.cache_resource(show_spinner=False, max_entries=8)  # one figure for every session (read-only): no copy per open
def _figure(run_id: str, label: str, version: tuple, extent: str = "whole"):
    es = _sample(load_run_embeddings(run_id), POINTS)
    proj = project_set(es, "radial", specificity="raw_norm" if es.geometry == "sphere" else None)
    by = "caption level" if "caption level" in queries.colourings(es.metadata) else queries.colourings(es.metadata)[0]
    groups = queries.group_labels(es.metadata, by)
    hover = queries.hover_texts(es.metadata, proj.depth, proj.depth_name)
    fig = explorer_disk(proj.disk, groups, hover, unit=proj.unit, rings=False, title=label, height=520, extent=extent)
    # The legend under the disk: side by side, two disks leave no room for one beside each.
    fig.update_layout(legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.02, yanchor="top", title=None),
                      dragmode="pan")
    return fig


def reference_pictures() -> bool:
    """Draw the reference MERU and CLIP disks side by side; False if they are not installed."""
    store = get_store()
    present = [(rid, label) for rid, label in SHOWN if store.has_run(rid)]
    if not present:
        return False
    extent = st.segmented_control("view", list(EXTENTS), default="whole", format_func=EXTENTS.get, key="home.zoom",
                                  help="The whole disk shows the rim, infinitely far away; MERU's learned "
                                       "curvature keeps its points deep inside, so 'fit to the data' zooms in "
                                       "to show their order.") or "whole"
    st.caption("Showing the **whole disk**: the black circle is the rim, infinitely far from the centre; MERU "
               "uses only the middle of it." if extent == "whole" else
               "Showing each model **zoomed to its data**: the rim is outside the view.")
    cols = st.columns(len(present))
    for col, (run_id, label) in zip(cols, present):
        with col:
            show_chart(_figure(run_id, label, embeddings_version(store, run_id), extent), key=f"home.{run_id}",
                       config={"displayModeBar": False})
            st.caption(_CAPTIONS[run_id])
            st.page_link("pages/explorer.py", label=f"Explore {label}", icon=":material/explore:",
                         query_params={"run": run_id})
    return True


_CAPTIONS = {
    "ref-meru": "**MERU** puts generic captions (*a star*, level 1) near the centre, more specific ones "
                "(*a red dotted star*, level 3) further out and the images outermost: distance from the "
                "origin reads as specificity.",
    "ref-clip": "**CLIP** normalises every embedding onto the sphere, so no radius is left to read. Drawn here "
                "by the features' norm before normalisation, the levels come out in reverse: the most generic "
                "captions have the largest norms.",
}


def page_cards(per_row: int = 3) -> None:
    """A bordered card per page (but the home page): its link and blurb, ``per_row`` to a row."""
    cols = st.columns(per_row)
    for i, page in enumerate(p for p in PAGES if not p.default):
        with cols[i % per_row].container(border=True):
            st.page_link(page.path, label=page.title, icon=page.icon)
            st.caption(page.blurb)
