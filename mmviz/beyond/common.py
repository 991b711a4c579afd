"""What the three Beyond-pairs studies share: the held-out images they are measured on, a
trained image–caption model's embeddings of images and of any caption text, and cone tests.

Models are the engine's trifeature-captions runs: side 0 is the image, side 1 the caption.
A model trained without negated captions has a shorter vocabulary; its captions are encoded
with that vocabulary, so words it never had ("not", "that", "is") read as ``<unk>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from mmviz.data.base import PairedDataset
from mmviz.data.captions import MAX_TOKENS, caption_table, encode
from mmviz.data.registry import load
from mmviz.data.trifeature_datasets import zero_shot_prompts
from mmviz.geometry import DEFAULT_CONE_MIN_RADIUS, HYPERBOLIC
from mmviz.models.base import ContrastiveModel
from mmviz.runs.evaluate import embed_all

IMAGE_SIDE, TEXT_SIDE = 0, 1
STUDY_IMAGES = {"n": 50_000, "n_test": 2000, "size": 32, "seed": 0}
"""The held-out split every study measures on: the reference runs' own test split (2,000 images
drawn from all 1,000 attribute triples)."""


def study_images(**params: int) -> PairedDataset:
    """The held-out image–caption pairs of :data:`STUDY_IMAGES` (cached on disk)."""
    return load("trifeature-captions", "test", **{**STUDY_IMAGES, **params})


def prompt_texts() -> dict[str, list[str]]:
    """The zero-shot prompts' texts per attribute, in attribute-id order ("a triangle", …)."""
    table = caption_table()
    return {attr: table.caption[ids].tolist() for attr, ids in zero_shot_prompts().items()}


def vocab_size(model: ContrastiveModel) -> int:
    """Rows of the text encoder's token table (38 without negation words, 41 with)."""
    table = next(m for m in model.encoders[TEXT_SIDE].modules() if isinstance(m, nn.Embedding))
    return int(table.num_embeddings)


@dataclass
class Embedded:
    """A model's points for a study: images (N, E), and a depth per point (distance from the
    origin for hyperbolic models, the raw feature norm for CLIP)."""

    points: Tensor
    depth: np.ndarray


@torch.no_grad()
def embed_images(model: ContrastiveModel, images: np.ndarray | Tensor, device: torch.device | str = "cpu") -> Embedded:
    """Images (N, 3, S, S) uint8 → their points and depths."""
    model.eval()
    points, raw = embed_all(model, torch.as_tensor(np.asarray(images)), IMAGE_SIDE, torch.device(device))
    return Embedded(points, _depth(model, points, raw))


@torch.no_grad()
def embed_texts(model: ContrastiveModel, texts: list[str], device: torch.device | str = "cpu") -> Embedded:
    """Caption texts → their points and depths, encoded with the model's own vocabulary."""
    model.eval()
    tokens = torch.as_tensor(encode(texts, MAX_TOKENS, vocab_size(model)))
    points, raw = embed_all(model, tokens, TEXT_SIDE, torch.device(device))
    return Embedded(points, _depth(model, points, raw))


def _depth(model: ContrastiveModel, points: Tensor, raw: Tensor) -> np.ndarray:
    if model.geometry_name in HYPERBOLIC:
        return model.geometry().dist0(points).double().numpy()
    return raw.double().numpy()


def is_hyperbolic(model: ContrastiveModel) -> bool:
    return model.geometry_name in HYPERBOLIC


def min_radius(model: ContrastiveModel) -> float:
    return float(getattr(model.config, "min_radius", DEFAULT_CONE_MIN_RADIUS))


@torch.no_grad()
def cone_membership(model: ContrastiveModel, apexes: Tensor, points: Tensor) -> np.ndarray:
    """Whether each point lies in each apex's entailment cone: (N, K) bool for apexes (K, E)
    and points (N, E) of a hyperbolic model."""
    geometry = model.geometry()
    k = float(min_radius(model))
    return geometry.in_cone(apexes[None, :, :], points[:, None, :], k).numpy()


@torch.no_grad()
def scores(model: ContrastiveModel, a: Tensor, b: Tensor) -> np.ndarray:
    """The model's similarity of every row of a to every row of b: (N, M) float64."""
    return model.similarity(a, b).double().numpy()


@torch.no_grad()
def tangent(model: ContrastiveModel, points: Tensor) -> np.ndarray:
    """Points in a flat chart where differences mean something: the tangent space at the origin
    (hyperbolic) or the unit vectors themselves (CLIP): (N, d) float64."""
    if not is_hyperbolic(model):
        return points.double().numpy()
    return model.geometry().logmap0(points).double().numpy()


def attribute_ids(meta: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shape, texture, colour) ids of each image: three (N,) int arrays."""
    return tuple(meta[f"{a}_id"].to_numpy() for a in ("shape", "texture", "color"))


def disk_layout(vectors: np.ndarray, depth: np.ndarray, hyperbolic: bool) -> np.ndarray:
    """2-D disk positions (N, 2) of points given their flat-chart vectors (N, d) and depths.

    The angle is that of each direction's 2-D PCA (over all points given, so two models'
    points laid out together share their axes); the radius is the depth: the Poincaré radius
    tanh(d/2) of a distance d from the origin, or for CLIP the raw norm min-max scaled into
    [0.15, 0.95] (only its order means anything).
    """
    dirs = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    centred = dirs - dirs.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    xy = centred @ vt[:2].T
    angle = np.arctan2(xy[:, 1], xy[:, 0])
    if hyperbolic:
        radius = np.tanh(np.asarray(depth) / 2.0)
    else:
        lo, hi = float(np.min(depth)), float(np.max(depth))
        radius = 0.15 + 0.8 * (np.asarray(depth) - lo) / (hi - lo if hi > lo else 1.0)
    return np.c_[radius * np.cos(angle), radius * np.sin(angle)]
