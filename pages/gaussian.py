"""Gaussian lab: contrastive learning on jointly Gaussian pairs, checked against its closed form."""

import streamlit as st

from mmviz.ui import gaussian_sections as sections
from mmviz.ui import page_params
from mmviz.ui.pages import page_entry
from mmviz.ui.shell import page_setup
from mmviz.ui.train_runs import get_store
from mmviz.ui.url_state import seed_from_url, write_to_url

page_setup()

P = page_entry("gaussian").state_prefix
store = get_store()
URL = page_params.gaussian_url(store)  # the page's URL parameters (run: the shipped reference), also read by Lessons
seed_from_url(URL, P)

st.title("Gaussian lab")
st.markdown(
    "Two modalities **u** and **v** are jointly Gaussian, so everything a contrastive loss *should* learn is known "
    "exactly. Following Baptista, Stuart & Tran (2025), contrastive learning learns the conditional "
    "p(v | u) by **tilting** the marginal p(v) with an alignment score of the two encodings: "
    "p_θ(v | u) ∝ p(v)·exp f(G_u u, G_v v). Set up a population on the left, look at the closed-form answer, "
    "then train linear encoders and watch them converge to it."
)

params = sections.population_sidebar(URL, P)
if params is None:  # the population does not fit: the error says why
    write_to_url(URL, P)
    st.stop()
run = sections.choose_run(store, params, URL, P)
solved, views, learned = sections.conditionals(store, params, run, P)

st.header("1 · The closed form", divider="gray")
sections.closed_form_section(solved, views, learned, URL, P)

st.header("2 · Train and watch", divider="gray")
sections.live_section(store, run, P)
write_to_url(URL, P)
