"""Beyond pairs: composition, negation and unlearning, watched on the disk (MERU vs CLIP)."""

import pandas as pd
import streamlit as st

from mmviz.ui.shell import page_setup

page_setup()

from mmviz.data.captions import COLORS, caption_text  # noqa: E402
from mmviz.data.trifeature import SHAPES  # noqa: E402
from mmviz.data.trifeature_datasets import EXCLUDE_CHOICES  # noqa: E402
from mmviz.errors import MmvizError  # noqa: E402
from mmviz.plots import beyond as plots  # noqa: E402
from mmviz.runs.unlearn_params import METHODS  # noqa: E402
from mmviz.ui import beyond_lab as lab  # noqa: E402
from mmviz.ui import classroom, page_params  # noqa: E402
from mmviz.ui.charts import show_chart  # noqa: E402
from mmviz.ui.figure_cache import shared_figure  # noqa: E402
from mmviz.ui.pages import page_entry  # noqa: E402
from mmviz.ui.train_runs import get_store  # noqa: E402
from mmviz.ui.url_state import seed_from_url, write_to_url  # noqa: E402

P = page_entry("beyond").state_prefix
store = get_store()
runs = lab.caption_runs(store)
URL = page_params.beyond_url(runs)
seed_from_url(URL, P)
names = {r["id"]: lab.run_label(r) for r in runs}
PCT = st.column_config.NumberColumn(format="percent")

st.title("Beyond pairs")
st.markdown(
    "Contrastive learning aligns *pairs*. Three things a pair does not say: how attributes **compose** "
    "(\"a red star\" from \"a star\" and \"something red\"), what **not** means (\"a star that is not red\"), and "
    "how to **forget** a concept once it is learned. Trifeature captions make each exact: attributes combine "
    "freely, entailment is known, and every concept has a known set of images. Each study runs on the shipped "
    "reference runs, and on any CLIP or MERU run trained on Trifeature captions."
)
if not runs:
    st.info("No finished run on Trifeature captions yet: the reference runs install with the app, or train one "
            "on the Train page.")
    st.stop()
study = st.segmented_control("study", lab.STUDIES, key=P + "study", format_func=lab.STUDY_LABELS.get,
                             label_visibility="collapsed") or "composition"
report = lab.bench_report()


def _pick(label: str, key: str, help: str | None = None) -> str:
    return st.selectbox(label, list(names), key=P + key, format_func=names.get, help=help)


def _stop_on(err: Exception) -> None:
    st.error(f"This run can't be studied: {err}")
    st.stop()


# --------------------------------------------------------------------------- composition
if study == "composition":
    st.header("Composition: naming combinations never seen", divider="gray")
    run_id = _pick("run", "run", "The shipped held-out-combination runs trained on 800 of the 1,000 (shape, texture, "
                   "colour) triples; any other run is measured the same way.")
    try:
        with st.spinner("Measuring on 2,000 held-out images…"):
            res = lab.composition_result(store, run_id)
    except MmvizError as err:
        _stop_on(err)
    held = store.get_run(run_id)["config"].get("dataset_params", {}).get("heldout_combinations", False)
    acc = res["accuracy"].rename(columns={"triple": "whole triple", "caption_r1": "caption → image R@1"})
    st.dataframe(acc, hide_index=True, width="stretch",
                 column_config={c: PCT for c in ("shape", "texture", "color", "whole triple", "caption → image R@1")})
    st.caption(
        ("This run never saw the **unseen** triples (the data layer's rule: (shape + texture + colour) mod 5 = 0). "
         if held else "This run saw every triple in training, so *unseen* only names the same 200 triples. ")
        + "**Whole triple**: the image's level-3 caption is the nearest of all 1,000. **Caption → image**: each "
        "level-3 caption's nearest held-out image has its three attributes.")
    if report:
        comp = pd.DataFrame(report["composition"])
        comp = comp[comp["trained on"] == "80% of triples"]
        comp = comp.assign(model=comp.model.str.upper(), group=comp.group + " triples")
        show_chart(shared_figure(plots.grouped_bars, comp, "model", "triple", "group",
                                 title="Whole-triple zero-shot accuracy of the held-out-combination runs (bench)",
                                 y_title="accuracy", colors=plots.SEEN_UNSEEN),
                   width="stretch", key="composition_bars")
    st.subheader("Is \"a red star\" built from \"a star\" and \"something red\"?")
    st.caption("Pick any shape and colour: the composition, its two parents and held-out images of it.")
    c1, c2 = st.columns(2)
    shape = c1.selectbox("shape", range(10), key=P + "shape", format_func=lambda i: SHAPES[i])
    color = c2.selectbox("colour", range(10), key=P + "color", format_func=lambda i: COLORS[i])
    left, right = st.columns([3, 2])
    points = lab.composition_disk(store, run_id, shape, color)
    show_chart(shared_figure(plots.composition_figure, points, res["hyperbolic"]), width="stretch",
               key="composition_disk", where=left)
    structure = res["structure"].drop(columns="captions").rename(
        columns={"beyond_parents": "beyond its parents", "in_all_cones": "in its parents' cones",
                 "parent_depth": "parents' depth"})
    right.markdown(f"**{caption_text(shape=shape, color=color)}** and its parents; radius: "
                   + ("distance from the origin" if res["hyperbolic"] else "CLIP's raw norm (order only)")
                   + ". Hover a star for its depth and cones.")
    st.markdown("**Every composed caption** (300 naming two attributes, 1,000 naming three) against the "
                "level-1 captions it composes:")
    st.dataframe(structure, hide_index=True, width="stretch",
                 column_config={**{c: PCT for c in ("beyond its parents", "in its parents' cones")},
                                **{c: st.column_config.NumberColumn(format="%.3f")
                                   for c in ("depth", "parents' depth")}})
    off = res["offsets"]
    right.markdown(
        "**Attribute offsets**: emb(\"a red star\") − emb(\"a star\") against "
        f"emb(\"a red square\") − emb(\"a square\") has cosine **{off['same_colour']:.2f}** on average "
        f"(different colours: {off['other_colour']:.2f}); "
        f"the analogy \"a red star\" − \"a star\" + \"a square\" lands on \"a red square\" **{off['analogy']:.0%}** of "
        "the time among the 100 colour–shape captions.")
    st.caption("MERU's loss asks each caption's cone to hold its *images*, never its more specific captions: "
               "compositions sit further out than their parents, but whether they sit inside the parents' cones is "
               "not trained. CLIP keeps norms the other way round: generic captions have the larger raw norm.")
    t1, t2 = st.columns([1, 3])
    model = t1.selectbox("train live", ("clip", "meru"), key=P + "train_model", format_func=str.upper)
    t2.caption("The held-out-combination run of the reference config, from scratch: 2,500 steps, about 6 (CLIP) "
               "to 8 (MERU) minutes on two CPU cores. It appears in the run menu above when it finishes.")
    if t2.button(f"Train {model.upper()} on 80% of the triples", icon=":material/play_arrow:"):
        try:
            launched = classroom.launch_all([lab.heldout_launch(model)], store)
            st.success(f"Launched {launched[0]}: follow it on the [Train page](/train).")
        except MmvizError as err:
            st.error(f"The run can't start: {err}")

