"""The digits dataset: sklearn's images with captions that name the right digit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from mmviz.data.digits import (
    INFO,
    NUMBER_WORDS,
    TEMPLATES,
    build_vocab,
    caption,
    caption_length,
    load_digits_pairs,
    to_uint8_images,
    tokenize,
)
from mmviz.data.registry import load
from mmviz.errors import MmvizError

SOURCE = load_digits()


def decode(ids: np.ndarray, vocab: list[str]) -> str:
    return " ".join(vocab[i] for i in ids if i != 0)


@pytest.mark.parametrize(("test_fraction", "sizes"), [(0.2, (1437, 360)), (0.5, (898, 899))])
def test_split_sizes_are_disjoint_and_cover_everything(test_fraction: float, sizes) -> None:
    train = load_digits_pairs("train", test_fraction=test_fraction)
    test = load_digits_pairs("test", test_fraction=test_fraction)
    assert (len(train), len(test)) == sizes
    a, b = train.metadata["source_index"].to_numpy(), test.metadata["source_index"].to_numpy()
    assert not set(a) & set(b)
    np.testing.assert_array_equal(np.sort(np.concatenate([a, b])), np.arange(1797))
    # Stratified: every class keeps its share in the test split (to within one image).
    expected = np.bincount(SOURCE.target) * test_fraction
    assert np.all(np.abs(np.bincount(test.metadata["label"], minlength=10) - expected) <= 1)


@pytest.mark.parametrize("split", ["train", "test"])
def test_labels_and_images_are_sklearns(split: str) -> None:
    data = load_digits_pairs(split)
    rows = data.metadata["source_index"].to_numpy()
    assert data.metadata["label"].dtype == np.int64
    np.testing.assert_array_equal(data.metadata["label"], SOURCE.target[rows])
    images = data.modalities["image"]
    assert images.dtype == np.uint8 and images.shape == (len(rows), 1, 8, 8)
    np.testing.assert_array_equal(images[:, 0], np.rint(SOURCE.images[rows] * 255 / 16))
    assert images.max() == 255 and images.min() == 0


@pytest.mark.parametrize("split", ["train", "test"])
def test_captions_name_the_right_digit(split: str) -> None:
    data = load_digits_pairs(split)
    vocab, templates = data.extras["vocab"], data.extras["templates"]
    assert templates == list(TEMPLATES)
    for label, text, template, ids in zip(
        data.metadata["label"], data.metadata["caption"], data.metadata["template"], data.modalities["text"]
    ):
        said = set(text.split())
        named = {d for d in range(10) if NUMBER_WORDS[d] in said or str(d) in said}
        assert named == {label}, text
        assert text == caption(label, templates[template])
        assert decode(ids, vocab) == text
    assert set(data.metadata["template"]) == set(range(len(TEMPLATES)))


def test_caption_examples() -> None:
    assert [caption(7, t) for t in TEMPLATES] == [
        "seven", "the digit 7", "a handwritten 7", "number seven", "a handwritten digit seven",
        "an image of the number 7",
    ]


def test_text_tokens_are_padded_int64() -> None:
    data = load_digits_pairs("train")
    text = data.modalities["text"]
    length = caption_length()
    assert text.dtype == np.int64 and text.shape == (len(data), length) and length == 6
    lengths = (text != 0).sum(axis=1)
    np.testing.assert_array_equal(lengths, [len(c.split()) for c in data.metadata["caption"]])
    # padding only at the end
    assert all(not row[n:].any() and row[:n].all() for row, n in zip(text, lengths))


def test_vocabulary() -> None:
    vocab = build_vocab()
    assert vocab[:2] == ["<pad>", "<unk>"]
    assert set(NUMBER_WORDS) | {str(d) for d in range(10)} <= set(vocab)
    assert len(vocab) == len(set(vocab)) == 2 + 20 + len({"the", "digit", "a", "handwritten", "number", "an",
                                                           "image", "of"})


def test_tokenize_unknown_words_and_truncation() -> None:
    vocab = build_vocab()
    ids = tokenize(["The DIGIT 7", "a purple 7", "the digit 7 the digit 7"], vocab, 4)
    seven, the, digit = vocab.index("7"), vocab.index("the"), vocab.index("digit")
    np.testing.assert_array_equal(ids, [[the, digit, seven, 0], [vocab.index("a"), 1, seven, 0],
                                        [the, digit, seven, the]])


@pytest.mark.parametrize("n_templates", [1, 3, 6])
def test_zero_shot_prompts(n_templates: int) -> None:
    data = load_digits_pairs("test", n_templates=n_templates)
    prompts, texts, vocab = data.extras["prompts"], data.extras["prompt_texts"], data.extras["vocab"]
    assert prompts.shape == (n_templates, 10, caption_length()) and prompts.dtype == np.int64
    for t in range(n_templates):
        assert texts[t] == [caption(c, TEMPLATES[t]) for c in range(10)]
        assert [decode(row, vocab) for row in prompts[t]] == texts[t]
        assert len({tuple(row) for row in prompts[t]}) == 10
    assert set(data.metadata["template"]) == set(range(n_templates))
    assert data.extras["class_names"] == list(NUMBER_WORDS)


def test_one_template_gives_the_number_word() -> None:
    data = load_digits_pairs("train", n_templates=1)
    assert list(data.metadata["caption"]) == [NUMBER_WORDS[d] for d in data.metadata["label"]]


@pytest.mark.parametrize("split", ["train", "test"])
def test_deterministic_by_seed(split: str) -> None:
    a, b = load_digits_pairs(split, seed=3), load_digits_pairs(split, seed=3)
    np.testing.assert_array_equal(a.modalities["image"], b.modalities["image"])
    np.testing.assert_array_equal(a.modalities["text"], b.modalities["text"])
    assert a.metadata.equals(b.metadata)
    c = load_digits_pairs(split, seed=4)
    assert not np.array_equal(a.metadata["source_index"], c.metadata["source_index"])


def test_caption_of_an_image_does_not_depend_on_the_split_fraction() -> None:
    a = load_digits_pairs("test", test_fraction=0.2).metadata.set_index("source_index")["caption"]
    b = load_digits_pairs("test", test_fraction=0.5).metadata.set_index("source_index")["caption"]
    common = a.index.intersection(b.index)
    assert len(common) > 100
    assert (a[common] == b[common]).all()


@pytest.mark.parametrize("size", [16, 32])
def test_nearest_upsampling_repeats_pixels(size: int) -> None:
    small = load_digits_pairs("test").modalities["image"]
    big = load_digits_pairs("test", size=size).modalities["image"]
    factor = size // 8
    assert big.shape == (len(small), 1, size, size) and big.dtype == np.uint8
    np.testing.assert_array_equal(big[:, :, ::factor, ::factor], small)
    np.testing.assert_array_equal(big, small.repeat(factor, axis=2).repeat(factor, axis=3))


def test_bilinear_upsampling_interpolates() -> None:
    image = np.zeros((1, 8, 8))
    image[0, :, 4:] = 16.0  # a vertical edge between columns 3 and 4
    out = to_uint8_images(image, size=16, resample="bilinear")
    assert out.shape == (1, 1, 16, 16) and out.dtype == np.uint8
    # Pixel-centre alignment: output columns 7 and 8 sit a quarter pixel from the edge.
    np.testing.assert_array_equal(out[0, 0, 0, :], [0] * 7 + [64, 191] + [255] * 7)
    assert (out[0, 0] == out[0, 0, :1]).all()  # every row alike
    np.testing.assert_array_equal(to_uint8_images(image, 8, "bilinear"), to_uint8_images(image, 8, "nearest"))


def test_registered_and_loadable_by_name() -> None:
    assert INFO.kind == "pairs" and INFO.modalities == ("image", "text")
    data = load("digits", split="test", size="16")
    assert data.modalities["image"].shape == (360, 1, 16, 16)
    assert data.pair == ("image", "text")


@pytest.mark.parametrize(("params", "message"), [(dict(size=12), "size must be one of"),
                                                 (dict(n_templates=7), "n_templates must be"),
                                                 (dict(test_fraction=1.0), "test_fraction must be")])
def test_bad_parameters_say_what_is_wrong(params, message: str) -> None:
    with pytest.raises(MmvizError, match=message):
        load_digits_pairs("train", **params)
