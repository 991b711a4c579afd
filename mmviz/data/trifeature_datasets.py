"""The Trifeature datasets: single images, CoMM's bimodal image pairs, and image–caption pairs.

* ``trifeature``: images with random attributes (shape, texture, colour).
* ``trifeature-pairs``: CoMM's bimodal Trifeature. The two images of a pair share their shape
  (redundancy, probe ``share``); each has its own texture (uniqueness, probes ``unique1`` and
  ``unique2``) and its own colour. Synergy comes from a fixed one-to-one texture → colour
  ``mapping``: probe ``synergy`` is 1 when ``mapping[texture of image 1] == colour of image 2``,
  a fact neither image shows alone.
* ``trifeature-captions``: an image and a caption naming 1, 2 or 3 of its attributes.

Pairs and captions by default draw image 1's (shape, texture, colour) from all 1000 triples in
both splits (test pairs are new renders from another random stream). This matters for the
synergy probe of ``trifeature-pairs``: with held-out test triples, a probe on the true attribute
labels (every pairwise combination except texture 1 × colour 2) predicted synergy at ~80%, so
the probe would have measured the split, not the model.

Train/test combinations (``heldout_combinations``, off by default): a (shape, texture, colour)
triple belongs to the test split iff
``(shape_id + texture_id + color_id) % 5 == 0``. That is exactly 200 of the 1000 triples, and the
rule is balanced: every shape, texture and colour — and every pair of them — has 8 train and
2 test completions, so a probe meets every single attribute value in both splits but never a
train triple at test time. For pairs the rule applies to image 1's triple (image 2 is made from
it: same shape, its own texture and colour).

Everything is a deterministic function of ``seed`` (and the split); train and test draw from
separate random streams.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmviz.data.base import DatasetInfo, PairedDataset, ParamSpec
from mmviz.data.captions import (
    MAX_TOKENS,
    NAMED_SETS,
    VOCAB,
    VOCAB_WITH_NEGATION,
    caption_ids,
    caption_table,
    encode,
    negated_caption_table,
    negated_truth,
)
from mmviz.data.registry import register, register_view_renderer
from mmviz.data.trifeature import COLORS, SHAPES, TEXTURES, render, sample_poses
from mmviz.errors import MmvizError

_SPLIT_STREAM = {"train": 0, "test": 1}
_MAX_SEED = 2**31 - 1
TEST_COMBINATION_RULE = "(shape_id + texture_id + color_id) % 5 == 0"


def _rng(seed: int, split: str, stream: int) -> np.random.Generator:
    """An independent generator per (seed, split, purpose)."""
    return np.random.default_rng([seed, _SPLIT_STREAM[split], stream])


def is_test_combination(shape_ids: np.ndarray, texture_ids: np.ndarray, color_ids: np.ndarray) -> np.ndarray:
    """Whether each (shape, texture, colour) triple is held out for the test split: (N,) bool."""
    return (np.asarray(shape_ids) + texture_ids + color_ids) % 5 == 0


def _all_triples() -> np.ndarray:
    """Every (shape, texture, colour) id triple: int64 array (1000, 3)."""
    return np.stack(np.meshgrid(np.arange(10), np.arange(10), np.arange(10), indexing="ij"), -1).reshape(-1, 3)


def split_combinations(split: str) -> np.ndarray:
    """The (shape, texture, colour) id triples of ``split``: int64 array (800, 3) or (200, 3)."""
    triples = _all_triples()
    held = is_test_combination(triples[:, 0], triples[:, 1], triples[:, 2])
    return triples[held if split == "test" else ~held]


def _attributes(shape_ids: np.ndarray, texture_ids: np.ndarray, color_ids: np.ndarray,
                suffix: str = "") -> dict[str, np.ndarray]:
    """Metadata columns naming the attributes (shape, texture, color) and their ids."""
    return {
        f"shape{suffix}": np.asarray(SHAPES, dtype=object)[shape_ids],
        f"texture{suffix}": np.asarray(TEXTURES, dtype=object)[texture_ids],
        f"color{suffix}": np.asarray(COLORS, dtype=object)[color_ids],
        f"shape{suffix}_id": shape_ids.astype(np.int64),
        f"texture{suffix}_id": texture_ids.astype(np.int64),
        f"color{suffix}_id": color_ids.astype(np.int64),
    }


def _names() -> dict[str, list[str]]:
    return {"shapes": list(SHAPES), "textures": list(TEXTURES), "colors": list(COLORS)}


_SIZE = ParamSpec("size", "int", 32, "Image width and height in pixels.", min=16, max=224)
_SEED = ParamSpec("seed", "int", 0, "Random seed: same seed, same dataset.", min=0, max=_MAX_SEED)


# ----------------------------------------------------------------------------- images
@register(DatasetInfo(
    name="trifeature",
    description="Trifeature images: one of 10 shapes × 10 textures × 10 colours, randomly "
                "rotated, placed and sized on a grey background (Hermann & Lampinen 2020).",
    kind="images",
    params=(
        ParamSpec("n", "int", 2000, "Number of images (in each split).", min=10, max=100_000),
        _SIZE,
        _SEED,
    ),
    modalities=("image",),
    train_size=lambda p: p["n"],
    cacheable=True,
))
def load_trifeature(split: str, n: int, size: int, seed: int) -> PairedDataset:
    """``n`` images with uniformly random attributes; metadata holds attributes and pose."""
    rng = _rng(seed, split, 0)
    shape, texture, color = (rng.integers(0, 10, n) for _ in range(3))
    poses = sample_poses(n, rng)
    images = render(shape, texture, color, size=size, poses=poses)
    meta = pd.DataFrame({
        **_attributes(shape, texture, color),
        "rotation": poses.rotation, "scale": poses.scale,
        "x": poses.center[:, 0], "y": poses.center[:, 1],
    })
    return PairedDataset("trifeature", split, {"n": n, "size": size, "seed": seed},
                         {"image": images}, meta, {**_names()})


# ----------------------------------------------------------------------------- pairs
def texture_color_mapping(mapping_seed: int) -> np.ndarray:
    """The synergy mapping: (10,) int64, ``mapping[texture_id] = color_id``, a permutation."""
    return np.random.default_rng([mapping_seed, 7]).permutation(10)


@register(DatasetInfo(
    name="trifeature-pairs",
    description="CoMM's bimodal Trifeature: two images sharing their shape (redundancy), each "
                "with its own texture (uniqueness); a texture→colour mapping across the two "
                "images carries synergy.",
    kind="pairs",
    params=(
        ParamSpec("n_train", "int", 10_000, "Pairs in the train split (CoMM: 10,000).", min=16, max=100_000),
        ParamSpec("n_test", "int", 4096, "Pairs in the test split (CoMM: 4,096).", min=16, max=100_000),
        _SIZE,
        _SEED,
        ParamSpec("biased", "bool", True,
                  "Train pairs obey the mapping: colour of image 2 = mapping[texture of image 1] "
                  "(CoMM's protocol for the synergy probe). Off: colours drawn independently (for "
                  "the redundancy and uniqueness probes). The test split is never biased."),
        ParamSpec("synergy_fraction", "float", 0.5,
                  "Fraction of test pairs where the mapping holds (0.1 = independent colours). "
                  "0.5 gives a balanced synergy probe.", min=0.0, max=1.0),
        ParamSpec("mapping_seed", "int", 0, "Seed of the texture→colour mapping.",
                  min=0, max=_MAX_SEED, advanced=True),
        ParamSpec("heldout_combinations", "bool", False,
                  "Image 1's (shape, texture, colour) triples split between train and test "
                  f"({TEST_COMBINATION_RULE}). Off: both splits draw from all 1000 (needed for "
                  "a fair synergy probe).", advanced=True),
    ),
    modalities=("image1", "image2"),
    train_size=lambda p: p["n_train"],
    cacheable=True,
))
def load_trifeature_pairs(split: str, n_train: int, n_test: int, size: int, seed: int,
                          biased: bool, synergy_fraction: float, mapping_seed: int,
                          heldout_combinations: bool = False) -> PairedDataset:
    """Pairs (image1, image2), both (N, 3, size, size) uint8; probe labels in the metadata.

    Image 1's (shape, texture, colour) is drawn uniformly from all 1000 triples (from the
    split's combinations with ``heldout_combinations``).
    Image 2 has image 1's shape and a uniformly random texture. Its colour:

    * train, ``biased``: ``mapping[texture1]`` (every pair has synergy = 1, as in CoMM);
    * train, not biased: uniform (synergy = 1 for ~10% of pairs, by chance);
    * test: exactly ``round(synergy_fraction * N)`` pairs (at random positions) get
      ``mapping[texture1]``; the others a uniformly random *other* colour, so the label is
      exact. An independent draw would make only 1 pair in 10 positive, and a probe could score
      90% by always answering "no"; a balanced split makes 50% the chance level, as in CoMM's
      reported synergy accuracies. ``synergy_fraction=0.1`` reproduces independent colours.
    """
    n = n_train if split == "train" else n_test
    mapping = texture_color_mapping(mapping_seed)
    rng = _rng(seed, split, 1)
    if heldout_combinations:
        combos = split_combinations(split)
        shape1, texture1, color1 = combos[rng.integers(0, len(combos), n)].T
    else:
        shape1, texture1, color1 = (rng.integers(0, 10, n) for _ in range(3))
    texture2 = rng.integers(0, 10, n)
    if split == "train" and biased:
        color2 = mapping[texture1]
    elif split == "train":
        color2 = rng.integers(0, 10, n)
    else:
        holds = np.zeros(n, dtype=bool)
        holds[rng.permutation(n)[: int(round(synergy_fraction * n))]] = True
        other = (mapping[texture1] + rng.integers(1, 10, n)) % 10  # any colour but the mapped one
        color2 = np.where(holds, mapping[texture1], other)
    image1 = render(shape1, texture1, color1, size=size, rng=rng)
    image2 = render(shape1, texture2, color2, size=size, rng=rng)
    meta = pd.DataFrame({
        "share": shape1.astype(np.int64),
        "unique1": texture1.astype(np.int64),
        "unique2": texture2.astype(np.int64),
        "synergy": (mapping[texture1] == color2).astype(np.int64),
        **_attributes(shape1, texture1, color1, "1"),
        **_attributes(shape1, texture2, color2, "2"),
    })
    params = {"n_train": n_train, "n_test": n_test, "size": size, "seed": seed, "biased": biased,
              "synergy_fraction": synergy_fraction, "mapping_seed": mapping_seed,
              "heldout_combinations": heldout_combinations}
    extras = {
        "mapping": mapping.tolist(),
        "mapping_names": [COLORS[c] for c in mapping],
        "probes": {"share": 10, "unique1": 10, "unique2": 10, "synergy": 2},
        "test_combination_rule": TEST_COMBINATION_RULE if heldout_combinations else None,
        **_names(),
    }
    return PairedDataset("trifeature-pairs", split, params, {"image1": image1, "image2": image2},
                         meta, extras)


@register_view_renderer("trifeature-pairs")
def render_pair_views(data: PairedDataset, index: np.ndarray, views: int,
                      rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``views`` fresh renders of each indexed pair's two images: same shape, textures and
    colours, new random poses (rotation, size, position, texture phase, noise).

    Returns ``{"image1": (B, V, 3, S, S), "image2": (B, V, 3, S, S)}`` uint8. Every label a probe
    asks for is kept exactly; what two renders of an image do not share is its pose, so a
    contrastive model cannot tell pairs apart by pose (two augmentations of *one* render keep its
    size and texture phase). Costs ~32 ms per 512 images at 32 px on one core.
    """
    meta = data.metadata.iloc[np.asarray(index)]
    size = int(data.params["size"])
    out = {}
    for side in ("1", "2"):
        ids = [np.repeat(meta[f"{attr}{side}_id"].to_numpy(), views) for attr in ("shape", "texture", "color")]
        images = render(*ids, size=size, rng=rng)
        out[f"image{side}"] = images.reshape(len(meta), views, *images.shape[1:])
    return out


