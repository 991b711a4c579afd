"""Hierarchy lab: trees and WordNet embedded in 2-D hyperbolic vs Euclidean space."""

import streamlit as st

from mmviz.ui.shell import page_setup

page_setup()

from mmviz.ui import hierarchy_sections as sections  # noqa: E402
from mmviz.ui import page_params  # noqa: E402
from mmviz.ui.pages import page_entry  # noqa: E402
from mmviz.ui.url_state import seed_from_url, write_to_url  # noqa: E402

P = page_entry("hierarchy").state_prefix
URL = page_params.hierarchy_url()  # the page's URL parameters, also read by the Lessons page
seed_from_url(URL, P)

st.title("Hierarchy lab")
st.markdown(
    "Embed a tree (or the WordNet noun hierarchy) with one point per node, then ask the points to "
    "give the hierarchy back: **rank** each node's ancestors (or graph neighbours) by distance and "
    "score the ranking with **MAP**. In the hyperbolic plane the room at radius r grows like e^r, "
    "as fast as a tree's levels; in the Euclidean plane it grows like r."
)

source, method = sections.sidebar(URL, P)
loaded = sections.load_hierarchy(source, P)
if loaded is None:  # no edge list yet, or a bad one: the message says which
    write_to_url(URL, P)
    st.stop()

if method == "construct":
    st.header("Constructed at once (Sarkar 2011, Sala et al. 2018)", divider="gray")
    sections.construct_section(loaded.h, P)
else:
    st.header("Trained live (Nickel & Kiela 2017)", divider="gray")
    sections.train_section(loaded, URL, P)

st.header("Why a construction wins on the edges and loses on the closure", divider="gray")
sections.why_note()
write_to_url(URL, P)
