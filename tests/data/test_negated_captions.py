"""Negated captions: texts, ground truth, the held-out rule, the vocabulary, and the dataset's
``negation`` and ``exclude`` parameters."""

import numpy as np
import pytest

from mmviz.data.captions import (
    UNK,
    VOCAB,
    VOCAB_WITH_NEGATION,
    decode,
    encode,
    is_heldout_negation,
    negated_caption_table,
    negated_truth,
)
from mmviz.data.trifeature import COLORS, SHAPES, TEXTURES
from mmviz.data.trifeature_datasets import load_trifeature_captions, parse_concept
from mmviz.errors import MmvizError

STAR, SQUARE = SHAPES.index("star"), SHAPES.index("square")
RED, BLUE = COLORS.index("red"), COLORS.index("blue")
DOTS, STRIPES = TEXTURES.index("dots"), TEXTURES.index("stripes")


def _truth_of(caption: str, shape: int, texture: int, color: int) -> bool:
    table = negated_caption_table()
    row = table.index[table.caption == caption]
    assert len(row) == 1, caption
    return bool(negated_truth(np.array([shape]), np.array([texture]), np.array([color]))[0, row[0]])


def test_the_table_has_every_kind_once_and_fits_the_token_length():
    table = negated_caption_table()
    assert len(table) == 430 and table.caption.is_unique
    assert {"not a star", "something not red", "something not dotted", "a star that is not red",
            "a star that is not dotted", "something red that is not dotted",
            "something dotted that is not red", "not a tee"} <= set(table.caption)
    encode(table.caption.tolist(), vocab_size=len(VOCAB_WITH_NEGATION))  # raises if any needs > 8 tokens


@pytest.mark.parametrize("caption, image, expected", [
    ("a star that is not red", (STAR, DOTS, BLUE), True),     # a blue star is a star that is not red
    ("a star that is not red", (STAR, DOTS, RED), False),     # a red star is not
    ("a star that is not red", (SQUARE, DOTS, BLUE), False),  # a blue square is not a star at all
    ("not a star", (SQUARE, DOTS, RED), True),
    ("not a star", (STAR, DOTS, BLUE), False),
    ("something not red", (STAR, DOTS, BLUE), True),
    ("something not red", (SQUARE, STRIPES, RED), False),
    ("a star that is not dotted", (STAR, STRIPES, RED), True),
    ("a star that is not dotted", (STAR, DOTS, RED), False),
    ("something red that is not dotted", (SQUARE, STRIPES, RED), True),
    ("something red that is not dotted", (SQUARE, DOTS, RED), False),
    ("something dotted that is not red", (SQUARE, DOTS, BLUE), True),
    ("something dotted that is not red", (SQUARE, STRIPES, BLUE), False),
])
def test_ground_truth_of_hand_picked_cases(caption, image, expected):
    assert _truth_of(caption, *image) is expected


def test_each_image_has_63_true_negations_and_truth_matches_the_definition():
    table = negated_caption_table()
    rng = np.random.default_rng(0)
    s, t, c = (rng.integers(0, 10, 50) for _ in range(3))
    truth = negated_truth(s, t, c)
    assert (truth.sum(axis=1) == 27 + 36).all()  # 3 × 9 "not x" + 4 kinds × 9 negated values
    image = {"shape": s, "texture": t, "color": c}
    for j in rng.integers(0, len(table), 40):
        row = table.iloc[j]
        expect = image[row.negated] != row.negated_id
        if isinstance(row.named, str):
            expect &= image[row.named] == row.named_id
        np.testing.assert_array_equal(truth[:, j], expect)


def test_the_heldout_rule_keeps_a_fifth_of_every_kind():
    table = negated_caption_table()
    assert int(table.heldout.sum()) == 86
    assert table.groupby("kind").heldout.mean().eq(0.2).all()
    assert is_heldout_negation(np.array([STAR]), np.array([3])).tolist() == [(STAR + 3) % 5 == 0]


def test_old_vocabulary_keeps_its_ids_and_reads_new_words_as_unknown():
    assert VOCAB_WITH_NEGATION[: len(VOCAB)] == VOCAB
    old = encode(["a star that is not red"])
    new = encode(["a star that is not red"], vocab_size=len(VOCAB_WITH_NEGATION))
    assert old.max() < len(VOCAB) and (old == UNK).sum() == 3
    assert decode(new) == ["a star that is not red"]
    np.testing.assert_array_equal(encode(["a red star"]), encode(["a red star"], vocab_size=len(VOCAB_WITH_NEGATION)))


def _captions(**kw):
    return load_trifeature_captions("train", 400, 20, 16, 3, "1,2,3", "1,1,1", False, **kw)


def test_negation_replaces_captions_with_true_seen_negations_and_keeps_the_images():
    plain, negated = _captions(), _captions(negation=0.5)
    np.testing.assert_array_equal(plain.modalities["image"], negated.modalities["image"])
    meta = negated.metadata
    rows = meta.negated.to_numpy()
    assert 0.4 < rows.mean() < 0.6
    assert (negated.modalities["text"][~rows] == plain.modalities["text"][~rows]).all()
    table = negated_caption_table()
    ids = meta.caption_id.to_numpy()[rows] - 1330
    truth = negated_truth(meta.shape_id.to_numpy()[rows], meta.texture_id.to_numpy()[rows],
                          meta.color_id.to_numpy()[rows])
    assert truth[np.arange(rows.sum()), ids].all()
    assert not table.heldout.to_numpy()[ids].any()
    assert decode(negated.modalities["text"][rows][:5]) == meta.caption[rows][:5].tolist()
    assert negated.extras["vocab"] == list(VOCAB_WITH_NEGATION) and plain.extras["vocab"] == list(VOCAB)


def test_the_test_split_has_no_negated_captions_but_the_longer_vocabulary():
    test = load_trifeature_captions("test", 400, 60, 16, 3, "1,2,3", "1,1,1", False, negation=0.5)
    assert not test.metadata.negated.any() and len(test.extras["vocab"]) == len(VOCAB_WITH_NEGATION)


def test_exclude_leaves_the_concept_out_of_training_only():
    train = _captions(exclude="color:red")
    assert (train.metadata.color_id != RED).all()
    test = load_trifeature_captions("test", 400, 300, 16, 3, "1,2,3", "1,1,1", False, exclude="color:red")
    assert (test.metadata.color_id == RED).any()


def test_a_bad_concept_is_one_clear_error():
    assert parse_concept("shape:star") == ("shape", STAR)
    with pytest.raises(MmvizError, match="attribute:value"):
        parse_concept("colour:reddish")
