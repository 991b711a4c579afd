"""Negation: does a model prefer "a star that is not red" to "a red star" for a blue star?

:func:`negation_ranking` asks it of every held-out image, in both directions:

* ``negated``: for an image of shape s whose colour is not x, is "a s that is not x" scored
  above "a x s"? (9 questions per image and attribute: one per other value x.)
* ``affirmed``: for an image of shape s and colour c, is "a c s" scored above "a s that is not
  c"? (1 per image and attribute.) A model that ignores "not" scores about 50% on both; one
  that learned "not" means "prefer the other caption" would ace ``negated`` and fail this one.

The same for textures ("a star that is not dotted" against "a dotted star"). Questions are split
by whether the negated caption is held out from negation training
(:func:`~mmviz.data.captions.is_heldout_negation`). ``balanced`` is the mean of the two
directions, the figure the targets use.

:func:`negation_depths` says where negated captions sit: distance from the origin (or CLIP's raw
norm) per kind, and for hyperbolic models whether "a s that is not x" lies in the cone of "a s".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmviz.beyond.common import attribute_ids, cone_membership, embed_images, embed_texts, is_hyperbolic, scores
from mmviz.data.base import PairedDataset
from mmviz.data.captions import caption_text, is_heldout_negation, negated_caption_text
from mmviz.data.trifeature import SHAPES
from mmviz.models.base import ContrastiveModel

NEGATED_ATTRIBUTES = ("color", "texture")


def _caption_grid(attr: str) -> tuple[list[str], list[str]]:
    """Affirmed "a x s" and negated "a s that is not x" captions, index s * 10 + x."""
    affirmed, negated = [], []
    for s in range(len(SHAPES)):
        for x in range(10):
            affirmed.append(caption_text(shape=s, **{attr: x}))
            negated.append(negated_caption_text("shape", s, attr, x))
    return affirmed, negated


def negation_questions(model: ContrastiveModel, data: PairedDataset) -> pd.DataFrame:
    """Every question, one row each: attribute, direction ("negated"/"affirmed"), heldout (the
    negated caption is held out from training), correct (bool), margin (the right caption's
    score minus the wrong one's)."""
    shape, texture, color = attribute_ids(data.metadata)
    own = {"color": color, "texture": texture}
    images = embed_images(model, data.modalities["image"]).points
    frames = []
    n = len(shape)
    for attr in NEGATED_ATTRIBUTES:
        affirmed, negated = _caption_grid(attr)
        s_aff = scores(model, images, embed_texts(model, affirmed).points)
        s_neg = scores(model, images, embed_texts(model, negated).points)
        rows = np.repeat(np.arange(n), 10)
        x = np.tile(np.arange(10), n)
        col = shape[rows] * 10 + x
        is_own = x == own[attr][rows]
        margin = np.where(is_own, s_aff[rows, col] - s_neg[rows, col], s_neg[rows, col] - s_aff[rows, col])
        frames.append(pd.DataFrame({
            "attribute": attr, "direction": np.where(is_own, "affirmed", "negated"),
            "heldout": is_heldout_negation(shape[rows], x), "correct": margin > 0, "margin": margin,
            "image": rows,
        }))
    return pd.concat(frames, ignore_index=True)


def negation_summary(questions: pd.DataFrame) -> pd.DataFrame:
    """Accuracy per split (held-out / seen negations, all) and direction, plus ``balanced``."""
    rows = []
    for split, mask in (("held-out", questions.heldout), ("seen", ~questions.heldout),
                        ("all", pd.Series(True, index=questions.index))):
        part = questions[mask]
        neg = float(part[part.direction == "negated"].correct.mean())
        aff = float(part[part.direction == "affirmed"].correct.mean())
        rows.append({"negations": split, "negated": neg, "affirmed": aff, "balanced": 0.5 * (neg + aff),
                     "questions": int(len(part))})
    return pd.DataFrame(rows)


def negation_depths(model: ContrastiveModel) -> pd.DataFrame:
    """Per kind of caption ("a s", "a x s", "a s that is not x", "not a s"): mean depth, and for
    hyperbolic models the fraction inside the cone of "a s" (for "not a s": of any shape's)."""
    shapes = [caption_text(shape=s) for s in range(10)]
    kinds = {"a star": shapes,
             "a red star": [caption_text(shape=s, color=x) for s in range(10) for x in range(10)],
             "a star that is not red": [negated_caption_text("shape", s, "color", x)
                                        for s in range(10) for x in range(10)],
             "not a star": [negated_caption_text(None, -1, "shape", s) for s in range(10)]}
    base = embed_texts(model, shapes)
    rows = []
    for kind, texts in kinds.items():
        emb = embed_texts(model, texts)
        example = texts[7 * (len(texts) // 10)]  # the star (shape 7), red (colour 0) where named
        row = {"caption": kind, "example": example, "depth": float(emb.depth.mean())}
        if is_hyperbolic(model):
            member = cone_membership(model, base.points, emb.points)  # (N, 10)
            if kind == "not a star":
                row["in_shape_cone"] = float(member.any(axis=1).mean())
            else:
                parent = np.arange(len(texts)) // (len(texts) // 10)
                row["in_shape_cone"] = float(member[np.arange(len(texts)), parent].mean())
        rows.append(row)
    return pd.DataFrame(rows)
