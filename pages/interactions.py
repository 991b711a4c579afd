"""Interactions: what does a contrastive loss align? Redundancy, uniqueness and synergy (CoMM)."""

import streamlit as st

from mmviz.metrics.probes import PAPER
from mmviz.plots import interactions as plots
from mmviz.plots.images import image_grid
from mmviz.ui import interactions_runs as data
from mmviz.ui.shell import page_setup
from mmviz.ui.train_runs import get_store

page_setup()

st.title("Interactions: what does a contrastive loss align?")
st.markdown(
    "Two modalities can carry information in three ways (partial information decomposition): "
    "**redundancy** R — both show it; **uniqueness** U — only one shows it; **synergy** S — only "
    "the two *together* reveal it. CoMM (Dufumier et al., ICLR 2025) shows that aligning two "
    "modalities' embeddings, as CLIP does (*Cross*), keeps only R, while CoMM's fused multimodal "
    "embedding also keeps U and S. Here we train both, and a CLIP + SimCLR baseline (*Cross+Self*), "
    "and read R, U and S off their frozen representations with linear probes."
)

# --- 1. the data ----------------------------------------------------------------------------------
st.header("1 · Redundancy, uniqueness and synergy in a pair", divider="gray")
images, hover, labels, mapping = data.example_pairs()
left, right = st.columns([3, 2], gap="large")
with left:
    st.plotly_chart(image_grid(images, hover, ncols=4, labels=labels, cell_px=150, label_lines=2,
                               col_titles=["pair A · image 1", "pair A · image 2",
                                           "pair B · image 1", "pair B · image 2"],
                               title="Real test pairs of CoMM's bimodal Trifeature"),
                    width="stretch", key="example_pairs")
with right:
    st.markdown(
        "- **R = shape.** Both images of a pair have the same shape: either image tells it.\n"
        "- **U = texture of image 1** (and of image 2). Each image has its own texture, and "
        "colour: only that image tells it.\n"
        "- **S = does the mapping hold?** A fixed one-to-one mapping sends each texture to a "
        "colour. S = 1 when *colour of image 2* = mapping[*texture of image 1*]: neither image "
        "alone can say. Pair A satisfies it, pair B does not."
    )
    with st.expander("The texture → colour mapping"):
        st.markdown("\n".join(f"- {line}" for line in mapping))

# --- 2. runs ------------------------------------------------------------------------------------
st.header("2 · Probe accuracy per method", divider="gray")
with st.expander("The protocol (CoMM's, with the leaks found while building it)", expanded=False):
    st.markdown(
        "- **Two trainings per method.** On **biased** pairs the mapping always holds in training "
        "(texture of image 1 and colour of image 2 always match); that model is probed for **S**. "
        "On **unbiased** pairs (texture and colour independent) the model is probed for **R** and "
        "**U**. On biased pairs texture 1 is predictable from colour 2, so it is *shared*, not "
        "unique: a Cross model trained there scores high on U, and that is correct.\n"
        "- **Probes** are logistic regressions on the frozen representation (the fused [CLS] "
        "output for CoMM, both encoders' features side by side for the baselines), scored by "
        "balanced accuracy on the *unbiased* test split, cross-fitted over two halves.\n"
        "- **Hygiene.** Test pairs come from all 1,000 (shape, texture, colour) triples (held-out "
        "triples let a probe on the true labels predict S from the split itself). U is probed on "
        "pairs where the mapping fails (where it holds, colour 2 gives texture 1 away). S is probed "
        "on a subset balanced within each (shape, colour 2) cell.\n"
        "- **Chance:** 10% for R and U (10 classes), 50% for S."
    )

store = get_store()
runs = data.study_runs(store)
by_id = {r.id: r for r in runs}
if "interactions_runs" not in st.session_state:
    wanted = [i for i in str(st.query_params.get("runs", "")).split(",") if i in by_id]
    references = [r.id for r in runs if r.reference]  # the shipped study, if any
    st.session_state["interactions_runs"] = wanted or references or [r.id for r in runs[:8] if r.status != "failed"]
