"""Captions for Trifeature images, and the tiny word-level tokenizer that encodes them.

A caption names one, two or all three of an image's attributes:

* level 1: "a star", "something red", "something dotted"
* level 2: "a red star", "a dotted star", "something red and dotted"
* level 3: "a red dotted star"

so there are 30 + 300 + 1000 = 1330 distinct captions, and a caption is true of (entails)
exactly the images that have every attribute it names. The article is "an" before a vowel.

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

_TOKEN_ID = {word: i for i, word in enumerate(VOCAB)}

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


def encode(texts: Sequence[str], length: int = MAX_TOKENS) -> np.ndarray:
    """Token ids of each text: int64 array of shape (N, length), ``<bos> words <eos>`` then 0s.

    Words outside :data:`VOCAB` become ``<unk>``; lower-cased, split on whitespace.
    Raises ValueError if a text needs more than ``length`` tokens.
    """
    out = np.zeros((len(texts), length), dtype=np.int64)
    for i, text in enumerate(texts):
        ids = [BOS] + [_TOKEN_ID.get(w, UNK) for w in text.lower().split()] + [EOS]
        if len(ids) > length:
            raise ValueError(f"{text!r} needs {len(ids)} tokens, more than {length}")
        out[i, : len(ids)] = ids
    return out


def decode(tokens: np.ndarray) -> list[str]:
    """Texts of token ids (N, L): words joined by spaces, special tokens dropped (except <unk>)."""
    return [
        " ".join(VOCAB[t] for t in row if t not in (PAD, BOS, EOS))
        for row in np.asarray(tokens).tolist()
    ]
