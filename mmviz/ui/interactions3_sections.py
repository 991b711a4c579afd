"""The Interactions page's three-modality view: a real example triple (two images and a tone),
the protocol, the run menu, probe accuracy per interaction and method beside chance, the probes
over training, and the ablation of CoMM n = 3's per-modality terms. Data from
:mod:`mmviz.ui.interactions3_runs`, figures from :mod:`mmviz.plots.interactions`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from mmviz.data.trifeature_triples import S1_RULE, S2_RULE
from mmviz.errors import MmvizError
from mmviz.metrics.triple_probes import CROSS_CHANCE, CROSS_PREDICTIONS, PROBES
from mmviz.plots import interactions as plots
from mmviz.plots.images import image_grid
from mmviz.runs.store import RunStore
from mmviz.ui import interactions3_runs as data
from mmviz.ui.charts import show_chart
from mmviz.ui.interactions3_runs import TripleRun


@st.cache_resource(show_spinner=False, max_entries=48)
def _figure(kind: str, key: tuple, _build: Callable[[], Any]) -> Any:
    return _build()  # one per kind and runs' state, shared by every session: read-only


@st.cache_resource(show_spinner=False, max_entries=1)
def _examples() -> tuple[Any, Any, dict[str, Any]]:
    ex = data.example_triples()
    grid = image_grid(ex["images"], ex["hover"], ncols=4, labels=ex["labels"], cell_px=130, label_lines=2,
                      col_titles=["A · image 1", "A · image 2", "B · image 1", "B · image 2"],
                      title="Two real test triples: images")
    return grid, plots.tone_figure(ex["tones"], ex["tone_titles"], height=240), ex


def example_triples_section() -> None:
    """Two real test triples (both relations hold in A, neither in B) and what each probe asks."""
    grid, tones, ex = _examples()
    left, right = st.columns([3, 2], gap="large")
    with left:
        show_chart(grid, width="stretch", key="example_triples")
        show_chart(tones, width="stretch", key="example_tones")
    with right:
        st.markdown(
            "Each example has **three modalities**: two Trifeature images and a **tone**, a 1-D signal "
            "(not an image) with a pitch, a rhythm (which four of eight beats sound, looped from any "
            "start) and a bass note.\n\n"
            "- **R = shape.** Both images have the same shape, and the tone's **pitch** is that "
            "shape's note (shape k ↔ pitch k): all three show it.\n"
            "- **U1, U2, U3.** Each modality has its own: image 1's texture, image 2's texture, the "
            "tone's rhythm. Nothing else shows them.\n"
            f"- **S1 = does {S1_RULE} hold?** Only images 1 and 2 *together* can say (the "
            "two-modality study's synergy).\n"
            f"- **S2 = does {S2_RULE} hold?** It needs colour 1, texture 2 *and* the bass: any two "
            "modalities see two of the three, and the third could be anything. Only all three together "
            "can say.\n\n"
            "Example A satisfies both relations, example B neither."
        )
        with st.expander("The texture → colour mapping (S1)"):
            st.markdown("\n".join(f"- {line}" for line in ex["mapping"]))


def protocol_note() -> None:
    with st.expander("The protocol, and the leaks it closes", expanded=False):
        st.markdown(
            "- **Two trainings per method**, as in the two-modality study: on **biased** triples both "
            "relations always hold in training, and that model is probed for **S1** and **S2**; on "
            "**unbiased** triples (colour 2 and the bass drawn freely) the model is probed for **R** and "
            "the **U** terms.\n"
            "- **Probes**: logistic regressions on the frozen representation (CoMM's fused [CLS] output; "
            "the three encoders' pooled features side by side for the alignment baselines), balanced "
            "accuracy, five-fold cross-fitting, on unbiased test triples drawn from every combination. "
            "Each relation holds on exactly half of them, independently.\n"
            "- **Hygiene.** U1 is probed where S1 fails (where it holds, colour 2 gives texture 1 away), "
            "U2 where S2 fails (bass − colour 1 gives texture 2 away). S1 is probed on a subset balanced "
            "in every (shape, colour 2) cell, S2 in every (shape, bass) cell. Tests check that no pair of "
            "modalities' true attributes predicts S2 (50%), while the three-way sum does (100%).\n"
            "- **Chance:** 10% for R and the U terms (10 classes), 50% for S1 and S2."
        )


def pick_runs(runs: Sequence[TripleRun], key: str) -> list[TripleRun]:
    by_id = {r.id: r for r in runs}
    picked = st.multiselect(
        "Runs (comm3, pairwise3, anchor3 on trifeature-triples)", list(by_id),
        format_func=lambda i: data.run_option(by_id[i]), key=key,
        help="Train them with the presets 'Three modalities: CoMM n = 3 vs pairwise vs anchor alignment' "
             "and '… with and without its per-modality terms' on the Train page, or with "
             "bench/triples_targets.py.")
    return [by_id[i] for i in picked]


def probes_section(store: RunStore, runs: Sequence[TripleRun], chosen: Sequence[TripleRun]) -> None:
    """The six probes per method by the protocol, beside chance, and every chosen run's probes."""
    finals = {r.id: data.final_probes(data.run_history(store, r)) for r in chosen}
    summary = data.protocol_summary(finals, chosen)
    show_chart(_figure("bars3", data.run_version(chosen), lambda: plots.rus_bars(
        summary, {}, keys=plots.INTERACTIONS3, titles=plots.TITLES3, chance=plots.CHANCE3, height=470,
        title="Linear-probe accuracy per interaction: three modalities")), width="stretch", key="rus_bars3")
    if not runs:
        st.info("No runs of the three-modality study yet. On the **Train** page, launch the preset "
                "*Three modalities: CoMM n = 3 vs pairwise vs anchor alignment*, or run "
                "`python bench/triples_targets.py`.")
        return
    if summary:
        st.caption("R and U1–U3 from each method's newest selected *unbiased* run, S1 and S2 from its newest "
                   "selected *biased* run; a method without one of the two has missing bars.")
    if not chosen:
        return
    st.subheader("Every chosen run, all six probes")
    numbers = {k: st.column_config.NumberColumn(format="%.1f") for k in data.PROBE_COLUMNS}
    st.dataframe(data.probe_rows(chosen, finals), hide_index=True, width="stretch",
                 column_config={**numbers, "method": st.column_config.TextColumn(width="medium")})
    st.caption("Read the U terms on the unbiased rows and S1, S2 on the biased rows: on biased triples "
               "texture 1 is given away by colour 2, and texture 2 by the bass and colour 1.")


