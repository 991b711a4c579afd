"""Captions for Trifeature images, and the tiny word-level tokenizer that encodes them.

A caption names one, two or all three of an image's attributes:

* level 1: "a star", "something red", "something dotted"
* level 2: "a red star", "a dotted star", "something red and dotted"
* level 3: "a red dotted star"

so there are 30 + 300 + 1000 = 1330 distinct captions, and a caption is true of (entails)
exactly the images that have every attribute it names. The article is "an" before a vowel.

Negated captions (:func:`negated_caption_table`, 430 of them) name what an image is *not*:

* one attribute negated: "not a star", "something not red", "something not dotted" (30);
* one attribute named, another negated: "a star that is not red", "a star that is not dotted",
  "something red that is not dotted", "something dotted that is not red" (400).

A negated caption is true of an image that has its named attribute and lacks the negated
value. Their words ("not", "that", "is") come after every other word in
:data:`VOCAB_WITH_NEGATION`, so a model trained on the shorter :data:`VOCAB` keeps its token ids
and reads the new words as ``<unk>``. A fifth of the negated captions are *held out*
(:func:`is_heldout_negation`): a model trained with negations never sees them.

Token ids: 0 = ``<pad>``, 1 = ``<bos>``, 2 = ``<eos>``, 3 = ``<unk>``, then the words. A
caption is encoded as ``<bos> words <eos>`` padded with zeros to :data:`MAX_TOKENS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from mmviz.data.trifeature import COLORS, SHAPES, TEXTURES

TEXTURE_WORDS: tuple[str, ...] = (
    "solid", "striped", "gridded", "honeycombed", "dotted",
    "noisy", "triangled", "zigzagged", "rainy", "plussed",
)
"""The adjective for each texture, in :data:`~mmviz.data.trifeature.TEXTURES` order."""

SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<bos>", "<eos>", "<unk>")
PAD, BOS, EOS, UNK = 0, 1, 2, 3
MAX_TOKENS = 8
"""Fixed token length L: the longest caption has 4 words, plus <bos> and <eos>."""

VOCAB: tuple[str, ...] = SPECIAL_TOKENS + ("a", "an", "something", "and") + SHAPES + COLORS + TEXTURE_WORDS
"""Every token, indexed by id."""

NEGATION_WORDS: tuple[str, ...] = ("not", "that", "is")
VOCAB_WITH_NEGATION: tuple[str, ...] = VOCAB + NEGATION_WORDS
"""The vocabulary of caption sets with negated captions: :data:`VOCAB`'s ids, then the new words."""

_TOKEN_ID = {word: i for i, word in enumerate(VOCAB_WITH_NEGATION)}
ATTRIBUTE_NAMES: tuple[str, ...] = ("shape", "color", "texture")

# Which attributes a caption names, per level, in the order captions are listed.
NAMED_SETS: dict[int, tuple[tuple[str, ...], ...]] = {
    1: (("shape",), ("color",), ("texture",)),
    2: (("shape", "color"), ("shape", "texture"), ("color", "texture")),
    3: (("shape", "color", "texture"),),
}


def caption_text(shape: int | None = None, texture: int | None = None, color: int | None = None) -> str:
    """The caption naming the given attribute ids (None = not named); at least one is named.

    Word order: colour, texture, shape ("a red dotted star"); without a shape the noun is
    "something" and the adjectives follow it ("something red and dotted").
    """
    adjectives = []
    if color is not None:
        adjectives.append(COLORS[color])
    if texture is not None:
        adjectives.append(TEXTURE_WORDS[texture])
    if shape is None:
        if not adjectives:
            raise ValueError("a caption must name at least one attribute")
        return "something " + " and ".join(adjectives)
    words = adjectives + [SHAPES[shape]]
    article = "an" if words[0][0] in "aeiou" else "a"
    return " ".join([article] + words)


