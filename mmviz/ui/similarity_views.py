"""The Similarity page's sections: the toy batch, a batch of real pairs (matrices, loss bars,
hardest negatives), two runs side by side, batch size, retrieval and zero-shot, the gap.

Each function lays out widgets and figures for data the page passes in; the maths is in
:mod:`mmviz.losses.batch` and :mod:`mmviz.metrics.similarity`, the figures in
:mod:`mmviz.plots.similarity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from mmviz.losses import batch as lb
from mmviz.metrics import ATTRIBUTES
from mmviz.metrics import similarity as ms
from mmviz.plots import similarity as ps
from mmviz.ui import similarity_cache as cache
from mmviz.ui.charts import show_chart
from mmviz.ui.similarity_data import Pairs, describe, image_side
from mmviz.ui.url_state import UrlParam, url_slider

TOY_TAUS = (0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0, 2.0)
LEFT_VIEWS = {"similarity": "raw similarity", "logits": "logits (similarity ÷ τ)"}
RIGHT_VIEWS = {"rows": "row softmax + loss per row", "cols": "column softmax + loss per column"}
TOY_URL = {
    "toy_b": UrlParam(8, 2, 64), "toy_tau": UrlParam(0.1, choices=TOY_TAUS),
    "toy_pos": UrlParam(0.8, -1.0, 1.0, step=0.05), "toy_neg": UrlParam(0.2, -1.0, 1.0, step=0.05),
    "toy_noise": UrlParam(0.05, 0.0, 0.5, step=0.01),
}
"""The toy batch's URL parameters (the page adds them to its own)."""


# --- toy batch --------------------------------------------------------------------------------

def toy_section(prefix: str = "") -> None:
    """A synthetic batch: the user sets B, τ, the positive and negative similarity (widget keys
    ``prefix +`` the keys of :data:`TOY_URL`)."""
    st.markdown(
        "A made-up batch of **B** image–text pairs. Every positive pair (the diagonal) has cosine "
        "similarity **s₊**, every other pair **s₋**, plus some noise. Divide by the temperature τ, take "
        "the softmax of each row, and the loss of row i is −log of its diagonal entry. Drag τ down and "
        "watch the softmax sharpen; bring s₋ up to s₊ and the loss climbs to log B (chance).")
    c1, c2, c3, c4, c5 = st.columns(5)
    b = url_slider("batch size B", "toy_b", TOY_URL, prefix, where=c1)
    tau = url_slider("temperature τ", "toy_tau", TOY_URL, prefix, where=c2)
    s_pos = url_slider("positive similarity s₊", "toy_pos", TOY_URL, prefix, where=c3)
    s_neg = url_slider("negative similarity s₋", "toy_neg", TOY_URL, prefix, where=c4)
    noise = url_slider("noise (sd)", "toy_noise", TOY_URL, prefix, where=c5)
    sim = lb.toy_similarity(b, s_pos, s_neg, noise, seed=0)
    lg = lb.logits(sim, tau)
    p = lb.row_softmax(lg)
    m = st.columns(5)
    m[0].metric("batch loss", f"{lb.batch_loss(lg):.4f}")
    m[1].metric("without noise", f"{lb.toy_row_loss(b, s_pos, s_neg, tau):.4f}",
                help="log(1 + (B − 1)·exp((s₋ − s₊)/τ)), every row alike")
    m[2].metric("chance: log B", f"{np.log(b):.4f}")
    m[3].metric("mean p(positive)", f"{np.mean(np.diagonal(p)):.3f}")
    m[4].metric("negatives per pair", f"{lb.negatives_per_pair(b)}",
                help="2B − 2: B − 1 in its row, B − 1 in its column")
    rows = [f"image {i}" for i in range(b)]
    cols = [f"text {i}" for i in range(b)]
    left, right = st.columns(2)
    show_chart(ps.matrix_figure(sim, rows, cols, title="Cosine similarity", value_name="cosine",
               colorscale=ps.DIVERGING, zmin=-1, zmax=1, row_axis="images",
               col_axis="texts", height=460), key="toy_sim", width="stretch", where=left)
    show_chart(ps.matrix_figure(p, rows, cols, title=f"p(text | image) at τ = {tau:g}",
               value_name="p", colorscale=ps.PROBABILITY, zmin=0, zmax=1,
               row_bars=lb.row_losses(lg), bar_name="loss", row_axis="images",
               col_axis="texts", height=460), key="toy_softmax", width="stretch", where=right)
    taus = np.geomspace(0.005, 2.0, 120)
    losses = np.array([lb.toy_row_loss(b, s_pos, s_neg, t) for t in taus])
    show_chart(ps.toy_loss_figure(taus, losses, float(np.log(b)), tau, lb.batch_loss(lg)),
               key="toy_tau_curve", width="stretch")
    st.caption("With s₊ > s₋ the loss falls to 0 as τ → 0 (the positive wins every softmax); as τ grows "
               "every row tends to uniform and the loss to log B. With s₊ < s₋ a small τ is punished hard.")


