"""Interactions: what does a contrastive loss align? Redundancy, uniqueness and synergy (CoMM)."""

import streamlit as st

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
runs = data.study_runs(store)
URL = page_params.interactions_url(runs)  # ?runs=id1,id2: the selected runs (also read by the Lessons page)
seed_from_url(URL, P, initial={"runs": data.default_selection(runs)})

st.title("Interactions: what does a contrastive loss align?")
st.markdown(
    "Two modalities can carry information in three ways (partial information decomposition): "
    "**redundancy** R — both show it; **uniqueness** U — only one shows it; **synergy** S — only "
    "the two *together* reveal it. CoMM (Dufumier et al., ICLR 2025) shows that aligning two "
    "modalities' embeddings, as CLIP does (*Cross*), keeps only R, while CoMM's fused multimodal "
    "embedding also keeps U and S. Here we train both, and a CLIP + SimCLR baseline (*Cross+Self*), "
    "and read R, U and S off their frozen representations with linear probes."
)

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
write_to_url(URL, P)
