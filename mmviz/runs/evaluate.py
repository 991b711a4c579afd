"""Evaluate a contrastive model on held-out pairs and export its embeddings.

:func:`prepare_eval_set` does the model-independent work once per run (which candidates are
right answers, zero-shot prompts, which captions are true of which images);
:func:`evaluate` then embeds and scores in a fraction of a second per thousand pairs.

Metric names (``eval/`` prefixed by the loop), with ``a``/``b`` the pair's modality names:
``loss`` (and its terms), ``r1_a_to_b``, ``r5_a_to_b`` (and b to a), ``zeroshot_<attribute>``;
sphere: ``alignment``, ``uniformity_<m>``, ``modality_gap``; hyperbolic: ``dist0_<m>``. With a
caption hierarchy, the *depth* q (``dist0`` hyperbolic, ``rawnorm`` = pre-normalisation norm
for CLIP) per level ``q_level1..3``, per modality ``q_<m>``, ``q_chain`` and ``q_spearman_bal``,
``q_spearman_bal_ceiling``, ``q_spearman_all``, ``q_spearman_all_ceiling``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from mmviz import metrics
from mmviz.data.base import PairedDataset
from mmviz.data.embeddings_io import EmbeddingSet
from mmviz.geometry import DEFAULT_CONE_MIN_RADIUS, HYPERBOLIC, Geometry
from mmviz.models.base import ContrastiveModel

EMBED_BATCH = 512  # rows per forward pass when embedding (memory, not accuracy)


@dataclass
class EvalSet:
    """Held-out pairs and the facts needed to score a model on them.

    relevant: (N, N) bool, ``relevant[i, j]`` = modality b's sample j is a right answer for
    modality a's sample i (its pair, or any caption true of the image). prompts: zero-shot
    tasks, name → (token ids (T, K, L): T templates of K class prompts, labels (N,)).
    captions/caption_tokens/entails: the distinct captions (level + attributes), their
    tokens (M, L) and which are true of which image (N, M); None without a caption hierarchy.
    test: the whole held-out split ``data`` was taken from (for metrics that want more pairs
    than the evaluation, e.g. the R/U/S probes).
    """

    data: PairedDataset
    inputs: tuple[Tensor, Tensor]
    relevant: np.ndarray
    text_side: int | None
    prompts: dict[str, tuple[Tensor, np.ndarray]] = field(default_factory=dict)
    captions: pd.DataFrame | None = None
    caption_tokens: Tensor | None = None
    entails: np.ndarray | None = None
    test: PairedDataset | None = None

    @property
    def names(self) -> tuple[str, str]:
        return self.data.pair


def prepare_eval_set(test: PairedDataset, size: int) -> EvalSet:
    """The first ``size`` held-out pairs with their relevance, prompts and caption hierarchy."""
    data = test.subset(np.arange(min(size, len(test))))
    tensors = data.torch_dataset().tensors
    names = data.pair
    kinds = [_kind(data.modalities[n]) for n in names]
    text_side = kinds.index("text") if kinds.count("text") == 1 else None
    ev = EvalSet(data, (tensors[names[0]], tensors[names[1]]), _relevance(data, text_side), text_side,
                 test=test)
    if text_side is None:
        return ev
    ev.prompts = _zero_shot_tasks(data)
    captions = data.extras.get("captions")
    tokens = data.extras.get("caption_tokens")
    image_meta = data.metadata
    if (isinstance(captions, pd.DataFrame) and tokens is not None and "level" in captions
            and all(a in captions and a in image_meta for a in metrics.ATTRIBUTES)):
        ev.captions = captions.reset_index(drop=True)
        ev.caption_tokens = torch.as_tensor(np.asarray(tokens))
        ev.entails = metrics.attribute_entailment(image_meta, ev.captions)
    return ev


@torch.no_grad()
def embed_all(model: ContrastiveModel, x: Tensor, side: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Points (N, E) and raw feature norms (N,) of a whole modality, on the CPU in float32."""
    points, norms = [], []
    for start in range(0, len(x), EMBED_BATCH):
        feats = model.features(x[start:start + EMBED_BATCH].to(device), side).float()
        points.append(model.project(feats, side).cpu())
        norms.append(feats.norm(dim=1).cpu())
    return torch.cat(points), torch.cat(norms)