# ----------------------------------------------------------------------------- captions
def _parse_levels(levels: str, level_weights: str) -> tuple[np.ndarray, np.ndarray]:
    """Caption levels and their probabilities from "1,2,3" and "1,1,1" (MmvizError if bad)."""
    try:
        lv = [int(x) for x in levels.split(",") if x.strip()]
        wt = [float(x) for x in level_weights.split(",") if x.strip()]
    except ValueError:
        raise MmvizError(f"levels and level_weights must be comma-separated numbers, "
                         f"got {levels!r} and {level_weights!r}") from None
    if not lv or len(set(lv)) != len(lv) or not set(lv) <= {1, 2, 3}:
        raise MmvizError(f"levels must be distinct values among 1, 2, 3, got {levels!r}")
    if len(wt) != len(lv):
        raise MmvizError(f"level_weights needs one weight per level ({len(lv)}), got {level_weights!r}")
    w = np.array(wt)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise MmvizError(f"level_weights must be non-negative with a positive sum, got {level_weights!r}")
    return np.array(lv), w / w.sum()


# _NAMED[level - 1, k] = which of (shape, texture, color) the k-th attribute set of a level names
_NAMED = np.array([
    [[attr in sets[k % len(sets)] for attr in ("shape", "texture", "color")] for k in range(3)]
    for sets in (NAMED_SETS[1], NAMED_SETS[2], NAMED_SETS[3])
])