# --- a batch of real pairs ------------------------------------------------------------------

@dataclass
class Batch:
    """A batch as shown: pair positions ``idx`` (in display order), its raw similarity and
    logits (B, B), and the hover names of its rows and columns."""

    idx: np.ndarray
    sim: np.ndarray
    lg: np.ndarray
    rows: list[str]
    cols: list[str]
    relevant: np.ndarray | None = None

    @cached_property
    def row_logp(self) -> np.ndarray:
        """log p(b_j | a_i), (B, B): computed once per rerun, shared by figures and metrics."""
        return lb.log_softmax(self.lg, axis=1)

    @cached_property
    def col_logp(self) -> np.ndarray:
        """log p(a_i | b_j), (B, B)."""
        return lb.log_softmax(self.lg, axis=0)

    @property
    def row_losses(self) -> np.ndarray:
        return -np.diagonal(self.row_logp)

    @property
    def col_losses(self) -> np.ndarray:
        return -np.diagonal(self.col_logp)

    @property
    def loss(self) -> float:
        """Symmetric InfoNCE (:func:`lb.batch_loss`)."""
        return float(0.5 * (self.row_losses.mean() + self.col_losses.mean()))


def make_batch(key: str, pairs: Pairs, batch_size: int, seed: int, order: str, tau: float) -> Batch:
    """Draw the batch, order it (``"batch"``, a metadata column, or ``"cluster"``), score it at τ
    (everything but the logits is cached, so a τ change costs one division and the figures)."""
    idx, sim, rows, cols, relevant = cache.ordered_batch(key, pairs, batch_size, seed, order)
    return Batch(idx, sim, lb.logits(sim, tau), rows, cols, relevant)


def batch_metrics(batch: Batch, names: tuple[str, str]) -> None:
    """The batch loss and its parts, the chance level, the negatives."""
    b = len(batch.idx)
    m = st.columns(5)
    m[0].metric("batch loss (symmetric)", f"{batch.loss:.4f}")
    m[1].metric(f"{names[0]} → {names[1]} (rows)", f"{batch.row_losses.mean():.4f}")
    m[2].metric(f"{names[1]} → {names[0]} (columns)", f"{batch.col_losses.mean():.4f}")
    m[3].metric("chance: log B", f"{np.log(b):.4f}")
    rel = batch.relevant
    false_neg = 0 if rel is None else int(rel.sum() - np.trace(rel))
    m[4].metric("negatives per pair", f"{lb.negatives_per_pair(b)}",
                help=f"2B − 2 = {lb.negatives_per_pair(b)}: B − 1 in its row and B − 1 in its column. "
                     f"{false_neg} of the B² − B off-diagonal cells are not really negatives: the caption is "
                     "also true of that image, yet the loss pushes them apart.")


