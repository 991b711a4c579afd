"""Interactions: what does a contrastive loss align? Redundancy, uniqueness and synergy (CoMM),
with two modalities (the paper's study) and with three (two images and a tone)."""

import streamlit as st

from mmviz.ui import interactions3_runs as data3
from mmviz.ui import interactions3_sections as sections3
from mmviz.ui import interactions_runs as data
from mmviz.ui import interactions_sections as sections
from mmviz.ui import page_params
from mmviz.ui.pages import page_entry
from mmviz.ui.shell import page_setup
from mmviz.ui.train_runs import get_store
from mmviz.ui.url_state import seed_from_url, write_to_url

page_setup()

P = page_entry("interactions").state_prefix
store = get_store()
runs, runs3 = data.study_runs(store), data3.triple_runs(store)
URL = page_params.interactions_url(runs, runs3)  # ?study=two|three&runs=…&runs3=… (also read by the Lessons page)
seed_from_url(URL, P, initial={"runs": data.default_selection(runs), "runs3": data3.default_selection(runs3)})

st.title("Interactions: what does a contrastive loss align?")
st.markdown(
    "Modalities can carry information in three ways (partial information decomposition): "
    "**redundancy** R — every modality shows it; **uniqueness** U — only one shows it; **synergy** S — "
    "only modalities *together* reveal it. CoMM (Dufumier et al., ICLR 2025) shows that aligning two "
    "modalities' embeddings, as CLIP does (*Cross*), keeps only R, while CoMM's fused multimodal "
    "embedding also keeps U and S. Here we train both and read R, U and S off their frozen "
    "representations with linear probes: with two modalities, as the paper does, and with three, "
    "which the paper names as a limitation."
)
study = st.segmented_control("Study", list(page_params.INTERACTION_STUDIES), key=P + "study",
                             format_func=page_params.INTERACTION_STUDIES.get) or "two"

if study == "two":
    st.header("1 · Redundancy, uniqueness and synergy in a pair", divider="gray")
    sections.example_pairs_section()

    st.header("2 · Probe accuracy per method", divider="gray")
    sections.protocol_note()
    chosen = sections.pick_runs(runs, P + "runs")
    sections.probes_section(store, runs, chosen)

    if chosen:
        st.header("3 · R, U and S over training", divider="gray")
        sections.curves_section(store, chosen)

        st.header("4 · Ablation: do the per-modality terms matter?", divider="gray")
        sections.ablation_section(store, chosen)
else:
    st.header("1 · Three modalities: two images and a tone", divider="gray")
    sections3.example_triples_section()

    st.header("2 · Probe accuracy per interaction and method", divider="gray")
    sections3.protocol_note()
    chosen3 = sections3.pick_runs(runs3, P + "runs3")
    sections3.probes_section(store, runs3, chosen3)

    if chosen3:
        st.header("3 · The six probes over training", divider="gray")
        sections3.curves_section(store, chosen3)

        st.header("4 · Ablation: CoMM n = 3's per-modality terms", divider="gray")
        sections3.ablation_section(store, chosen3)

        st.header("5 · Why S2 stays at chance: what one masked view predicts", divider="gray")
        sections3.cross_views_section(store, chosen3)
write_to_url(URL, P)
