"""The unlearning study: what forgetting a concept did to a model, measured against its parent.

:func:`unlearning_summary` gives, on the held-out study images:

* ``forget_acc`` / ``retain_acc``: zero-shot accuracy on the concept's attribute over images
  with the concept / mean accuracy over the three attributes over images without it;
* ``mia_auc``: a membership-inference test as in the unlearning literature. Each pair is scored
  by the log-probability the model gives its own caption among all 1,330; the AUC says how well
  that score tells the forget set's *training* pairs from held-out pairs with the same concept
  (0.5 = indistinguishable, as for a model that never saw them);
* where the concept's images and captions sit: mean depth (distance from the origin, or CLIP's
  raw norm) and, for hyperbolic models, the fraction of its images inside the entailment cone
  of its own level-1 caption ("something red") and inside another value's ("something blue").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.special import log_softmax
from sklearn.metrics import roc_auc_score

from mmviz.beyond.common import (
    Embedded,
    cone_membership,
    disk_layout,
    embed_images,
    embed_texts,
    is_hyperbolic,
    prompt_texts,
    scores,
    tangent,
)
from mmviz.data.base import PairedDataset
from mmviz.data.captions import caption_table
from mmviz.data.trifeature_datasets import parse_concept
from mmviz.models.base import ContrastiveModel
from mmviz.runs.evaluate import prepare_eval_set
from mmviz.runs.unlearn import concept_accuracy, concept_mask, zero_shot_predictions

MIA_PAIRS = 400
"""Forget-set training pairs and held-out pairs per membership test (the smaller side decides)."""


@torch.no_grad()
def caption_log_probs(model: ContrastiveModel, images: Embedded, caption_ids: np.ndarray,
                      captions: Embedded) -> np.ndarray:
    """log p(own caption | image) among all captions, with the model's temperature: (N,)."""
    log_p = log_softmax(float(model.scale()) * scores(model, images.points, captions.points), axis=1)
    return log_p[np.arange(len(caption_ids)), caption_ids]


def membership_auc(model: ContrastiveModel, train: PairedDataset, test: PairedDataset, concept: str,
                   pairs: int = MIA_PAIRS) -> float:
    """AUC of the caption log-probability for forget-set training pairs (members) against
    held-out pairs with the concept named (non-members); 0.5 = cannot tell them apart."""
    table_emb = embed_texts(model, caption_table().caption.tolist())
    values = []
    for data in (train, test):
        rows = np.flatnonzero(concept_mask(data.metadata, concept, named=True))[:pairs]
        if len(rows) == 0:
            return float("nan")
        emb = embed_images(model, data.modalities["image"][rows])
        values.append(caption_log_probs(model, emb, data.metadata.caption_id.to_numpy()[rows], table_emb))
    labels = np.r_[np.ones(len(values[0])), np.zeros(len(values[1]))]
    return float(roc_auc_score(labels, np.r_[values[0], values[1]]))


def cone_fractions(member: np.ndarray, value: int) -> dict[str, float]:
    """From membership (N, K) of the concept's images in the K values' caption cones:
    ``in_own_cone`` (fraction inside value ``value``'s) and ``in_other_cone`` (inside any other)."""
    return {"in_own_cone": float(member[:, value].mean()),
            "in_other_cone": float(np.delete(member, value, axis=1).any(axis=1).mean())}


def unlearning_summary(model: ContrastiveModel, test: PairedDataset, concept: str,
                       train: PairedDataset | None = None) -> dict[str, float]:
    """The study's numbers for one model (see the module docstring); ``mia_auc`` needs ``train``,
    the training split the forget set came from (the original run's, also for its gold standard)."""
    attr, value = parse_concept(concept)
    has = concept_mask(test.metadata, concept)
    images = embed_images(model, test.modalities["image"])
    # forget and retain accuracy as the unlearning runs log them, over the whole held-out split
    ev = prepare_eval_set(test, len(test))
    out: dict[str, float] = concept_accuracy(zero_shot_predictions(model, ev, torch.device("cpu")), ev, concept)
    out["depth_concept_images"] = float(images.depth[has].mean())
    out["depth_other_images"] = float(images.depth[~has].mean())
    table = caption_table()
    named = table[f"{attr}_id"].to_numpy() == value
    cap = embed_texts(model, table.caption[named].tolist())
    out["depth_concept_captions"] = float(cap.depth.mean())
    if is_hyperbolic(model):
        level1 = prompt_texts()[attr]
        apex = embed_texts(model, level1).points
        out.update(cone_fractions(cone_membership(model, apex, images.points[has]), value))
    if train is not None:
        out["mia_auc"] = membership_auc(model, train, test, concept)
    return out


def before_after_points(before: ContrastiveModel, after: ContrastiveModel, test: PairedDataset, concept: str,
                        per_group: int = 120) -> pd.DataFrame:
    """Where the concept's images and the level-1 captions of its attribute sit before and
    after: one row per point and model, columns model ("before"/"after"), kind ("image"/
    "caption"), group (the concept, or "other"), label, x, y, depth."""
    attr, value = parse_concept(concept)
    meta = test.metadata
    has = concept_mask(meta, concept)
    rng = np.random.default_rng(0)
    pick = np.r_[rng.permutation(np.flatnonzero(has))[:per_group], rng.permutation(np.flatnonzero(~has))[:per_group]]
    texts = prompt_texts()[attr]
    frames, vectors, depths = [], [], []
    for name, model in (("before", before), ("after", after)):
        img = embed_images(model, test.modalities["image"][pick])
        cap = embed_texts(model, texts)
        vectors += [tangent(model, img.points), tangent(model, cap.points)]
        depths += [img.depth, cap.depth]
        frames.append(pd.DataFrame({"model": name, "kind": "image", "group": np.where(has[pick], concept, "other"),
                                    "label": meta.caption.to_numpy()[pick]}))
        frames.append(pd.DataFrame({"model": name, "kind": "caption",
                                    "group": [concept if i == value else "other" for i in range(len(texts))],
                                    "label": texts}))
    out = pd.concat(frames, ignore_index=True)
    depth = np.concatenate(depths)
    out[["x", "y"]] = disk_layout(np.concatenate(vectors), depth, is_hyperbolic(before))
    out["depth"] = depth
    return out
