"""Train: launch small contrastive runs and watch them learn, live."""

import streamlit as st

from mmviz.runs import runner
from mmviz.ui import classroom, train_form, train_live, train_runs
from mmviz.ui.pages import page_entry
from mmviz.ui.shell import page_setup
from mmviz.ui.url_state import UrlParam, write_to_url

page_setup()

store = train_runs.get_store()
runner.refresh(store)  # a trainer that died (say, with the last server) marks its run interrupted

P = page_entry("train").state_prefix
VIEW = {**train_live.URL, "runs": UrlParam("")}
form_in_url = train_form.form_in_url(VIEW)  # a shared experiment: open the form
URL = train_form.seed_state(VIEW)

st.title("Train")
st.markdown(
    "Train small CLIP- and MERU-style models on this machine and **watch them learn**. Each run trains "
    "in its own process: leave the page, reload it or open it in a second tab, and the runs and their "
    "curves are still there, still live. Select several runs in the table to overlay their curves."
)

st.subheader("Start an experiment", divider="gray")
launched = train_form.preset_gallery(store)
with st.expander("…or configure your own run", expanded=form_in_url, icon=":material/tune:"):
    launched += train_form.launch_form(store)
train_runs.follow_launched(launched)

runs = classroom.visible_runs(store.list_runs())  # all but runs on another browser's uploaded file
train_runs.follow_active_on_first_visit(runs)  # a first visit without a link: follow what is training

st.subheader("Runs", divider="gray")
selected = train_runs.runs_table(store, runs)
train_runs.run_actions(store, runs, selected)

st.subheader("Curves", divider="gray")
settings = train_live.curve_controls(P)
train_live.live_panel(selected, settings, runs)
st.caption("Every setting on this page, and the selected runs, are in the URL: copy it to share this experiment.")
write_to_url(URL, P)
