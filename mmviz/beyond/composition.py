"""Composition: does a model name attribute combinations it never saw, and is "a red star"
built from "a star" and "something red"?

* :func:`combination_accuracy`: zero-shot accuracy per attribute and for the whole triple
  (the right one of the 1,000 level-3 captions), and caption→image retrieval R@1, on held-out
  images of *seen* and *unseen* (shape, texture, colour) triples (the data layer's rule).
* :func:`parent_structure`: for each level-2 and level-3 caption, whether it lies in the
  entailment cone of every level-1 caption it composes (hyperbolic models) and further from the
  origin than all of them.
* :func:`offset_transfer`: whether an attribute is one direction: emb("a red star") −
  emb("a star") against emb("a red square") − emb("a square") (cosine, and analogy accuracy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmviz.beyond.common import (
    attribute_ids,
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
from mmviz.data.captions import caption_table, caption_text
from mmviz.data.trifeature_datasets import is_test_combination
from mmviz.models.base import ContrastiveModel

ATTRS = ("shape", "texture", "color")


def combination_accuracy(model: ContrastiveModel, data: PairedDataset) -> pd.DataFrame:
    """One row per group ("seen", "unseen" triples): images, zero-shot accuracy per attribute,
    ``triple`` (image → its level-3 caption among all 1,000) and ``caption_r1`` (each level-3
    caption of the group → is its nearest image one it describes)."""
    shape, texture, color = attribute_ids(data.metadata)
    unseen = is_test_combination(shape, texture, color)
    images = embed_images(model, data.modalities["image"]).points
    table = caption_table()
    prompts = prompt_texts()
    rows = []
    per_attr = {}
    for attr, texts in prompts.items():
        per_attr[attr] = scores(model, images, embed_texts(model, texts).points).argmax(1)
    level3 = table[table.level == 3].reset_index(drop=True)
    sim3 = scores(model, images, embed_texts(model, level3.caption.tolist()).points)
    key = lambda s, t, c: (s * 10 + t) * 10 + c  # noqa: E731 - one formula for images and captions
    caption_key = key(level3.shape_id.to_numpy(), level3.texture_id.to_numpy(), level3.color_id.to_numpy())
    image_key = key(shape, texture, color)
    truth = {"shape": shape, "texture": texture, "color": color}
    for group, mask in (("seen", ~unseen), ("unseen", unseen)):
        row = {"group": group, "images": int(mask.sum())}
        for attr in ATTRS:
            row[attr] = float(np.mean(per_attr[attr][mask] == truth[attr][mask]))
        row["triple"] = float(np.mean(caption_key[sim3[mask].argmax(1)] == image_key[mask]))
        column_of = {k: j for j, k in enumerate(caption_key.tolist())}
        cols = np.array([column_of[k] for k in np.unique(image_key[mask]).tolist()], dtype=np.int64)
        nearest = np.flatnonzero(mask)[sim3[mask][:, cols].argmax(0)]
        row["caption_r1"] = float(np.mean(image_key[nearest] == caption_key[cols])) if len(cols) else float("nan")
        row["captions"] = int(len(cols))
        rows.append(row)
    return pd.DataFrame(rows)


def _parents(table: pd.DataFrame) -> list[list[int]]:
    """Row ids of the level-1 captions each caption composes (empty for level 1)."""
    level1 = {}
    for i, row in table[table.level == 1].iterrows():
        attr = next(a for a in ATTRS if row[f"{a}_id"] >= 0)
        level1[(attr, int(row[f"{attr}_id"]))] = i
    out = []
    for _, row in table.iterrows():
        named = [(a, int(row[f"{a}_id"])) for a in ATTRS if row[f"{a}_id"] >= 0]
        out.append([level1[n] for n in named] if len(named) > 1 else [])
    return out


def parent_structure(model: ContrastiveModel, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per composed caption (levels 2 and 3): ``in_all_cones`` (inside every parent's
    entailment cone; None for CLIP), ``beyond_parents`` (depth greater than every parent's:
    distance from the origin, or CLIP's raw norm), ``depth`` and the parents' mean depth."""
    table = caption_table() if table is None else table
    emb = embed_texts(model, table.caption.tolist())
    parents = _parents(table)
    composed = [i for i, p in enumerate(parents) if p]
    cones = None
    if is_hyperbolic(model):
        level1 = sorted({p for i in composed for p in parents[i]})
        index = {p: j for j, p in enumerate(level1)}
        member = cone_membership(model, emb.points[level1], emb.points[composed])
    rows = []
    for n, i in enumerate(composed):
        ps = parents[i]
        if is_hyperbolic(model):
            cones = bool(all(member[n, index[p]] for p in ps))
        rows.append({"caption": table.caption[i], "level": int(table.level[i]), "in_all_cones": cones,
                     "beyond_parents": bool(emb.depth[i] > max(emb.depth[p] for p in ps)),
                     "depth": float(emb.depth[i]), "parent_depth": float(np.mean([emb.depth[p] for p in ps]))})
    return pd.DataFrame(rows)