@torch.no_grad()
def evaluate(model: ContrastiveModel, ev: EvalSet, device: torch.device, batch_size: int) -> dict[str, float]:
    """All metrics of ``model`` on ``ev`` (names without the ``eval/`` prefix)."""
    was_training = model.training
    model.eval()
    try:
        return _evaluate(model, ev, device, batch_size)
    finally:
        model.train(was_training)


def _evaluate(model: ContrastiveModel, ev: EvalSet, device: torch.device, batch_size: int) -> dict[str, float]:
    (za, raw_a), (zb, raw_b) = (embed_all(model, x, side, device) for side, x in enumerate(ev.inputs))
    name_a, name_b = ev.names
    out = _eval_loss(model, za.to(device), zb.to(device), batch_size)
    scores = model.similarity(za.to(device), zb.to(device)).cpu().numpy()
    for (q, c, rel) in ((name_a, name_b, ev.relevant), (name_b, name_a, ev.relevant.T)):
        recall = metrics.recall_at_k(scores if q == name_a else scores.T, rel)
        out[f"r1_{q}_to_{c}"], out[f"r5_{q}_to_{c}"] = recall[1], recall[5]
    if ev.text_side is not None:
        image_side = 1 - ev.text_side
        image_points = (za, zb)[image_side].to(device)
        for task, (tokens, labels) in ev.prompts.items():
            task_scores = sum(
                model.similarity(image_points, embed_all(model, t, ev.text_side, device)[0].to(device))
                for t in tokens
            )
            out[f"zeroshot_{task}"] = metrics.zero_shot_accuracy(task_scores.cpu().numpy(), labels)
    hyperbolic = model.geometry_name in HYPERBOLIC
    geometry = model.geometry()
    depth_name = "dist0" if hyperbolic else "rawnorm"
    depth = {name_a: _depth(geometry, za, raw_a, hyperbolic), name_b: _depth(geometry, zb, raw_b, hyperbolic)}
    if hyperbolic:
        out.update({f"dist0_{m}": float(d.mean()) for m, d in depth.items()})
    else:
        a, b = za.numpy(), zb.numpy()
        out["alignment"] = metrics.alignment(a, b)
        out[f"uniformity_{name_a}"], out[f"uniformity_{name_b}"] = metrics.uniformity(a), metrics.uniformity(b)
        out["modality_gap"] = metrics.modality_gap(a, b)
        out.update({f"rawnorm_{m}": float(d.mean()) for m, d in depth.items()})
    if ev.captions is not None:
        caption_points, caption_raw = embed_all(model, ev.caption_tokens, ev.text_side, device)
        caption_depth = _depth(geometry, caption_points, caption_raw, hyperbolic)
        image_depth = depth[ev.names[1 - ev.text_side]]
        out.update(_hierarchy_metrics(depth_name, ev, caption_depth, image_depth))
    out.update(model.extra_eval(ev, za, zb, device))
    return out


def _eval_loss(model: ContrastiveModel, za: Tensor, zb: Tensor, batch_size: int) -> dict[str, float]:
    """Loss terms averaged over consecutive batches of ``batch_size`` pairs (as in training)."""
    size = max(2, min(batch_size, len(za)))
    totals: dict[str, float] = {}
    count = 0
    for start in range(0, len(za) - size + 1, size):
        terms = model.loss(za[start:start + size], zb[start:start + size])
        for key, value in terms.items():
            totals[key] = totals.get(key, 0.0) + float(value)
        count += 1
    return {key: value / count for key, value in totals.items()}


def _hierarchy_metrics(q: str, ev: EvalSet, caption_depth: np.ndarray,
                       image_depth: np.ndarray) -> dict[str, float]:
    """MERU's (a) depth per caption level, (b) chain fraction, (c) Spearman with ceilings."""
    levels = ev.captions["level"].to_numpy()
    out = {f"{q}_level{lv}": value for lv, value in metrics.mean_by_level(caption_depth, levels).items()}
    out[f"{q}_chain"] = metrics.chain_fraction(image_depth, caption_depth, levels, ev.entails)
    image_level = levels.max() + 1  # images rank as the most specific level
    all_levels = np.concatenate([levels, np.full(len(image_depth), image_level)])
    all_depth = np.concatenate([caption_depth, image_depth])
    out[f"{q}_spearman_bal"], out[f"{q}_spearman_bal_ceiling"] = metrics.balanced_spearman(all_levels, all_depth)
    out[f"{q}_spearman_all"], out[f"{q}_spearman_all_ceiling"] = metrics.spearman_with_ceiling(all_levels, all_depth)
    return out


