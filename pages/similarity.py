"""Similarity: what the contrastive loss computes on a batch, and what a run's geometry does
with it (similarity, temperature, softmax, per-row InfoNCE, retrieval, the modality gap)."""

import streamlit as st

from mmviz.ui import page_params
from mmviz.ui import similarity_sections as sections
from mmviz.ui import similarity_views as views
from mmviz.ui.pages import page_entry
from mmviz.ui.run_source import inspectable_runs
from mmviz.ui.shell import page_setup
from mmviz.ui.train_runs import get_store
from mmviz.ui.url_state import seed_from_url, write_to_url

page_setup()

P = page_entry("similarity").state_prefix  # this page's keys never meet another page's
URL = page_params.similarity_url()  # the page's URL parameters, also read by the Lessons page
seed_from_url(URL, P)

st.title("Similarity: what the contrastive loss sees")
st.markdown(
    "A contrastive model scores every image of a batch against every text: cosine similarity on the "
    "sphere (CLIP), minus the geodesic distance in hyperbolic space (MERU). Dividing by the temperature τ "
    "gives the **logits**; the softmax of a row is p(text | image), of a column p(image | text); the "
    "loss of a row is −log of its diagonal entry, the true pair. Below: the matrices of a real batch, the "
    "same batch in two runs, how the batch size changes the loss, retrieval, and the modality gap.")

store = get_store()
runs = inspectable_runs(store)
source = sections.source_choice(runs, P)
if source == "toy":
    st.header("Toy batch", divider="gray")
    views.toy_section(P)
    write_to_url(URL, P)
    st.stop()

src = sections.load_source(store, runs, source, P)
if src is None:  # no file yet, or it cannot be read: the message says which
    write_to_url(URL, P)
    st.stop()

st.header("1 · One batch, step by step", divider="gray")
batch = sections.batch_controls(src.pairs, URL, P)
sections.batch_panel(store, src, batch, URL, P)  # with section 2, the same batch in two runs

st.header("3 · Batch size: N = 2B − 2 negatives", divider="gray")
# Whole-split analyses at the model's own τ (the slider's τ without one): a τ drag stays instant.
tau = sections.model_tau(src, P)
views.batch_size_section(src.key, src.pairs, tau, int(batch.seed), batch.size)

st.header("4 · Retrieval and zero-shot", divider="gray")
views.retrieval_section(src.key, src.pairs, P)

st.header("5 · The modality gap", divider="gray")
views.gap_section(src.key, src.pairs, tau, int((src.config or {}).get("batch_size", 256)))
sections.training_curves(store, src)

write_to_url(URL, P)