# --------------------------------------------------------------------------- negation
elif study == "negation":
    st.header("Negation: \"a star that is not red\"", divider="gray")
    run_id = _pick("run", "neg", "A run and, when it has one, its fine-tune with negated captions.")
    variants = {run_id: "as trained"}
    for child in lab.negation_children(store, run_id)[:1]:
        variants[child["id"]] = "fine-tuned with negated captions"
    try:
        with st.spinner("Asking 40,000 ranking questions…"):
            results = {rid: lab.negation_result(store, rid) for rid in variants}
    except MmvizError as err:
        _stop_on(err)
    rows = []
    for rid, label in variants.items():
        summary = results[rid]["summary"]
        for _, r in summary[summary.negations != "all"].iterrows():
            for direction in ("negated", "affirmed", "balanced"):
                rows.append({"variant": label, "question": f"{direction}<br>{r.negations} negations",
                             "accuracy": r[direction]})
    frame = pd.DataFrame(rows)
    show_chart(shared_figure(plots.grouped_bars, frame, "question", "accuracy", "variant", title="Which caption wins?",
                                  y_title="accuracy", chance=0.5, colors=plots.SEEN_UNSEEN), width="stretch",
               key="negation_bars")
    st.caption(
        "**Negated**: for an image whose colour (or texture) is not x, does \"a star that is not x\" beat "
        "\"a x star\"? **Affirmed**: for a red star, does \"a red star\" beat \"a star that is not red\"? A model that "
        "ignores *not* answers the first wrong; one that only learned to prefer *not* fails the second. **Held-out "
        "negations** ((shape + negated value) mod 5 = 0) never appear in fine-tuning. A model trained without "
        "negations reads *not*, *that* and *is* as unknown words.")
    if len(variants) == 1:
        st.info("This run has no fine-tune with negated captions yet: launch one below (400 steps, about two minutes "
                "on two CPU cores).")
    st.subheader("Where do negated captions sit?")
    cols = st.columns(len(variants))
    for col, (rid, label) in zip(cols, variants.items()):
        depths = results[rid]["depths"].drop(columns="example").rename(
            columns={"in_shape_cone": "inside the cone of \"a star\""})
        col.markdown(f"**{label}**")
        col.dataframe(depths, hide_index=True, width="stretch",
                      column_config={"inside the cone of \"a star\"": PCT,
                                     "depth": st.column_config.NumberColumn(format="%.3f")})
    st.caption("Depth: distance from the origin (MERU) or raw norm (CLIP), averaged over the 10 shapes (and 10 "
               "colours). \"Not a star\" is true of 90% of images: a generic caption, which MERU should put near the "
               "origin. For \"not a star\" the cone column asks whether it is inside any shape's cone.")
    if st.button("Fine-tune this run with negated captions", icon=":material/play_arrow:"):
        try:
            launched = classroom.launch_all([lab.negation_launch(store, run_id)], store)
            st.success(f"Launched {launched[0]}: follow it on the [Train page](/train); it appears here when it "
                       "finishes.")
        except MmvizError as err:
            st.error(f"The run can't start: {err}")