def caption_table() -> pd.DataFrame:
    """All 1330 distinct captions, one row each (row index = caption id).

    Columns: caption (str), level (1..3), shape/texture/color (names, None where not named),
    shape_id/texture_id/color_id (-1 where not named). Rows go by level, then by named set in
    :data:`NAMED_SETS` order; within a set the texture id varies fastest, then colour, then shape.
    """
    rows = []
    for level, sets in NAMED_SETS.items():
        for named in sets:
            ranges = [range(10) if attr in named else [None] for attr in ("shape", "color", "texture")]
            for shape in ranges[0]:
                for color in ranges[1]:
                    for texture in ranges[2]:
                        rows.append({
                            "caption": caption_text(shape, texture, color),
                            "level": level,
                            "shape": None if shape is None else SHAPES[shape],
                            "texture": None if texture is None else TEXTURES[texture],
                            "color": None if color is None else COLORS[color],
                            "shape_id": -1 if shape is None else shape,
                            "texture_id": -1 if texture is None else texture,
                            "color_id": -1 if color is None else color,
                        })
    return pd.DataFrame(rows)


def caption_ids(shape_ids: np.ndarray, texture_ids: np.ndarray, color_ids: np.ndarray,
                names_shape: np.ndarray, names_texture: np.ndarray, names_color: np.ndarray) -> np.ndarray:
    """Row of :func:`caption_table` for each sample: int64 array of shape (N,).

    shape_ids, texture_ids, color_ids: (N,) attribute ids of the images; names_*: (N,) bool,
    which attributes the caption names (at least one per row).
    """
    if not np.all(np.asarray(names_shape) | names_texture | names_color):
        raise ValueError("every caption must name at least one attribute")
    lookup = _caption_lookup()
    s = np.where(names_shape, shape_ids, -1)
    t = np.where(names_texture, texture_ids, -1)
    c = np.where(names_color, color_ids, -1)
    return np.array([lookup[k] for k in _key(s, t, c).tolist()], dtype=np.int64)


@lru_cache(maxsize=1)
def _caption_lookup() -> dict[int, int]:
    """Caption id of each :func:`_key` of (shape_id, texture_id, color_id), -1 = not named."""
    table = caption_table()
    keys = _key(table.shape_id.to_numpy(), table.texture_id.to_numpy(), table.color_id.to_numpy())
    return dict(zip(keys.tolist(), range(len(table))))


def _key(shape: np.ndarray, texture: np.ndarray, color: np.ndarray) -> np.ndarray:
    """One integer per (shape, texture, color) triple of ids in -1..9 (11 values each)."""
    return (shape + 1) * 121 + (texture + 1) * 11 + (color + 1)


def encode(texts: Sequence[str], length: int = MAX_TOKENS, vocab_size: int = len(VOCAB)) -> np.ndarray:
    """Token ids of each text: int64 array of shape (N, length), ``<bos> words <eos>`` then 0s.

    Words outside the first ``vocab_size`` words of :data:`VOCAB_WITH_NEGATION` (by default
    :data:`VOCAB`) become ``<unk>``; lower-cased, split on whitespace.
    Raises ValueError if a text needs more than ``length`` tokens.
    """
    out = np.zeros((len(texts), length), dtype=np.int64)
    for i, text in enumerate(texts):
        ids = [BOS] + [_word_id(w, vocab_size) for w in text.lower().split()] + [EOS]
        if len(ids) > length:
            raise ValueError(f"{text!r} needs {len(ids)} tokens, more than {length}")
        out[i, : len(ids)] = ids
    return out


def attribute_token_ids(attribute: str) -> list[int]:
    """Token ids of an attribute's 10 words ("shape", "color" or "texture"), in value-id order."""
    words = {"shape": SHAPES, "color": COLORS, "texture": TEXTURE_WORDS}[attribute]
    return [_TOKEN_ID[w] for w in words]


def _word_id(word: str, vocab_size: int) -> int:
    i = _TOKEN_ID.get(word, UNK)
    return i if i < vocab_size else UNK


def decode(tokens: np.ndarray) -> list[str]:
    """Texts of token ids (N, L): words joined by spaces, special tokens dropped (except <unk>)."""
    return [
        " ".join(VOCAB_WITH_NEGATION[t] for t in row if t not in (PAD, BOS, EOS))
        for row in np.asarray(tokens).tolist()
    ]


