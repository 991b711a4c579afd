"""mmviz entry point: `streamlit run app.py`."""

import streamlit as st

from mmviz.ui.pages import PAGES

st.set_page_config(page_title="mmviz", page_icon=":material/blur_circular:", layout="wide")
st.navigation(
    [st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default) for p in PAGES]
).run()