# --------------------------------------------------------------------------- unlearning
else:
    st.header("Unlearning: forget a concept", divider="gray")
    c1, c2, c3 = st.columns([3, 2, 2])
    with c1:
        parent = _pick("original run", "parent")
    concept = c2.selectbox("concept", list(EXCLUDE_CHOICES[1:]), key=P + "concept")
    method = c3.selectbox("method", list(METHODS), key=P + "method", help="\n\n".join(
        f"**{k}**: {v}" for k, v in METHODS.items()))
    kids = [k for k in lab.unlearning_children(store, parent) if k["config"]["unlearn"]["concept"] == concept]
    done = [k for k in kids if k["status"] == "finished"]
    b1, b2 = st.columns([2, 3])
    if b1.button(f"Unlearn {concept.split(':')[1]} with {method}", type="primary", icon=":material/play_arrow:",
                 help="A child run of the original: 150 steps, under two minutes on two CPU cores."):
        try:
            launched = classroom.launch_all([lab.unlearn_launch(store, parent, concept, method)], store)
            st.success(f"Launched {launched[0]}: its forget and retain accuracy are live on the Train page.")
        except MmvizError as err:
            st.error(f"The run can't start: {err}")
    b2.markdown(":material/model_training: [Forget and retain curves on the Train page](/train)")
    running = [k for k in kids if k["status"] in ("queued", "running")]
    if running:
        st.info(f"{len(running)} unlearning run(s) of this parent in progress: " + ", ".join(k["id"] for k in running))
    if not done:
        st.info(f"No finished unlearning of {concept} from this run yet: launch one above.")
        write_to_url(URL, P)
        st.stop()
    child = st.selectbox("unlearned run", [k["id"] for k in done], key=P + "child",
                         format_func=lambda i: names.get(i, i))
    gold = lab.gold_standard(parent, concept)
    compared = {"original": parent, "unlearned": child}
    if gold and store.has_run(gold):
        compared["gold standard (retrained without it)"] = gold
    try:
        with st.spinner("Measuring forget, retain and membership…"):
            summaries = {label: lab.unlearning_result(store, rid, concept) for label, rid in compared.items()}
            moved = lab.before_after(store, parent, child, concept)
    except MmvizError as err:
        _stop_on(err)
    table = pd.DataFrame([{"model": label, **s} for label, s in summaries.items()])
    keep = ["model", "forget_acc", "retain_acc", "mia_auc", "depth_concept_images", "depth_concept_captions"]
    keep += [c for c in ("in_own_cone", "in_other_cone") if c in table]
    labels = {"forget_acc": "forget", "retain_acc": "retain", "mia_auc": "membership AUC",
              "depth_concept_images": "depth: images", "depth_concept_captions": "depth: captions",
              "in_own_cone": "in own cone", "in_other_cone": "in another's cone"}
    st.dataframe(table[keep].rename(columns=labels), hide_index=True, width="stretch",
                 column_config={**{labels[c]: PCT for c in ("forget_acc", "retain_acc", "in_own_cone",
                                                            "in_other_cone")},
                                **{labels[c]: st.column_config.NumberColumn(format="%.3f")
                                   for c in ("mia_auc", "depth_concept_images", "depth_concept_captions")}})
    st.caption(
        "On 2,000 held-out images. **Forget accuracy**: zero-shot accuracy on the concept's attribute for images "
        "with it (chance 10%). **Retain**: the three attributes on the other images. **Membership AUC**: can the "
        "log-probability of a pair's own caption tell the forget set's training pairs from held-out pairs with the "
        "concept? 0.5 = no. **Depth**: distance from the origin (MERU) or raw norm (CLIP) of its images and of the "
        "captions naming it. **Cones** (MERU): the fraction of its images inside the cone of its own level-1 "
        "caption (\"something red\"), and inside another value's (\"something blue\", …).")
    show_chart(shared_figure(plots.before_after_figure, moved, concept, lab.is_hyperbolic(lab.model_of(store, parent))),
               width="stretch", key="unlearning_disk")
    if report:
        rows = pd.DataFrame(report["unlearning"])
        st.markdown("**The bench** (`bench/beyond_targets.py`: forget red from the reference runs, each method, "
                    "timed on two CPU cores; targets: forget within 5 points of the gold standard, retain within 5 "
                    "points of the original, ≤ 120 s)")
        cols = [c for c in ("model", "method", "until_chance", "forget_acc", "retain_acc", "mia_auc", "wall_s",
                            "passes") if c in rows]
        st.dataframe(rows[cols].rename(columns=labels), hide_index=True, width="stretch",
                     column_config={labels["forget_acc"]: PCT, labels["retain_acc"]: PCT,
                                    "until_chance": st.column_config.CheckboxColumn(
                                        "stops at chance", help="The forget term stops once the forget accuracy is "
                                                                "at chance (10%); otherwise it runs all 150 steps."),
                                    "wall_s": st.column_config.NumberColumn("seconds", format="%.0f")})

write_to_url(URL, P)