def similarity_figure(batch: Batch, view: str, tau: float, geometry: str, names: tuple[str, str],
                      title_prefix: str = "", height: int = 560):
    """The raw similarity or the logits of a batch."""
    diverging = geometry == "sphere"
    if view == "logits":
        z, value, title = batch.lg, "logit", f"Logits = {ms.similarity_name(geometry)} ÷ τ (τ = {tau:.3g})"
        bound = 1.0 / tau
    else:
        z, value, title = batch.sim, ms.similarity_name(geometry), f"Raw {ms.similarity_name(geometry)}"
        bound = 1.0
    kwargs: dict[str, Any] = (dict(colorscale=ps.DIVERGING, zmin=-bound, zmax=bound) if diverging
                              else dict(colorscale=ps.SEQUENTIAL))
    return ps.matrix_figure(z, batch.rows, batch.cols, title=title_prefix + title, value_name=value,
                            row_axis=f"{names[0]} (rows)", col_axis=f"{names[1]} (columns)",
                            height=height, **kwargs)


def softmax_values(batch: Batch, view: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """What the softmax figure shows: p (B, B), and the per-row losses (B,) for ``"rows"`` or
    the per-column losses (B,) for ``"cols"`` (the other one None)."""
    if view == "cols":
        return np.exp(batch.col_logp), None, batch.col_losses
    return np.exp(batch.row_logp), batch.row_losses, None


def softmax_figure(batch: Batch, view: str, names: tuple[str, str], title_prefix: str = "", height: int = 560):
    """Row softmax with per-row losses, or column softmax with per-column losses."""
    a, b = names
    p, row_losses, col_losses = softmax_values(batch, view)
    title = f"p({a} | {b}): softmax of each column" if view == "cols" else f"p({b} | {a}): softmax of each row"
    return ps.matrix_figure(p, batch.rows, batch.cols, title=title_prefix + title, value_name="p",
                            colorscale=ps.PROBABILITY, zmin=0, row_bars=row_losses, col_bars=col_losses,
                            bar_name="loss", row_axis=f"{a} (rows)", col_axis=f"{b} (columns)", height=height)


def softmax_figure_at_tau(batch: Batch, view: str, names: tuple[str, str], batch_key: tuple,
                          height: int = 560) -> dict:
    """:func:`softmax_figure` for the page's batch panel: the figure is built once per batch
    (``batch_key``: (data key, B, seed, order)), view and height, and a τ change only swaps
    its values in."""
    skeleton = cache.memo("softmax", batch_key[0], (*batch_key[1:], view, height),
                          lambda: softmax_figure(batch, view, names, height=height).to_dict())
    return ps.with_matrix_values(skeleton, *softmax_values(batch, view))


LOGIT_COLUMNS = ("positive logit", "negative logit", "margin")


def hardest_negatives_frame(pairs: Pairs, batch: Batch, config: dict[str, Any] | None,
                            k: int = 8) -> pd.DataFrame:
    """The k rows of ``batch`` whose hardest negative comes closest to their positive, described
    (captions, attributes, thumbnails when the run's images can be rebuilt), with the logits
    at τ = 1, i.e. the raw similarity. Logits are similarity ÷ τ, so which rows and negatives
    are hardest does not depend on τ: the page builds this once per batch and divides."""
    table = ms.hardest_negatives(batch.sim, k=k, relevant=batch.relevant)
    if table.empty:
        return pd.DataFrame()
    a, b = pairs.names
    row_pos, neg_pos = batch.idx[table["row"].to_numpy()], batch.idx[table["negative"].to_numpy()]
    out = pd.DataFrame({
        f"{a} (row)": describe(pairs.meta_a.iloc[row_pos], pairs.text_side == 0),
        f"its {b}": describe(pairs.meta_b.iloc[row_pos], pairs.text_side == 1),
        f"hardest negative {b}": describe(pairs.meta_b.iloc[neg_pos], pairs.text_side == 1),
        "positive logit": table["positive_logit"], "negative logit": table["negative_logit"],
        "margin": table["margin"],
    })
    side = image_side(pairs)
    if config is not None and side is not None and pairs.pair_index is not None:
        modality = pairs.names[side]
        own = cache.thumbnails(config, modality, pairs.pair_index[row_pos])
        other = cache.thumbnails(config, modality, pairs.pair_index[neg_pos])
        if own is not None and other is not None:
            out.insert(0, "image", own)
            out.insert(3, "negative's image", other)
    return out


def hardest_negatives_table(frame: pd.DataFrame, tau: float) -> None:
    """Shows :func:`hardest_negatives_frame` at temperature ``tau``."""
    if frame.empty:
        st.info("No negatives in this batch.")
        return
    out = frame.copy()
    out[list(LOGIT_COLUMNS)] = frame[list(LOGIT_COLUMNS)] / tau
    column_config: dict[str, Any] = {c: st.column_config.NumberColumn(format="%.3f") for c in LOGIT_COLUMNS}
    for c in ("image", "negative's image"):
        if c in out:
            column_config[c] = st.column_config.ImageColumn(c, width="small")
    st.dataframe(out, hide_index=True, width="stretch", column_config=column_config,
                 row_height=52 if "image" in out else None)
    st.caption("Margin = negative logit − positive logit: above 0, the row retrieves the wrong partner "
               "first. Candidates that are equally right (a caption also true of the image) are not "
               "counted as negatives here.")


def side_by_side(pairs: Pairs, other_key: str, other: Pairs, batch: Batch, tau: float, other_tau: float,
                 labels: tuple[str, str], view: str, batch_key: tuple) -> None:
    """The same pairs scored by two runs: raw similarity and row softmax with losses.
    ``batch_key``: (data key, B, seed, order) of ``batch``, for the figures' memo."""
    if pairs.pair_index is None or other.pair_index is None:
        st.warning("Side by side needs both runs' exports to carry pair_index.")
        return
    ids = pairs.pair_index[batch.idx]
    where = np.searchsorted(other.pair_index, ids)
    found = (where < len(other.pair_index)) & (other.pair_index[np.minimum(where, len(other.pair_index) - 1)] == ids)
    if not found.all():
        st.warning(f"{int((~found).sum())} of this batch's pairs are not in the other run's held-out split "
                   "(different dataset or eval size): pick runs trained on the same data.")
        return
    sim2 = cache.batch_similarity(other_key, other, tuple(int(i) for i in where))
    batch2 = Batch(where, sim2, lb.logits(sim2, other_tau), batch.rows, batch.cols)
    cols = st.columns(2)
    for col, (run_batch, run_tau, label, geometry, key) in zip(cols, (
            (batch, tau, labels[0], pairs.geometry, batch_key),
            (batch2, other_tau, labels[1], other.geometry, (other_key, *batch_key)))):
        with col:
            st.markdown(f"**{label}** · {geometry} · τ = {run_tau:.3g} · batch loss "
                        f"**{run_batch.loss:.4f}**")
            if view == "similarity":  # τ-free: built once per batch
                fig = cache.memo("side-similarity", key[0], key[1:], lambda b=run_batch, t=run_tau, g=geometry:
                                 similarity_figure(b, "similarity", t, g, pairs.names, height=460))
            else:
                fig = softmax_figure_at_tau(run_batch, "rows", pairs.names, key, height=460)
            show_chart(fig, width="stretch", key=f"side_{label}_{view}")


# --- whole split -----------------------------------------------------------------------------

def retrieval_section(key: str, pairs: Pairs, prefix: str) -> None:
    """R@1/5/10 both ways on every held-out pair, and zero-shot per attribute (the attribute
    menu's key: ``prefix + "zs_attr"``)."""
    rel = cache.relevance(key, pairs)
    a, b = pairs.names
    table = cache.memo("recall", key, (), lambda: ms.recall_both_ways(cache.full_similarity(key, pairs), rel,
                                                                      ks=(1, 5, 10)))
    table = table.set_axis([f"{a} → {b}", f"{b} → {a}"], axis=0)
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**Retrieval on all {len(pairs)} held-out pairs**")
        st.dataframe(table, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.3f")
                                                            for c in table.columns})
        chance = rel.mean()
        st.caption("A hit is any right answer: its own partner"
                   + (", or any caption true of the image." if pairs.text_side is not None and rel.sum() > len(rel)
                      else ".") + f" A random ranking hits at R@1 with probability ≈ {chance:.3f}.")
    with right:
        attrs = [attr for attr in ATTRIBUTES if cache.zero_shot_scores(key, pairs, attr) is not None]
        if not attrs:
            st.info("Zero-shot classification needs a run with distinct captions (e.g. trifeature-captions).")
            return
        results = {attr: cache.zero_shot_scores(key, pairs, attr) for attr in attrs}
        st.markdown("**Zero-shot classification** (prompt = the caption naming only that attribute, e.g. “a star”): "
                    + ", ".join(f"{attr} **{results[attr][0]:.3f}**" for attr in attrs))
        if st.session_state.get(prefix + "zs_attr") not in attrs:
            st.session_state[prefix + "zs_attr"] = attrs[0]
        attr = st.segmented_control("confusion matrix of", attrs, key=prefix + "zs_attr") or attrs[0]
        accuracy, matrix, classes = results[attr]
        fig = cache.memo("confusion", key, (attr,), lambda: ps.confusion_figure(
            matrix, classes, f"Zero-shot {attr}: accuracy {accuracy:.3f}"))
        show_chart(fig, width="stretch", key="confusion")


