"""The Interactions page's sections: real example pairs, CoMM's probing protocol, the run menu,
probe accuracy per method, R/U/S over training and the two-view ablation. The data comes from
:mod:`mmviz.ui.interactions_runs`, the figures from :mod:`mmviz.plots.interactions`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from mmviz.metrics.probes import PAPER
from mmviz.plots import interactions as plots
from mmviz.plots.images import image_grid
from mmviz.runs.store import RunStore
from mmviz.ui import interactions_runs as data
from mmviz.ui.charts import show_chart
from mmviz.ui.interactions_runs import StudyRun


@st.cache_resource(show_spinner=False, max_entries=48)
def _figure(kind: str, key: tuple, _build: Callable[[], Any]) -> Any:
    return _build()  # one per kind and runs' state, shared by every session: read-only


@st.cache_resource(show_spinner=False, max_entries=1)
def _example_pairs() -> tuple[Any, list[str]]:
    images, hover, labels, mapping = data.example_pairs()
    return image_grid(images, hover, ncols=4, labels=labels, cell_px=150, label_lines=2,
                      col_titles=["pair A · image 1", "pair A · image 2", "pair B · image 1", "pair B · image 2"],
                      title="Real test pairs of CoMM's bimodal Trifeature"), mapping


def example_pairs_section() -> None:
    """Two real test pairs (the mapping holds in one, fails in the other) and what R, U, S are."""
    grid, mapping = _example_pairs()  # the same for everyone: built once per server
    left, right = st.columns([3, 2], gap="large")
    with left:
        show_chart(grid, width="stretch", key="example_pairs")
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


def protocol_note() -> None:
    """How the probes are trained and scored, folded."""
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


def pick_runs(runs: Sequence[StudyRun], key: str) -> list[StudyRun]:
    """The run menu (session key ``key``); returns the chosen runs."""
    by_id = {r.id: r for r in runs}
    picked = st.multiselect(
        "Runs (cross, cross-self, comm on trifeature-pairs)", list(by_id),
        format_func=lambda i: data.run_option(by_id[i]), key=key,
        help="Train them with the presets 'CoMM vs Cross vs Cross+Self' (biased pairs) and '… unbiased "
             "pairs' on the Train page, or with bench/comm_targets.py.")
    return [by_id[i] for i in picked]


def probes_section(store: RunStore, runs: Sequence[StudyRun], chosen: Sequence[StudyRun]) -> None:
    """R, U and S per method by CoMM's protocol beside the paper's, and every chosen run's probes."""
    finals = {r.id: data.final_probes(store, r.id, data.run_history(store, r)) for r in chosen}
    summary = data.protocol_summary(finals, chosen)
    show_chart(_figure("bars", data.run_version(chosen), lambda: plots.rus_bars(summary, PAPER)), width="stretch",
               key="rus_bars")
    if not runs:
        st.info("No runs of the study yet: the bars show the paper's numbers only. On the **Train** page, "
                "launch the presets *CoMM vs Cross vs Cross+Self* (biased pairs) and *… unbiased pairs*, "
                "or run `python bench/comm_targets.py`.")
    elif summary:
        st.caption("Measured bars: R and U from each method's newest selected *unbiased* run, S from its "
                   "newest selected *biased* run. A method without one of the two has a missing bar.")
    if not chosen:
        return
    st.subheader("Both models of each method, all probes")
    numbers = {k: st.column_config.NumberColumn(format="%.1f") for k in data.PROBE_COLUMNS}
    st.dataframe(data.probe_rows(chosen, finals), hide_index=True, width="stretch",
                 column_config={**numbers, "method": st.column_config.TextColumn(width="medium")})
    st.caption("Read U on the unbiased row and S on the biased row. A biased model's high U is "
               "not uniqueness: on its training pairs texture 1 was given away by colour 2.")


def curves_section(store: RunStore, chosen: Sequence[StudyRun]) -> None:
    """Every chosen run's probes over its evaluations."""
    def build():
        curves = [(label, data.run_history(store, r)) for label, r in zip(data.curve_labels(chosen), chosen)]
        return plots.rus_curves(curves, dashed=[not r.biased for r in chosen])

    show_chart(_figure("curves", data.run_version(chosen), build), width="stretch", key="rus_curves")
    st.caption("Solid: trained on biased pairs; dotted: unbiased. Colour: method.")


def ablation_section(store: RunStore, chosen: Sequence[StudyRun]) -> None:
    """Synergy over training of CoMM with and without its per-modality terms (biased runs)."""
    st.markdown(
        "CoMM's loss averages L(Z′, Z″) between the fused embeddings of two views of each pair (new "
        "renders of its two images in random poses, rotated, flipped and shifted) **and**, for each "
        "modality, ½(L(Z_i′, Z″) + L(Z_i″, Z′)) with the other modality masked. The paper's ablation: "
        "with the two-view term alone synergy appears later. Compare S over steps (biased runs)."
    )
    comm_biased = [r for r in chosen if r.method == "CoMM" and r.biased]
    if any(r.two_view_only for r in comm_biased) and any(not r.two_view_only for r in comm_biased):
        def build():
            curves = [(label, data.run_history(store, r))
                      for label, r in zip(data.curve_labels(comm_biased), comm_biased)]
            return plots.rus_curves(curves, keys=("S",),
                                    title="Synergy probe over training: full loss vs two-view term only")

        show_chart(_figure("ablation", data.run_version(comm_biased), build), width="stretch", key="ablation_curves")
    else:
        st.info("Select a biased CoMM run with the full loss and one with `modality_terms` off "
                "(the preset *CoMM: two-view term only vs with per-modality terms*).")
