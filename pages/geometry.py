"""Geometry: hyperbolic vs Euclidean, taught on the Poincaré disk."""

import streamlit as st

from mmviz.ui import geometry_sections as sections
from mmviz.ui.pages import page_entry
from mmviz.ui.shell import page_setup
from mmviz.ui.url_state import seed_from_url, write_to_url

page_setup()

P = page_entry("geometry").state_prefix
URL = sections.url_spec()
seed_from_url(URL, P)

st.title("Hyperbolic vs Euclidean geometry")
st.markdown(
    "The **Poincaré disk** draws the whole hyperbolic plane inside a circle. The rim is infinitely far "
    "away: equal steps in hyperbolic distance look smaller and smaller as you approach it. That is why "
    "there is so much *room* near the rim, and why hierarchies fit so well: put the generic concepts near "
    "the centre and the specific ones towards the edge."
)

curvature, rho = sections.space_sidebar(URL, P)

st.header("1 · Distances", divider="gray")
sections.distances_section(URL, P, curvature, rho)

st.header("2 · Why trees fit", divider="gray")
sections.trees_section(URL, P, curvature)

st.header("3 · From generic to specific", divider="gray")
sections.concepts_section(URL, P, curvature)
write_to_url(URL, P)
