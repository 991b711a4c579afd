"""Trifeature captions and their word-level tokenizer."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mmviz.data import captions as cap
from mmviz.data.trifeature import COLORS, SHAPES, TEXTURES

STAR, RED, DOTS = SHAPES.index("star"), COLORS.index("red"), TEXTURES.index("dots")
ORANGE = COLORS.index("orange")


@pytest.mark.parametrize("shape,texture,color,text", [
    (STAR, None, None, "a star"),
    (None, None, RED, "something red"),
    (None, DOTS, None, "something dotted"),
    (STAR, None, RED, "a red star"),
    (STAR, DOTS, None, "a dotted star"),
    (None, DOTS, RED, "something red and dotted"),
    (STAR, DOTS, RED, "a red dotted star"),
    (STAR, None, ORANGE, "an orange star"),
    (SHAPES.index("circle"), TEXTURES.index("hexgrid"), COLORS.index("ocean"), "an ocean honeycombed circle"),
])
def test_caption_text(shape, texture, color, text):
    assert cap.caption_text(shape, texture, color) == text


def test_caption_text_needs_an_attribute():
    with pytest.raises(ValueError):
        cap.caption_text()


def test_caption_table_counts_and_uniqueness():
    table = cap.caption_table()
    assert len(table) == 1330
    assert list(table.level.value_counts().sort_index()) == [30, 300, 1000]
    assert table.caption.is_unique
    named = (table[["shape_id", "texture_id", "color_id"]] >= 0).sum(axis=1)
    assert np.array_equal(named, table.level)
    for attr, names in (("shape", SHAPES), ("texture", TEXTURES), ("color", COLORS)):
        has = table[f"{attr}_id"] >= 0
        assert list(table.loc[has, attr]) == [names[i] for i in table.loc[has, f"{attr}_id"]]
        assert table.loc[~has, attr].isna().all()


def test_caption_ids_are_exact_for_every_triple_and_attribute_set():
    """Each (image triple, named set) maps to the one caption naming exactly those values, and
    each caption entails 100, 10 or 1 of the 1000 triples at level 1, 2, 3."""
    table = cap.caption_table()
    triples = np.array(list(itertools.product(range(10), repeat=3)))  # shape, texture, color
    entailed = np.zeros(len(table), dtype=int)
    for named in itertools.product([False, True], repeat=3):
        if not any(named):
            continue
        flags = [np.full(1000, f) for f in named]
        ids = cap.caption_ids(triples[:, 0], triples[:, 1], triples[:, 2], *flags)
        for col, attr in enumerate(("shape_id", "texture_id", "color_id")):
            want = triples[:, col] if named[col] else -1
            assert np.all(table[attr].to_numpy()[ids] == want)
        entailed += np.bincount(ids, minlength=len(table))
    assert np.array_equal(entailed, np.array([100, 10, 1])[table.level.to_numpy() - 1])


def test_caption_ids_reject_captions_naming_nothing():
    with pytest.raises(ValueError):
        cap.caption_ids(np.array([0]), np.array([0]), np.array([0]),
                        np.array([False]), np.array([False]), np.array([False]))


def test_vocab_has_unique_tokens_and_fixed_specials():
    assert len(set(cap.VOCAB)) == len(cap.VOCAB) == 4 + 4 + 30
    assert cap.VOCAB[cap.PAD] == "<pad>" and cap.VOCAB[cap.BOS] == "<bos>"
    assert cap.VOCAB[cap.EOS] == "<eos>" and cap.VOCAB[cap.UNK] == "<unk>"


def test_encode_decode_round_trip_for_every_caption():
    texts = cap.caption_table().caption.tolist()
    tokens = cap.encode(texts)
    assert tokens.shape == (1330, cap.MAX_TOKENS) and tokens.dtype == np.int64
    assert np.all(tokens[:, 0] == cap.BOS)
    lengths = (tokens != cap.PAD).sum(1)
    assert np.all(tokens[np.arange(1330), lengths - 1] == cap.EOS)
    assert cap.UNK not in tokens
    assert cap.decode(tokens) == texts


def test_encode_known_ids_unknown_words_and_overflow():
    tokens = cap.encode(["A red STAR", "a purple unicorn"], length=6)
    v = cap.VOCAB
    assert tokens[0].tolist() == [cap.BOS, v.index("a"), v.index("red"), v.index("star"), cap.EOS, cap.PAD]
    assert tokens[1, 3] == cap.UNK
    assert cap.decode(tokens)[1] == "a purple <unk>"
    with pytest.raises(ValueError, match="tokens"):
        cap.encode(["a red dotted star and more"], length=6)
