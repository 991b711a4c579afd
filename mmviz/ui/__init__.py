"""Streamlit-side helpers shared by pages (the only part of mmviz that imports streamlit)."""
