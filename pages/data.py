"""Data: every dataset mmviz trains on or shows, and a checker for your own embeddings."""

import json

import streamlit as st

from mmviz import data as datasets
from mmviz.data.embeddings_io import GEOMETRIES, summary
from mmviz.errors import MmvizError
from mmviz.ui import data_views
from mmviz.ui.forms import param_form
from mmviz.ui.uploads import load_uploaded
from mmviz.ui.url_state import UrlParam, seed_from_url, write_to_url
from mmviz.ui.shell import page_setup

page_setup()

INFOS = {info.name: info for info in datasets.list_datasets() if not info.user_file}
URL = {"dataset": UrlParam("trifeature", choices=list(INFOS)), "split": UrlParam("train", choices=["train", "test"])}
seed_from_url(URL)

st.title("Data")
st.markdown("Every dataset here is generated on this machine (or shipped with mmviz), deterministic by its seed.")

tab_builtin, tab_upload = st.tabs(["Built-in datasets", "Your own embeddings"])
with tab_builtin:
    pick, split_col = st.columns([3, 1])
    name = pick.selectbox("dataset", list(INFOS), key="dataset",
                          format_func=lambda n: f"{n} — {INFOS[n].description.split('.')[0]}")
    info = INFOS[name]
    splits = list(info.splits)
    if st.session_state.get("split") not in splits:
        st.session_state["split"] = splits[0]
    split = split_col.radio("split", splits, key="split", horizontal=True)
    st.caption(info.description)
    params = param_form(info.params, key=f"params.{name}") if info.params else {}
    try:
        with st.spinner(f"Generating {name}…"):
            data = data_views.load(name, split, json.dumps(params, sort_keys=True))
    except MmvizError as err:
        st.error(str(err))
    else:
        data_views.show(name, data)

with tab_upload:
    st.markdown(
        "Load embeddings from a file to check them before using them in mmviz: `.npy`, `.npz`, `.parquet`, "
        "`.csv`, `.tsv`, or TensorBoard projector's `vectors.tsv` + `metadata.tsv` (upload both). "
        "Optional metadata columns: modality, label, text, depth, parent, level. Nothing is unpickled. "
        "For a Hugging Face dataset folder, use `python -m mmviz check FOLDER`."
    )
    g_col, c_col = st.columns(2)
    geometry = g_col.selectbox("geometry the file is in", ("as declared in the file",) + GEOMETRIES)
    curvature = c_col.number_input("curvature c", 0.01, 100.0, 1.0, help="Hyperbolic geometries: curvature −c.")
    files = st.file_uploader("embeddings file(s)", type=["npy", "npz", "parquet", "csv", "tsv"],
                             accept_multiple_files=True)
    if files:
        try:
            es = load_uploaded(files, None if geometry.startswith("as declared") else geometry,
                               None if geometry.startswith("as declared") else curvature)
        except MmvizError as err:
            st.error(f"This file can't be used: {err}")
        else:
            info_ = summary(es)
            st.success(f"{info_['n']:,} points of dimension {info_['dim']} in {info_['geometry']} geometry "
                       f"(curvature {info_['curvature']:g}); norms from {info_['norm_min']:.3g} "
                       f"to {info_['norm_max']:.3g}.")
            st.json(info_, expanded=False)
            st.dataframe(es.metadata.head(200), width="stretch")
write_to_url(URL)
