"""What every page calls first."""

from __future__ import annotations

import streamlit as st

from mmviz.ui.references import ensure_references


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
    ensure_references()
