"""Explorer: a trained model's (or your own) embeddings on the Poincaré disk — specificity,
entailment cones, nearest neighbours and MERU's traversal."""

import dataclasses

import streamlit as st

from mmviz.ui import explore_panels as panels
from mmviz.ui import explore_sections as sections
from mmviz.ui import page_params
from mmviz.ui.explore_source import projection_key, projection_quality
from mmviz.ui.pages import page_entry
from mmviz.ui.run_source import inspectable_runs, run_label
from mmviz.ui.shell import page_setup
from mmviz.ui.train_runs import get_store
from mmviz.ui.url_state import seed_from_url, write_to_url

page_setup()

P = page_entry("explorer").state_prefix
runs = inspectable_runs(get_store())
labels = {r["id"]: run_label(r) for r in runs}
URL = page_params.explorer_url(runs)  # the page's URL parameters, also read by the Lessons page
seed_from_url(URL, P)

st.title("Explorer")
st.markdown(
    "Embeddings on the **Poincaré disk**: the distance from the centre is the distance from the origin "
    "(hyperbolic models: generic concepts near the centre, specific ones near the rim). Hover a point to name "
    "it, search a caption to see its entailment cone and neighbours, lasso points to list them."
)

src = sections.pick_source(labels, P)
if src is None:  # no file yet, or one that cannot be read: the message says which
    write_to_url(URL, P)
    st.stop()
view = sections.view_controls(src.es, P)
proj = sections.project(src, view)
if proj is None:
    write_to_url(URL, P)
    st.stop()

other = sections.project(src, dataclasses.replace(view, method=view.compare)) if view.compare else None
if other is not None:
    st.subheader(f"{proj.method} beside {other.method}: the same {len(src.es):,} points")
    sections.compare_section(src, proj, other, view)
else:
    sections.disk_section(src, proj, view)
    panels.quality_row(projection_quality(src, proj, view.specificity, view.root), proj)

st.subheader("Specificity: distance from the origin by group")
others = [i for i in labels if i != src.run_id]
panels.specificity_section(src.es, proj, src.label, others, labels, view.specificity,
                           cache_key=projection_key(src, proj))  # shared by every session

st.subheader("Traversal: from an image to the origin (MERU)")
panels.traversal_section(src, proj, view.extent)
write_to_url(URL, P)