def curves_section(store: RunStore, chosen: Sequence[TripleRun]) -> None:
    def build():
        curves = [(label, data.run_history(store, r)) for label, r in zip(data.curve_labels(chosen), chosen)]
        return plots.rus_curves(curves, keys=PROBES, titles=plots.TITLES3, chance=plots.CHANCE3, cols=3,
                                height=330, dashed=[not r.biased for r in chosen])

    show_chart(_figure("curves3", data.run_version(chosen), build), width="stretch", key="rus_curves3")
    st.caption("Solid: trained on biased triples; dotted: unbiased. Colour: method.")


def ablation_section(store: RunStore, chosen: Sequence[TripleRun]) -> None:
    """CoMM n = 3 with and without (some of) its per-modality terms, biased runs: every probe."""
    st.markdown(
        "CoMM n = 3's loss averages L(Z′, Z″) between the fused embeddings of two views **and**, for "
        "each of the three modalities, ½(L(Z_i′, Z″) + L(Z_i″, Z′)) with the other two masked. Drop "
        "some of the per-modality terms (`masked_terms`) and compare what the fused embedding keeps."
    )
    comm = [r for r in chosen if r.method.startswith("CoMM") and r.biased]
    if not (any(r.ablation for r in comm) and any(not r.ablation for r in comm)):
        st.info("Select a biased CoMM n = 3 run with the full loss and one with fewer terms (the preset "
                "*Three modalities: CoMM n = 3 with and without its per-modality terms*).")
        return
    labels = data.curve_labels(comm)
    finals = {label: data.final_probes(data.run_history(store, r)) for label, r in zip(labels, comm)}
    show_chart(_figure("ablation3_bars", data.run_version(comm), lambda: plots.rus_bars(
        finals, {}, keys=plots.INTERACTIONS3, titles=plots.TITLES3, chance=plots.CHANCE3, height=430,
        title="CoMM n = 3, biased triples: every probe with each loss")), width="stretch", key="ablation3_bars")

    def build():
        curves = [(label, data.run_history(store, r)) for label, r in zip(labels, comm)]
        return plots.rus_curves(curves, keys=("S1", "S2"), titles=plots.TITLES3, chance=plots.CHANCE3,
                                title="Synergy over training: the full loss and its ablations")

    show_chart(_figure("ablation3_curves", data.run_version(comm), build), width="stretch", key="ablation3_curves")
    st.caption("All bars of a biased run: its U terms are read through the relations, not uniqueness.")