@torch.no_grad()
def export_embeddings(model: ContrastiveModel, ev: EvalSet, device: torch.device) -> EmbeddingSet:
    """The held-out pairs' points (both modalities) plus, with a caption hierarchy, every
    distinct caption (modality ``caption``), tagged with the model's geometry and curvature.

    Metadata: the dataset's columns, ``modality``, ``pair_index`` (pairs) or ``caption_id``
    (distinct captions), and ``raw_norm`` (norm of the features before projection).
    """
    model.eval()
    points, frames = [], []
    for side, x in enumerate(ev.inputs):
        z, raw = embed_all(model, x, side, device)
        meta = ev.data.metadata.copy()
        meta.insert(0, "modality", ev.names[side])
        meta["pair_index"] = np.arange(len(meta))
        meta["raw_norm"] = raw.numpy()
        points.append(z.numpy())
        frames.append(meta)
    if ev.captions is not None:
        z, raw = embed_all(model, ev.caption_tokens, ev.text_side, device)
        meta = ev.captions.copy()
        meta.insert(0, "modality", "caption")
        meta["caption_id"] = np.arange(len(meta))
        meta["raw_norm"] = raw.numpy()
        points.append(z.numpy())
        frames.append(meta)
    return EmbeddingSet(np.concatenate(points), pd.concat(frames, ignore_index=True),
                        geometry=model.geometry_name, curvature=model.curvature(),
                        source=f"{ev.data.name} ({ev.data.split})",
                        cone_min_radius=getattr(model.config, "min_radius", DEFAULT_CONE_MIN_RADIUS))


def _depth(geometry: Geometry, points: Tensor, raw_norm: Tensor, hyperbolic: bool) -> np.ndarray:
    """Specificity per point: distance from the origin (hyperbolic) or the raw norm (CLIP)."""
    value = geometry.dist0(points) if hyperbolic else raw_norm
    return value.detach().double().numpy()


def _kind(array: np.ndarray) -> str:
    if array.ndim == 2 and np.issubdtype(array.dtype, np.integer):
        return "text"
    return "image" if array.ndim == 4 else "vector"


def _relevance(data: PairedDataset, text_side: int | None) -> np.ndarray:
    """(N, N) bool: which of modality b's samples answer each of modality a's.

    Captions with attribute flags (trifeature-captions): every caption true of the image.
    Text with class labels (digits): every sample of the same label. Otherwise: the pair.
    """
    meta = data.metadata
    flags = [f"names_{a}" for a in metrics.ATTRIBUTES]
    if text_side is not None and all(c in meta for c in flags + list(metrics.ATTRIBUTES)):
        named = pd.DataFrame({a: meta[a].astype(object).where(meta[f"names_{a}"].to_numpy(), None)
                              for a in metrics.ATTRIBUTES})
        true_of = metrics.attribute_entailment(meta, named)  # [image i, caption j]
        return true_of if text_side == 1 else true_of.T
    if text_side is not None and "label" in meta:
        labels = meta["label"].to_numpy()
        return labels[:, None] == labels[None, :]
    return np.eye(len(meta), dtype=bool)


def _zero_shot_tasks(data: PairedDataset) -> dict[str, tuple[Tensor, np.ndarray]]:
    """Zero-shot tasks from ``extras["prompts"]``: per attribute caption ids (into
    ``extras["caption_tokens"]``, labels in ``<attr>_id``), or a (T, K, L) token array of
    prompt templates for the ``label`` column."""
    prompts = data.extras.get("prompts")
    meta = data.metadata
    tasks: dict[str, tuple[Tensor, np.ndarray]] = {}
    if isinstance(prompts, dict) and "caption_tokens" in data.extras:
        tokens = np.asarray(data.extras["caption_tokens"])
        for attr, ids in prompts.items():
            column = f"{attr}_id" if f"{attr}_id" in meta else attr
            if column in meta:
                tasks[attr] = (torch.as_tensor(tokens[np.asarray(ids)])[None], meta[column].to_numpy())
    elif isinstance(prompts, np.ndarray) and prompts.ndim == 3 and "label" in meta:
        tasks["label"] = (torch.as_tensor(prompts), meta["label"].to_numpy())
    return tasks
