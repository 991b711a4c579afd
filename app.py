"""mmviz entry point: `streamlit run app.py`."""

import streamlit as st

from mmviz.paths import confine_to_home
from mmviz.ui.lesson_return import return_bar
from mmviz.ui.pages import PAGES

confine_to_home()  # caches and temporary files under MMVIZ_HOME: the app writes nowhere else

st.set_page_config(page_title="mmviz", page_icon=":material/blur_circular:", layout="wide")
page = st.navigation(
    [st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default) for p in PAGES]
)
return_bar(page.url_path)  # on a lesson step's view: its question and the way back to the lesson
page.run()