def zero_shot_prompts() -> dict[str, list[int]]:
    """Caption ids of the level-1 prompts, per attribute, in attribute-id order:
    "a <shape>", "something <colour>", "something <texture>" (10 each)."""
    table = caption_table()
    out = {}
    for attr in ("shape", "color", "texture"):
        rows = table[(table.level == 1) & (table[f"{attr}_id"] >= 0)].sort_values(f"{attr}_id")
        out[attr] = rows.index.tolist()
    return out


EXCLUDE_CHOICES: tuple[str, ...] = ("none",) + tuple(
    f"{attr}:{name}" for attr, names in (("shape", SHAPES), ("color", COLORS), ("texture", TEXTURES))
    for name in names)
"""Values of ``exclude``: "none" or "attribute:value" (e.g. "color:red")."""


def parse_concept(concept: str) -> tuple[str, int]:
    """("color", 0) from "color:red": an attribute and a value id (MmvizError if unknown)."""
    attr, _, value = str(concept).partition(":")
    names = {"shape": SHAPES, "color": COLORS, "texture": TEXTURES}.get(attr.strip())
    if names is None or value.strip() not in names:
        raise MmvizError(f"a concept is attribute:value, e.g. color:red or shape:star; got {concept!r}")
    return attr.strip(), names.index(value.strip())