def structure_summary(structure: pd.DataFrame) -> pd.DataFrame:
    """Fractions per caption level: inside all parents' cones, beyond all parents."""
    agg = structure.groupby("level").agg(captions=("caption", "size"), beyond_parents=("beyond_parents", "mean"),
                                         depth=("depth", "mean"), parent_depth=("parent_depth", "mean"))
    if structure["in_all_cones"].notna().any():
        agg["in_all_cones"] = structure.groupby("level")["in_all_cones"].mean()
    return agg.reset_index()


def offset_transfer(model: ContrastiveModel) -> dict[str, float]:
    """Colour offsets o(c, s) = e("a c s") − e("a s") in the flat chart (see
    :func:`~mmviz.beyond.common.tangent`), over 10 colours × 10 shapes:

    * ``same_colour``: mean cosine of o(c, s) and o(c, s') for s ≠ s' (1 = one direction per colour);
    * ``other_colour``: the same for c ≠ c' (the baseline);
    * ``analogy``: how often e("a c s") − e("a s") + e("a s'") is nearest to e("a c s'") among
      the 100 colour–shape captions (chance 1%).
    """
    table = caption_table()
    shapes = table[(table.level == 1) & (table.shape_id >= 0)].sort_values("shape_id")
    pairs = table[(table.level == 2) & (table.shape_id >= 0) & (table.color_id >= 0)]
    pairs = pairs.sort_values(["color_id", "shape_id"])
    e_shape = tangent(model, embed_texts(model, shapes.caption.tolist()).points)  # (10, d)
    e_pair = tangent(model, embed_texts(model, pairs.caption.tolist()).points).reshape(10, 10, -1)  # [c, s]
    offsets = e_pair - e_shape[None]
    unit = offsets / np.linalg.norm(offsets, axis=-1, keepdims=True)
    flat = unit.reshape(100, -1)
    cos = flat @ flat.T
    colour = np.repeat(np.arange(10), 10)
    shape = np.tile(np.arange(10), 10)
    same_c = (colour[:, None] == colour[None]) & (shape[:, None] != shape[None])
    other_c = colour[:, None] != colour[None]
    candidates = e_pair.reshape(100, -1)
    cand_unit = candidates / np.linalg.norm(candidates, axis=1, keepdims=True)
    hits = total = 0
    for c in range(10):
        for s in range(10):
            for s2 in range(10):
                if s2 == s:
                    continue
                guess = e_pair[c, s] - e_shape[s] + e_shape[s2]
                nearest = int(np.argmax(cand_unit @ (guess / np.linalg.norm(guess))))
                hits += nearest == c * 10 + s2
                total += 1
    return {"same_colour": float(cos[same_c].mean()), "other_colour": float(cos[other_c].mean()),
            "analogy": hits / total}


def composition_points(model: ContrastiveModel, data: PairedDataset, shape: int, color: int,
                       images: int = 40) -> pd.DataFrame:
    """"a <colour> <shape>", its parents "a <shape>" and "something <colour>", and held-out
    images of that shape and colour, laid out on one disk (see :func:`~mmviz.beyond.common.disk_layout`):
    columns kind ("composition", "parent", "image"), label, x, y, depth, note."""
    texts = [caption_text(shape=shape, color=color), caption_text(shape=shape), caption_text(color=color)]
    cap = embed_texts(model, texts)
    meta = data.metadata
    rows = np.flatnonzero((meta.shape_id.to_numpy() == shape) & (meta.color_id.to_numpy() == color))[:images]
    img = embed_images(model, data.modalities["image"][rows])
    notes = [f"depth {cap.depth[0]:.3f}"]
    if is_hyperbolic(model):
        inside = cone_membership(model, cap.points[1:], cap.points[:1])[0]
        img_in = cone_membership(model, cap.points[:1], img.points)[:, 0]
        notes = [f"depth {cap.depth[0]:.3f}; {img_in.mean():.0%} of its images in its cone"]
        notes += [f"depth {cap.depth[i + 1]:.3f}; the composition is {'inside' if inside[i] else 'outside'} its cone"
                  for i in range(2)]
    else:
        notes += [f"raw norm {cap.depth[i]:.3f}" for i in (1, 2)]
    vectors = np.concatenate([tangent(model, cap.points), tangent(model, img.points)])
    depth = np.concatenate([cap.depth, img.depth])
    xy = disk_layout(vectors, depth, is_hyperbolic(model))
    frame = pd.DataFrame({"kind": ["composition", "parent", "parent"] + ["image"] * len(rows),
                          "label": texts + meta.caption.to_numpy()[rows].tolist(),
                          "depth": depth, "note": notes + [f"depth {d:.3f}" for d in img.depth]})
    frame[["x", "y"]] = xy
    return frame