def gap_section(key: str, pairs: Pairs, tau: float, batch_size: int) -> None:
    """The modality gap and the shift experiment on every held-out pair."""
    ua = ms.gap_space(pairs.a, pairs.geometry, pairs.curvature)
    ub = ms.gap_space(pairs.b, pairs.geometry, pairs.curvature)
    gap = float(np.linalg.norm(ms.gap_vector(ua, ub)))
    where = {"sphere": "unit vectors (as in Liang et al.)", "euclidean": "the points themselves"}.get(
        pairs.geometry, "the tangent space at the origin (logmap0; distances from the origin kept)")
    a, b = pairs.names
    st.markdown(f"Modality gap ‖mean {a} − mean {b}‖ of {where}: **{gap:.4f}**. The shift experiment "
                f"moves every {a} by −λΔ/2 and every {b} by +λΔ/2 (Δ = the gap vector), maps back and "
                f"re-scores: λ = 1 makes the means meet, λ < 0 widens the gap. Loss at the model's τ = {tau:.3g} in "
                f"batches of {batch_size} (the training batch size).")
    fig = cache.memo("shift", key, (tau, batch_size),
                     lambda: ps.shift_figure(cache.shift_table(key, pairs, tau, batch_size), pairs.names))
    show_chart(fig, width="stretch", key="shift")


def batch_size_section(key: str, pairs: Pairs, tau: float, seed: int, current: int) -> None:
    """Loss and gradient signal at several B from the same embeddings."""
    table = cache.batch_size_sweep(key, pairs, tau, seed)
    if table.empty:
        st.info("Too few pairs for a batch-size sweep.")
        return
    fig = cache.memo("batch_sizes", key, (tau, seed, current), lambda: ps.batch_size_figure(table, current))
    show_chart(fig, width="stretch", key="batch_sizes")
    st.caption(
        f"Each point: the mean over 8 random batches of B held-out pairs, at τ = {tau:.3g} (the model's own). "
        "Every pair meets "
        "N = 2B − 2 negatives. A bigger batch holds more (and harder) negatives, so the loss rises toward "
        "log B; log B − loss is InfoNCE's lower bound on the mutual information, which can never exceed "
        "log B. Right: the pull on each positive (1 − p_ii) and how much of the push lands on the single "
        "hardest negative.")