def _draw_triples(rng: np.random.Generator, count: int, split: str, heldout: bool,
                  exclude: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shape, texture, colour) ids of ``count`` images, uniform over the allowed triples."""
    if not heldout and exclude == "none":  # the original draw, kept so old datasets stay identical
        return tuple(rng.integers(0, 10, count) for _ in range(3))
    combos = split_combinations(split) if heldout else _all_triples()
    if exclude != "none" and split == "train":
        attr, value = parse_concept(exclude)
        combos = combos[combos[:, ("shape", "texture", "color").index(attr)] != value]
    return tuple(combos[rng.integers(0, len(combos), count)].T)


def _negate_captions(rng: np.random.Generator, fraction: float, shape: np.ndarray, texture: np.ndarray,
                     color: np.ndarray) -> np.ndarray:
    """Which negated caption replaces each sample's caption: (N,) row of
    :func:`negated_caption_table`, -1 = keep its caption. About ``fraction`` of the samples get
    one, drawn uniformly among the negated captions true of the image and not held out."""
    table = negated_caption_table()
    allowed = ~table.heldout.to_numpy()
    out = np.full(len(shape), -1, dtype=np.int64)
    chosen = np.flatnonzero(rng.random(len(shape)) < fraction)
    if len(chosen) == 0:
        return out
    truth = negated_truth(shape[chosen], texture[chosen], color[chosen]) & allowed[None, :]
    # a uniform pick among each row's true captions: the argmax of random keys on them
    keys = np.where(truth, rng.random(truth.shape), -1.0)
    out[chosen] = keys.argmax(axis=1)
    return out


@register(DatasetInfo(
    name="trifeature-captions",
    description="Trifeature images with captions naming 1, 2 or 3 of their attributes "
                "('a star', 'a red star', 'a red dotted star'): a hierarchy of generality for "
                "image–text models.",
    kind="pairs",
    params=(
        ParamSpec("n", "int", 20_000, "Image–caption pairs in the train split.", min=10, max=100_000),
        ParamSpec("n_test", "int", 2000, "Image–caption pairs in the test split.", min=10, max=100_000),
        _SIZE,
        _SEED,
        ParamSpec("levels", "str", "1,2,3",
                  "Caption levels to draw from (1 = one attribute named, 3 = all three)."),
        ParamSpec("level_weights", "str", "1,1,1",
                  "Relative probability of each level in `levels` (same count)."),
        ParamSpec("heldout_combinations", "bool", False,
                  "Test images use only (shape, texture, colour) triples never seen in training "
                  f"({TEST_COMBINATION_RULE}): compositional generalisation.", advanced=True),
        ParamSpec("negation", "float", 0.0,
                  "Fraction of training captions replaced by a negated caption true of the image "
                  "('a star that is not red', 'not a star'); a fifth of the negated captions are "
                  "held out for testing. Above 0 the vocabulary gains 'not', 'that', 'is'.",
                  min=0.0, max=0.9, advanced=True),
        ParamSpec("exclude", "choice", "none",
                  "Leave every training image with this attribute value out (the test split keeps "
                  "them): the gold standard of unlearning that concept.",
                  choices=EXCLUDE_CHOICES, advanced=True),
    ),
    modalities=("image", "text"),
    train_size=lambda p: p["n"],
    cacheable=True,
))
def load_trifeature_captions(split: str, n: int, n_test: int, size: int, seed: int, levels: str,
                             level_weights: str, heldout_combinations: bool, negation: float = 0.0,
                             exclude: str = "none") -> PairedDataset:
    """Images (N, 3, size, size) uint8 and captions as token ids (N, MAX_TOKENS) int64.

    Attributes are uniform over all 1000 triples (over the split's triples with
    ``heldout_combinations``); test images are fresh renders from a separate stream. A sample's
    level is drawn with ``level_weights``, then which attributes it names uniformly among that
    level's choices (level 1: shape, colour or texture; level 2: any two); the caption names
    exactly those attributes of the image.

    ``negation``: in the train split, that fraction of captions (drawn from a separate random
    stream, so the images and other captions do not change) becomes a negated caption true of
    the image, never a held-out one; metadata ``negated`` marks them and their ``caption_id``
    is 1330 + their row of the negated table. ``exclude``: training images never have that
    attribute value.
    """
    level_values, level_probs = _parse_levels(levels, level_weights)
    count = n if split == "train" else n_test
    rng = _rng(seed, split, 2)
    shape, texture, color = _draw_triples(rng, count, split, heldout_combinations, exclude)
    level = rng.choice(level_values, size=count, p=level_probs)
    # which of the level's attribute sets (3 at levels 1 and 2; level 3 has one, so 0)
    choice = rng.integers(0, 3, count) % np.where(level == 3, 1, 3)
    named = _NAMED[level - 1, choice]  # (N, 3) bool: shape, texture, color
    cap = caption_ids(shape, texture, color, named[:, 0], named[:, 1], named[:, 2])
    table = caption_table()
    vocab = VOCAB_WITH_NEGATION if negation > 0 else VOCAB
    caption_tokens = encode(table.caption.tolist(), MAX_TOKENS, len(vocab))
    images = render(shape, texture, color, size=size, rng=rng)
    text = caption_tokens[cap]
    captions = table.caption.to_numpy()[cap]
    negated = np.zeros(count, dtype=bool)
    if negation > 0 and split == "train":
        neg = _negate_captions(_rng(seed, split, 5), negation, shape, texture, color)
        negated = neg >= 0
        neg_table = negated_caption_table()
        text = text.copy()
        text[negated] = encode(neg_table.caption.tolist(), MAX_TOKENS, len(vocab))[neg[negated]]
        captions = np.where(negated, neg_table.caption.to_numpy()[np.maximum(neg, 0)], captions)
        cap = np.where(negated, len(table) + neg, cap)
        named = named & ~negated[:, None]
        level = np.where(negated, 0, level)
    meta = pd.DataFrame({
        **_attributes(shape, texture, color),
        "caption": captions,
        "level": level.astype(np.int64),
        "names_shape": named[:, 0], "names_texture": named[:, 1], "names_color": named[:, 2],
        "caption_id": cap,
    })
    if negation > 0:
        meta["negated"] = negated
    params = {"n": n, "n_test": n_test, "size": size, "seed": seed, "levels": levels,
              "level_weights": level_weights, "heldout_combinations": heldout_combinations,
              "negation": negation, "exclude": exclude}
    extras = {
        "vocab": list(vocab),
        "captions": table,
        "caption_tokens": caption_tokens,
        "prompts": zero_shot_prompts(),
        "test_combination_rule": TEST_COMBINATION_RULE if heldout_combinations else None,
        **_names(),
    }
    return PairedDataset("trifeature-captions", split, params, {"image": images, "text": text}, meta, extras)
