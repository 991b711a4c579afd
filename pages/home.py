"""Home: what mmviz is, and a card per page."""

import streamlit as st

from mmviz.ui.home_gallery import page_cards, reference_pictures
from mmviz.ui.shell import page_setup

page_setup()

st.title("mmviz")
st.markdown(
    "**See the geometry of multimodal contrastive learning.** "
    "CLIP puts images and captions on a sphere and compares them by angle; MERU puts them in "
    "hyperbolic space, where there is room for a hierarchy: generic concepts (*an animal*) sit "
    "near the origin and specific ones (*a golden retriever on a beach*) near the rim. "
    "mmviz lets you train small models of both kinds, look at the embeddings on the Poincaré disk, "
    "and see what a contrastive loss actually computes."
)

if reference_pictures():
    st.caption("Both models were trained by mmviz on Trifeature captions and ship with it; the Explorer and "
               "Similarity pages open on them.")

page_cards()

st.divider()
st.caption(
    "Sources: CLIP (Radford et al. 2021) · MERU (Desai et al. 2023) · CoMM (Dufumier et al. 2025) · "
    "Baptista, Stuart & Tran 2025 · Poincaré embeddings (Nickel & Kiela 2017)."
)
