"""scikit-learn's 8×8 handwritten digits paired with captions naming the digit.

The images ship with scikit-learn (``sklearn.datasets.load_digits``, 1797 of them), so
nothing is downloaded. Each image gets one caption from a small set of templates
("seven", "the digit 7", "a handwritten 7", ...), chosen by the seed, and the caption
is tokenised with a closed word vocabulary built here (id 0 = padding).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from mmviz.data.base import DatasetInfo, PairedDataset, ParamSpec
from mmviz.data.registry import register, resolve_params
from mmviz.errors import MmvizError

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEMPLATES = (
    "{word}",
    "the digit {digit}",
    "a handwritten {digit}",
    "number {word}",
    "a handwritten digit {word}",
    "an image of the number {digit}",
)
PAD, UNKNOWN = "<pad>", "<unk>"  # ids 0 and 1
GREY_MAX = 16.0  # load_digits counts pixels 0..16 (ink in a 4×4 block)


def caption(label: int, template: str) -> str:
    """The caption of digit ``label`` (0–9) written with ``template``."""
    return template.format(word=NUMBER_WORDS[label], digit=label)


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` (whitespace-separated)."""
    return text.lower().split()


def build_vocab(templates: Sequence[str] = TEMPLATES) -> list[str]:
    """``[PAD, UNKNOWN, *sorted words]`` of every caption the templates write."""
    found = {w for t in templates for label in range(10) for w in words(caption(label, t))}
    return [PAD, UNKNOWN, *sorted(found)]


def tokenize(texts: Sequence[str], vocab: Sequence[str], length: int) -> np.ndarray:
    """Token ids (N, length) int64, padded with 0; unknown words map to 1, long texts are cut."""
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.zeros((len(texts), length), dtype=np.int64)
    for row, text in enumerate(texts):
        tokens = [index.get(w, 1) for w in words(text)][:length]
        ids[row, : len(tokens)] = tokens
    return ids


def caption_length(templates: Sequence[str] = TEMPLATES) -> int:
    """The most words any caption of ``templates`` has."""
    return max(len(words(caption(label, t))) for t in templates for label in range(10))


def to_uint8_images(images: np.ndarray, size: int = 8, resample: str = "nearest") -> np.ndarray:
    """images: (N, 8, 8) float in 0..16 → (N, 1, size, size) uint8 in 0..255.

    ``size`` is a multiple of 8; ``nearest`` repeats pixels, ``bilinear`` interpolates
    (pixel-centre aligned, edges held).
    """
    factor = size // 8
    if size % 8 or factor < 1:
        raise MmvizError(f"size must be a multiple of 8, got {size}")
    images = np.asarray(images, dtype=np.float64)
    if factor > 1 and resample == "nearest":
        images = images.repeat(factor, axis=1).repeat(factor, axis=2)
    elif factor > 1 and resample == "bilinear":
        from scipy.ndimage import zoom

        images = zoom(images, (1, factor, factor), order=1, grid_mode=True, mode="nearest")
    elif factor > 1:
        raise MmvizError(f"resample must be nearest or bilinear, got {resample!r}")
    # Bilinear values are convex combinations of 0..16, so the scaled values stay in 0..255.
    return np.rint(images * (255.0 / GREY_MAX)).astype(np.uint8)[:, None]


def split_indices(labels: np.ndarray, test_fraction: float, seed: int) -> dict[str, np.ndarray]:
    """Stratified train/test row indices (each sorted) of ``labels`` (N,)."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(
        np.arange(len(labels)), test_size=test_fraction, stratify=labels, random_state=seed
    )
    return {"train": np.sort(train), "test": np.sort(test)}


@lru_cache(maxsize=16)
def train_size(test_fraction: float, seed: int) -> int:
    """Training pairs of the split (labels only, no images): what a batch may not exceed."""
    from sklearn.datasets import load_digits

    return len(split_indices(load_digits().target, test_fraction, seed)["train"])


INFO = DatasetInfo(
    name="digits",
    train_size=lambda p: train_size(p["test_fraction"], p["seed"]),
    description=(
        "scikit-learn's 1797 handwritten 8×8 digits paired with captions that name the digit "
        "(\"seven\", \"the digit 7\", ...): the MNIST-style image–text experiment."
    ),
    kind="pairs",
    modalities=("image", "text"),
    params=(
        ParamSpec("size", "choice", 8, "image side in pixels (upsampled from 8)", choices=(8, 16, 32)),
        ParamSpec("resample", "choice", "nearest", "how images are upsampled", choices=("nearest", "bilinear"),
                  advanced=True),
        ParamSpec("n_templates", "int", len(TEMPLATES), "how many caption templates are used (the first ones)",
                  min=1, max=len(TEMPLATES)),
        ParamSpec("test_fraction", "float", 0.2, "share of the images held out for test (stratified)",
                  min=0.05, max=0.9),
        ParamSpec("seed", "int", 0, "seed of the split and of the caption templates", min=0),
    ),
)


@register(INFO)
def load_digits_pairs(split: str = "train", **params: Any) -> PairedDataset:
    """Images (N, 1, size, size) uint8 and caption tokens (N, L) int64.

    Metadata: ``label`` (0–9), ``caption``, ``template`` (index into ``extras["templates"]``),
    ``source_index`` (row in ``load_digits()``). Extras: ``vocab``, ``templates``,
    ``class_names``, ``prompts`` (n_templates, 10, L) int64 token ids of every class's caption
    under every template (for zero-shot), ``prompt_texts`` (the same as strings).
    """
    from sklearn.datasets import load_digits

    if split not in ("train", "test"):
        raise MmvizError(f"dataset 'digits' has no split {split!r}; splits: train, test")
    params = resolve_params(INFO.name, params)
    templates = list(TEMPLATES[: params["n_templates"]])
    vocab = build_vocab(TEMPLATES)  # from all templates, so ids do not depend on n_templates
    length = caption_length(TEMPLATES)

    source = load_digits()
    labels = source.target.astype(np.int64)
    # Templates are drawn per source image, so an image's caption is the same in any split.
    template_ids = np.random.default_rng(params["seed"]).integers(0, len(templates), size=len(labels))
    rows = split_indices(labels, params["test_fraction"], params["seed"])[split]

    captions = [caption(int(labels[i]), templates[template_ids[i]]) for i in rows]
    metadata = pd.DataFrame({
        "label": labels[rows],
        "caption": pd.Series(captions, dtype=str),
        "template": template_ids[rows].astype(np.int64),
        "source_index": rows.astype(np.int64),
    })
    prompt_texts = [[caption(label, t) for label in range(10)] for t in templates]
    prompts = np.stack([tokenize(texts, vocab, length) for texts in prompt_texts])
    modalities = {
        "image": to_uint8_images(source.images[rows], params["size"], params["resample"]),
        "text": tokenize(captions, vocab, length),
    }
    extras = {
        "vocab": vocab,
        "templates": templates,
        "class_names": list(NUMBER_WORDS),
        "prompts": prompts,
        "prompt_texts": prompt_texts,
    }
    return PairedDataset(INFO.name, split, params, modalities, metadata, extras)
