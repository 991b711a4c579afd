"""Data: every dataset mmviz trains on or shows, and a checker for your own embeddings."""

import streamlit as st

from mmviz.ui import data_views, page_params
from mmviz.ui.pages import page_entry
from mmviz.ui.shell import page_setup
from mmviz.ui.url_state import seed_from_url, write_to_url

page_setup()

P = page_entry("data").state_prefix
INFOS = data_views.shown_datasets()
URL = page_params.data_url(INFOS)  # the page's URL parameters, also read by the Lessons page
seed_from_url(URL, P)

st.title("Data")
st.markdown("Every dataset here is generated on this machine (or shipped with mmviz), deterministic by its seed.")

tab_builtin, tab_upload = st.tabs(["Built-in datasets", "Your own embeddings"])
with tab_builtin:
    data_views.builtin_section(INFOS, P)
with tab_upload:
    data_views.upload_section()
write_to_url(URL, P)