def cross_views_section(store: RunStore, chosen: Sequence[TripleRun]) -> None:
    """Why S1 is captured and S2 is not: what each masked view of a biased CoMM n = 3 run's fusion
    predicts of another modality's side of each relation (linear probes, beside chance)."""
    st.markdown(
        "A synergy probe on the fused embedding can only read a relation the network has learnt to "
        "*check*. In CoMM's loss, each **masked view** (one modality alone through the same fusion) "
        "must match the fused embedding of the whole triple. On biased training triples, image 1 "
        "alone can predict **colour 2** (it is texture 1 relabelled), so image 1's term teaches the "
        "fusion S1's other side. The **bass** of S2 is colour 1 + texture 2 mod 10: uniform given "
        "either image, so no single-modality view can predict it, and CoMM's loss has no view of "
        "*two* modalities that would have to compute it. Below: linear probes of the other side of "
        "each relation from each masked view's fused output, on unbiased test triples where the "
        "relation holds."
    )
    fused = data.fused_runs(chosen)
    if not fused:
        st.info("Select a CoMM n = 3 run trained on biased triples (e.g. *CoMM n = 3 · biased*; its "
                "ablations and the pair-view extension compare well beside it).")
        return
    measured: dict[str, dict[str, float]] = {}
    with st.status(f"Probing the masked views of {len(fused)} run(s)…", expanded=False) as status:
        for label, run in zip(data.curve_labels(fused), fused):
            status.update(label=f"Probing the masked views of {label}…")
            try:
                measured[label] = data.cross_view_percent(store, str(store.home), run.id, run.step, run.updated)
            except MmvizError as err:
                st.warning(f"{label}: {err}")
        status.update(label=f"Masked views of {len(measured)} run(s) probed", state="complete")
    if not measured:
        return
    keys = [cell.key for cell in CROSS_PREDICTIONS]
    show_chart(_figure("cross_views", data.run_version(fused), lambda: plots.rus_bars(
        measured, {}, keys=keys, titles={c.key: c.title for c in CROSS_PREDICTIONS},
        chance={k: 100 * CROSS_CHANCE for k in keys}, height=450, suffix="",
        xaxis_title="masked view → attribute it is probed for",
        title="What one masked view predicts of another modality (biased runs)")),
        width="stretch", key="cross_views")
    st.caption(
        "Read it left to right. **Image 1 → colour 2** is high where the image-1 term is in the loss "
        "and S1 leaves chance (and low in the two-view ablation, which loses S1). **Image 1 → bass** "
        "and **image 2 → bass** are at chance by construction. **Images 1 + 2 → bass** is the view "
        "S2 needs: CoMM's loss never trains it, and mmviz's pair-view extension, which does, lifts "
        "it only part of the way. **Tone → bass** is the ceiling. Each bar is a 5-fold linear probe "
        "on the first 2,048 test triples."
    )
