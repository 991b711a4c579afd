"""The Data page's sections (a built-in dataset with its parameters, and a checker for your own
embeddings) and its views: one function per kind of dataset, each drawing what that data is."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from mmviz import data as datasets
from mmviz.data.base import DatasetInfo
from mmviz.data.embeddings_io import summary
from mmviz.data.gaussian import sample_canonical_correlations
from mmviz.data.ocean import stream_on_grid
from mmviz.errors import MmvizError
from mmviz.geometry.constants import GEOMETRY_NAMES
from mmviz.plots import data_views as plots
from mmviz.plots import interactions as interaction_plots
from mmviz.plots import ocean as ocean_plots
from mmviz.plots.images import image_grid
from mmviz.ui.charts import show_chart
from mmviz.ui.forms import param_form
from mmviz.ui.uploads import load_uploaded


@st.cache_resource(max_entries=8, show_spinner=False)
def load(name: str, split: str, params_json: str):
    """A dataset through the registry (itself cached on disk); kept in memory across reruns."""
    return datasets.load(name, split=split, **json.loads(params_json))


@st.cache_resource(max_entries=32, show_spinner=False)
def _figure(data_key: str, chart: str, _build: Callable[[], Any]) -> Any:
    return _build()


def shared(data_key: str, chart: str, build: Callable[[], Any]) -> Any:
    """``build()``: a figure of the dataset loaded as ``data_key`` (name, split and parameters),
    built once per dataset and chart for every session of the server (read-only: never mutate).
    Without a key, built afresh."""
    return _figure(data_key, chart, build) if data_key else build()


def _wrap(text: str, width: int = 14) -> str:
    """Break a caption into two lines at the space nearest ``width`` characters."""
    if len(text) <= width or " " not in text:
        return text
    cut = min((i for i, ch in enumerate(text) if ch == " "), key=lambda i: abs(i - width))
    return text[:cut] + "<br>" + text[cut + 1:]


def trifeature(data, key: str = "") -> None:
    meta, images = data.metadata, data.modalities["image"]
    n = min(len(meta), 60)
    show_chart(shared(key, "grid", lambda: image_grid(
               images[:n], [f"{r['color']} {r['texture']} {r['shape']}" for _, r in meta.head(n).iterrows()],
               ncols=10, labels=[f"{r['shape']}" for _, r in meta.head(n).iterrows()],
               title=f"{n} of {len(meta):,} images (hover for all three attributes)")),
               width="stretch", key="grid")
    counts = pd.DataFrame({a: meta[a].value_counts().sort_index() for a in ("shape", "texture", "color")})
    with st.expander("How often each attribute value occurs"):
        st.dataframe(counts, width="stretch")


def _pairs_grid(data):
    meta = data.metadata
    n = min(len(meta), 12)
    pairs = np.empty((2 * n,) + data.modalities["image1"].shape[1:], dtype=np.uint8)
    pairs[0::2], pairs[1::2] = data.modalities["image1"][:n], data.modalities["image2"][:n]
    hover, labels = [], []
    for _, r in meta.head(n).iterrows():
        for k in (1, 2):
            hover.append(f"image {k}: {r[f'color{k}']} {r[f'texture{k}']} {r[f'shape{k}']}<br>"
                         f"shared shape = {r['shape1']}, synergy label = {r['synergy']}")
        labels += [f"{r['texture1']}", f"{r['color2']} · S={r['synergy']}"]
    return image_grid(pairs, hover, ncols=8, labels=labels, col_titles=["image 1", "image 2"] * 4,
                      title="Pairs: same shape (R), own textures (U), texture 1 → colour 2 (S)")


def trifeature_pairs(data, key: str = "") -> None:
    meta = data.metadata
    show_chart(shared(key, "grid", lambda: _pairs_grid(data)), width="stretch", key="grid")
    left, right = st.columns([1, 2])
    left.dataframe(pd.DataFrame({"texture of image 1": data.extras["textures"],
                                 "→ colour of image 2": data.extras["mapping_names"]}),
                   hide_index=True, width="stretch")
    right.markdown(
        "- **Redundancy**: both images share their *shape*, so either one predicts it.\n"
        "- **Uniqueness**: each image has its own *texture*; only that image knows it.\n"
        "- **Synergy**: the label *S* is 1 when the colour of image 2 is the one the table assigns to "
        "the texture of image 1 — neither image alone can tell.\n\n"
        f"This split: {meta['synergy'].mean():.0%} of pairs satisfy the mapping."
    )


def _triples_grid(data):
    meta = data.metadata
    n = min(len(meta), 8)
    pairs = np.empty((2 * n,) + data.modalities["image1"].shape[1:], dtype=np.uint8)
    pairs[0::2], pairs[1::2] = data.modalities["image1"][:n], data.modalities["image2"][:n]
    hover, labels = [], []
    for i, r in meta.head(n).iterrows():
        for k in (1, 2):
            hover.append(f"example {i + 1}, image {k}: {r[f'color{k}']} {r[f'texture{k}']} {r['shape']}<br>"
                         f"tone: {r['pitch']}, {r['rhythm']}, {r['bass']}<br>"
                         f"S1 = {r['synergy12']}, S2 = {r['synergy123']}")
        labels += [f"{i + 1}: {r['texture1']}", f"{r['color2']} · S1={r['synergy12']}"]
    return image_grid(pairs, hover, ncols=8, labels=labels, col_titles=["image 1", "image 2"] * 4,
                      title="Triples: images 1 and 2 (the tones below); same shape (R), own textures (U)")


def _triples_tones(data):
    meta = data.metadata
    titles = [f"tone {i + 1}: {r['pitch']}, {r['bass']}<br>{r['rhythm']} · S2 = {r['synergy123']}"
              for i, r in meta.head(4).iterrows()]
    return interaction_plots.tone_figure(data.modalities["tone"][:4], titles, cols=2)


def trifeature_triples(data, key: str = "") -> None:
    meta = data.metadata
    show_chart(shared(key, "grid", lambda: _triples_grid(data)), width="stretch", key="grid")
    show_chart(shared(key, "tones", lambda: _triples_tones(data)), width="stretch", key="tones")
    st.markdown(
        "- **Redundancy**: the *shape* of both images is the tone's *pitch* (shape k ↔ pitch k).\n"
        "- **Uniqueness**: image 1's texture, image 2's texture, the tone's rhythm (which four of its "
        "eight beats sound, looped from any start).\n"
        f"- **Synergy of two** (S1): {data.extras['s1_rule']} (the mapping of trifeature-pairs).\n"
        f"- **Synergy of three** (S2): {data.extras['s2_rule']}: no two modalities can tell.\n\n"
        f"This split: S1 holds for {meta['synergy12'].mean():.0%} of examples, S2 for "
        f"{meta['synergy123'].mean():.0%}."
    )


def _captions_grid(data):
    meta, images = data.metadata, data.modalities["image"]
    picks = np.concatenate([np.flatnonzero(meta["level"].to_numpy() == lvl)[:8] for lvl in (1, 2, 3)])
    picks = np.concatenate([picks, np.flatnonzero(meta["level"].to_numpy() == 3)[8:16]])
    return image_grid(images[picks], [f"“{meta['caption'][i]}” (level {meta['level'][i]})<br>image: "
                      f"{meta['color'][i]} {meta['texture'][i]} {meta['shape'][i]}"
                      for i in picks],
                      ncols=8, labels=[_wrap(meta["caption"][i]) for i in picks], label_lines=2,
                      cell_px=100,
                      title="Captions name 1, 2 or 3 of the image's attributes (rows: level 1, 2, 3)")


def trifeature_captions(data, key: str = "") -> None:
    show_chart(shared(key, "grid", lambda: _captions_grid(data)), width="stretch", key="grid")
    captions = data.extras["captions"]
    table = captions.groupby("level").size().rename("captions").reset_index()
    left, right = st.columns(2)
    show_chart(shared(key, "levels", lambda: plots.level_counts_figure(table)), width="stretch", key="levels",
               where=left)
    right.markdown(
        "A caption **entails** every image that has the attributes it names: *a star* covers 100 of the "
        "1,000 attribute combinations, *a red star* 10, *a red dotted star* exactly one. Generic captions "
        "should end up near the origin of a hyperbolic embedding, specific ones further out, images furthest."
    )
    right.dataframe(captions.groupby("level").head(3)[["level", "caption"]], hide_index=True, width="stretch")


def _canonical_pairs(data):
    model = data.extras["model"]
    a, b = model.canonical_variates(data.modalities["u"], data.modalities["v"])
    k = int(data.params["k"])
    labels = data.metadata["label"] if "label" in data.metadata else None
    return plots.canonical_pairs_figure(a[:, :k], b[:, :k], model.canonical_correlations[:k], labels)


def gaussian(data, key: str = "") -> None:
    model = data.extras["model"]
    u, v = data.modalities["u"], data.modalities["v"]
    k = int(data.params["k"])
    show_chart(shared(key, "pairs", lambda: _canonical_pairs(data)), width="stretch", key="pairs")
    left, right = st.columns(2)
    show_chart(shared(key, "spectrum", lambda: plots.spectrum_figure(
               model.canonical_correlations, sample_canonical_correlations(u, v))),
               width="stretch", key="spectrum", where=left)
    right.markdown(
        f"u ∈ ℝ^{model.du} and v ∈ ℝ^{model.dv} are jointly Gaussian; they share a {k}-dimensional signal. "
        "Canonical correlation analysis finds the directions a, b in which u and v are most correlated: "
        "these are what a linear contrastive encoder should learn. The bars compare the exact population "
        "values with this sample's."
    )
    right.metric("mutual information I(u; v) (nats)", f"{model.mutual_information():.3f}"
                 if not int(data.params["n_classes"]) else "mixture: no closed form")


def _digits_grid(data):
    meta, images = data.metadata, data.modalities["image"]
    picks = np.concatenate([np.flatnonzero(meta["label"].to_numpy() == d)[:6] for d in range(10)])
    order = picks.reshape(10, -1).T.ravel() if len(picks) == 60 else picks
    return image_grid(images[order], [f"“{meta['caption'][i]}” (label {meta['label'][i]})" for i in order],
                      ncols=10, labels=[meta["caption"][i] for i in order],
                      title="scikit-learn's handwritten digits, each with a caption")


def digits(data, key: str = "") -> None:
    show_chart(shared(key, "grid", lambda: _digits_grid(data)), width="stretch", key="grid")


def hierarchy(data, key: str = "") -> None:
    parent = data.extras["tree_parent"]
    left, right = st.columns([3, 2])
    show_chart(shared(key, "sunburst", lambda: plots.hierarchy_sunburst(data.ids, data.names, parent, data.depth)),
               width="stretch", key="sunburst", where=left)
    show_chart(shared(key, "depths", lambda: plots.depth_histogram(data.depth)), width="stretch", key="depths",
               where=right)
    m1, m2, m3 = right.columns(3)
    m1.metric("nodes", f"{len(data):,}")
    m2.metric("edges", f"{len(data.edges):,}")
    m3.metric("closure pairs", f"{len(data.closure):,}")
    right.caption("Closure pairs = every (descendant, ancestor) pair: what a hierarchy embedding is scored on.")


def _drifters(data, index: int):
    regime = int(data.metadata["regime"][index])
    return ocean_plots.drifters_figure(stream_on_grid(data, index), data.modalities["tracks"][index],
                           title=f"Flow {index}: regime {regime} (eddies at wavenumber {regime + 1}), "
                                 f"{data.modalities['tracks'].shape[1]} drifters")


def ocean(data, key: str = "") -> None:
    index = int(st.number_input("flow", 0, len(data) - 1, 0, key="ocean_flow"))
    left, right = st.columns([3, 2])
    show_chart(shared(key, f"drifters-{index}", lambda: _drifters(data, index)), width="stretch",
               key="drifters", where=left)
    field = data.modalities["field"][index]
    observed = np.where(field[2] > 0, ocean_plots.speed(field[:2]), np.nan)
    right.markdown(
        "**Lagrangian**: the drifters (press ▶) move along the stream function's contours, where the flow runs; "
        "their noisy positions are one modality. **Eulerian**: the flow's velocity on the coarse grid, noisy and "
        "with masked cells, is the other (below: its speed; blank cells are masked).")
    show_chart(ocean_plots.field_heatmap(observed, "observed speed on the grid"), width="stretch",
               key="ocean_field", where=right)


VIEWS = {"ocean-drifters": ocean,
         "trifeature": trifeature, "trifeature-pairs": trifeature_pairs, "trifeature-captions": trifeature_captions,
         "trifeature-triples": trifeature_triples,
         "gaussian": gaussian, "digits": digits}


def show(name: str, data, key: str = "") -> None:
    """Draw ``data`` (a loaded dataset named ``name``) in the view for its kind; ``key`` (name,
    split and parameters) shares its figures between sessions."""
    if isinstance(data, datasets.Hierarchy):
        hierarchy(data, key)
    else:
        VIEWS[name](data, key)


# --- the page's sections ------------------------------------------------------------------------

def shown_datasets() -> dict[str, DatasetInfo]:
    """The registered datasets the page shows (all but users' own files), by name."""
    return {info.name: info for info in datasets.list_datasets() if not info.user_file}


def builtin_section(infos: dict[str, DatasetInfo], prefix: str) -> None:
    """Pick a dataset and a split, set its parameters, and see it (keys ``prefix + "dataset"``,
    ``prefix + "split"``; parameters under ``params.<dataset>``)."""
    pick, split_col = st.columns([3, 1])
    name = pick.selectbox("dataset", list(infos), key=prefix + "dataset",
                          format_func=lambda n: f"{n} — {infos[n].description.split('.')[0]}")
    info = infos[name]
    splits = list(info.splits)
    if st.session_state.get(prefix + "split") not in splits:
        st.session_state[prefix + "split"] = splits[0]
    split = split_col.radio("split", splits, key=prefix + "split", horizontal=True)
    st.caption(info.description)
    params = param_form(info.params, key=f"params.{name}") if info.params else {}
    params_json = json.dumps(params, sort_keys=True)
    try:
        with st.spinner(f"Generating {name}…"):
            data = load(name, split, params_json)
    except MmvizError as err:
        st.error(str(err))
    else:
        show(name, data, f"{name}|{split}|{params_json}")


def upload_section() -> None:
    """Check an embeddings file: what the loader reads from it, its summary and metadata."""
    st.markdown(
        "Load embeddings from a file to check them before using them in mmviz: `.npy`, `.npz`, `.parquet`, "
        "`.csv`, `.tsv`, or TensorBoard projector's `vectors.tsv` + `metadata.tsv` (upload both). "
        "Optional metadata columns: modality, label, text, depth, parent, level. Nothing is unpickled. "
        "For a Hugging Face dataset folder, use `python -m mmviz check FOLDER`."
    )
    g_col, c_col = st.columns(2)
    geometry = g_col.selectbox("geometry the file is in", ("as declared in the file",) + GEOMETRY_NAMES)
    curvature = c_col.number_input("curvature c", 0.01, 100.0, 1.0, help="Hyperbolic geometries: curvature −c.")
    files = st.file_uploader("embeddings file(s)", type=["npy", "npz", "parquet", "csv", "tsv"],
                             accept_multiple_files=True)
    if not files:
        return
    declared = geometry.startswith("as declared")
    try:
        es = load_uploaded(files, None if declared else geometry, None if declared else curvature)
    except MmvizError as err:
        st.error(f"This file can't be used: {err}")
        return
    info = summary(es)
    st.success(f"{info['n']:,} points of dimension {info['dim']} in {info['geometry']} geometry "
               f"(curvature {info['curvature']:g}); norms from {info['norm_min']:.3g} "
               f"to {info['norm_max']:.3g}.")
    st.json(info, expanded=False)
    st.dataframe(es.metadata.head(200), width="stretch")
