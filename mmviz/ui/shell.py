"""What every page calls first."""

from __future__ import annotations

import streamlit as st

from mmviz.ui import preload
from mmviz.ui.charts import FORMAT_KEY, FORMATS
from mmviz.ui.references import ensure_references

PRESENTER_KEY = "_presenter"
PRESENTER_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"] {display: none;}
html {font-size: 20px;}
[data-testid="stMainBlockContainer"] {max-width: 100%; padding-left: 2.5rem; padding-right: 2.5rem;}
/* one figure per screen: columns stack, each chart takes the width */
[data-testid="stHorizontalBlock"] {flex-direction: column;}
[data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {width: 100% !important; flex: 1 1 100% !important;}
</style>
"""


def page_setup() -> None:
    """Make sure the page runs inside app.py's ``st.navigation``.

    Streamlit decides per server whether ``pages/`` is a legacy (v1) multipage folder: if the
    very first request to a fresh server is a deep link such as ``/data``, it runs that page file
    on its own, without app.py, and stays in legacy mode (wrong menu, no wide layout) for the
    server's lifetime. Seeing that, switch the flag ``st.navigation`` itself would have cleared and
    rerun, so app.py runs and navigates to the same URL path.
    """
    from streamlit.runtime.pages_manager import PagesManager  # private: no public switch exists

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
    preload.wait()  # a lesson step may be importing this page's modules in the background
    ensure_references()
    presenter_mode()
    st.sidebar.radio("chart downloads (camera button)", FORMATS, key=FORMAT_KEY, horizontal=True,
                     format_func=lambda f: "PNG 1920 × 1080" if f == "png" else "SVG",
                     help="Every chart's camera button downloads in this format; the CSV button under it "
                          "downloads the data behind the chart.")


def presenter_mode() -> bool:
    """``?present=1`` turns presenter mode on for this session (``present=0`` off): larger
    fonts and markers, no sidebar, one figure per screen, no CSV buttons."""
    flag = st.query_params.get("present")
    if flag is not None:
        st.session_state[PRESENTER_KEY] = flag.lower() in ("1", "true", "yes", "on")
    on = bool(st.session_state.get(PRESENTER_KEY))
    if on:
        st.markdown(PRESENTER_CSS, unsafe_allow_html=True)
    return on