picked = st.multiselect(
    "Runs (cross, cross-self, comm on trifeature-pairs)", list(by_id),
    format_func=lambda i: (f"{by_id[i].name} ({by_id[i].label})" if "biased" not in by_id[i].name
                           else by_id[i].name) + f" · {by_id[i].status}, step {by_id[i].step}",
    key="interactions_runs",
    help="Train them with the presets 'CoMM vs Cross vs Cross+Self' (biased pairs) and '… unbiased "
         "pairs' on the Train page, or with bench/comm_targets.py.")
ids_param = ",".join(picked)
if st.query_params.get("runs", "") != ids_param:
    if ids_param:
        st.query_params["runs"] = ids_param
    elif "runs" in st.query_params:
        del st.query_params["runs"]
chosen = [by_id[i] for i in picked]
finals = {r.id: data.final_probes(store, r.id) for r in chosen}
summary = data.protocol_summary(finals, chosen)

st.plotly_chart(plots.rus_bars(summary, PAPER), width="stretch", key="rus_bars")
if not runs:
    st.info("No runs of the study yet: the bars show the paper's numbers only. On the **Train** page, "
            "launch the presets *CoMM vs Cross vs Cross+Self* (biased pairs) and *… unbiased pairs*, "
            "or run `python bench/comm_targets.py`.")
elif summary:
    st.caption("Measured bars: R and U from each method's newest selected *unbiased* run, S from its "
               "newest selected *biased* run. A method without one of the two has a missing bar.")

if chosen:
    st.subheader("Both models of each method, all probes")
    rows = [{"run": r.name, "method": r.method + (" (two-view only)" if r.two_view_only else ""),
             "trained on": "biased" if r.biased else "unbiased", "step": r.step,
             "R (%)": finals[r.id]["R"], "U image 1 (%)": finals[r.id]["U"],
             "U image 2 (%)": finals[r.id]["U2"], "S (%)": finals[r.id]["S"]} for r in chosen]
    numbers = {k: st.column_config.NumberColumn(format="%.1f")
               for k in ("R (%)", "U image 1 (%)", "U image 2 (%)", "S (%)")}
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={**numbers, "method": st.column_config.TextColumn(width="medium")})
    st.caption("Read U on the unbiased row and S on the biased row. A biased model's high U is "
               "not uniqueness: on its training pairs texture 1 was given away by colour 2.")

    # --- 3. curves ------------------------------------------------------------------------------
    st.header("3 · R, U and S over training", divider="gray")
    curves = [(label, data.probe_history(store, r.id)) for label, r in zip(data.curve_labels(chosen), chosen)]
    st.plotly_chart(plots.rus_curves(curves, dashed=[not r.biased for r in chosen]), width="stretch",
                    key="rus_curves")
    st.caption("Solid: trained on biased pairs; dotted: unbiased. Colour: method.")

    # --- 4. ablation ----------------------------------------------------------------------------
    st.header("4 · Ablation: do the per-modality terms matter?", divider="gray")
    st.markdown(
        "CoMM's loss is L(Z′, Z″) between the fused embeddings of two views of each pair (new renders "
        "of its two images in random poses, rotated, flipped and shifted) **plus**, for each "
        "modality, ½(L(Z_i′, Z″) + L(Z_i″, Z′)) with the other modality masked. The paper's ablation: "
        "with the two-view term alone synergy appears later. Compare S over steps (biased runs)."
    )
    comm_biased = [r for r in chosen if r.method == "CoMM" and r.biased]
    if any(r.two_view_only for r in comm_biased) and any(not r.two_view_only for r in comm_biased):
        st.plotly_chart(plots.rus_curves([(label, data.probe_history(store, r.id))
                                          for label, r in zip(data.curve_labels(comm_biased), comm_biased)],
                                         keys=("S",),
                                         title="Synergy probe over training: full loss vs two-view term only"),
                        width="stretch", key="ablation_curves")
    else:
        st.info("Select a biased CoMM run with the full loss and one with `modality_terms` off "
                "(the preset *CoMM: two-view term only vs with per-modality terms*).")