# ----------------------------------------------------------------------------- negations
_ADJECTIVES = {"color": COLORS, "texture": TEXTURE_WORDS}
NEGATION_KINDS: tuple[tuple[str | None, str], ...] = (
    (None, "shape"), (None, "color"), (None, "texture"),
    ("shape", "color"), ("shape", "texture"), ("color", "texture"), ("texture", "color"),
)
"""(named attribute, negated attribute) of each kind of negated caption, in table order."""


def negated_caption_text(named: str | None, named_id: int, negated: str, negated_id: int) -> str:
    """"not a star", "something not red", "a star that is not red", "something red that is not
    dotted": ``named`` (None for none) with value ``named_id``, ``negated`` with ``negated_id``."""
    if named is None:
        if negated == "shape":
            noun = SHAPES[negated_id]
            return f"not {'an' if noun[0] in 'aeiou' else 'a'} {noun}"
        return f"something not {_ADJECTIVES[negated][negated_id]}"
    if named == "shape":
        noun = SHAPES[named_id]
        head = f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"
    else:
        head = f"something {_ADJECTIVES[named][named_id]}"
    if negated == "shape":
        raise ValueError("a negated shape goes without a named attribute ('not a star')")
    return f"{head} that is not {_ADJECTIVES[negated][negated_id]}"


def is_heldout_negation(named_id: np.ndarray, negated_id: np.ndarray) -> np.ndarray:
    """Whether negated captions are held out from training: (N,) bool.

    ``(named_id + negated_id) % 5 == 0``, with ``named_id = -1 + 1 = 0`` for "not X" captions,
    i.e. ``negated_id % 5 == 0`` there: 2 of every 10 values of each kind (86 of 430 captions).
    """
    named_id = np.where(np.asarray(named_id) < 0, 0, named_id)
    return (named_id + np.asarray(negated_id)) % 5 == 0


@lru_cache(maxsize=1)
def negated_caption_table() -> pd.DataFrame:
    """The 430 negated captions, one row each (row index = negated caption id).

    Columns: caption, kind (index into :data:`NEGATION_KINDS`), named (attribute or None),
    named_id (-1 for none), negated (attribute), negated_id, shape_id/texture_id/color_id (the
    named value, -1 elsewhere), heldout (bool, :func:`is_heldout_negation`).
    """
    rows = []
    for kind, (named, negated) in enumerate(NEGATION_KINDS):
        for named_id in (range(10) if named else [-1]):
            for negated_id in range(10):
                ids = {a: -1 for a in ATTRIBUTE_NAMES}
                if named:
                    ids[named] = named_id
                rows.append({
                    "caption": negated_caption_text(named, named_id, negated, negated_id),
                    "kind": kind, "named": named, "named_id": named_id,
                    "negated": negated, "negated_id": negated_id,
                    **{f"{a}_id": ids[a] for a in ATTRIBUTE_NAMES},
                })
    table = pd.DataFrame(rows)
    table["heldout"] = is_heldout_negation(table.named_id.to_numpy(), table.negated_id.to_numpy())
    return table


def negated_truth(shape_ids: np.ndarray, texture_ids: np.ndarray, color_ids: np.ndarray,
                  table: pd.DataFrame | None = None) -> np.ndarray:
    """Which negated captions are true of which images: (N, M) bool.

    Images by their attribute ids (N,); captions the rows of ``table`` (default all of
    :func:`negated_caption_table`). True iff the image has the named value (if any) and does
    not have the negated one.
    """
    table = negated_caption_table() if table is None else table
    image = {"shape": np.asarray(shape_ids), "texture": np.asarray(texture_ids), "color": np.asarray(color_ids)}
    truth = np.ones((len(image["shape"]), len(table)), dtype=bool)
    for attr in ATTRIBUTE_NAMES:
        named = table[f"{attr}_id"].to_numpy()
        truth &= (named[None, :] < 0) | (image[attr][:, None] == named[None, :])
        is_negated = (table.negated == attr).to_numpy()
        truth &= ~is_negated[None, :] | (image[attr][:, None] != table.negated_id.to_numpy()[None, :])
    return truth
