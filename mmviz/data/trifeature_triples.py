"""``trifeature-triples``: three modalities with every kind of interaction (the n = 3 R/U/S study).

Each example is two Trifeature images and a tone (:mod:`mmviz.data.tones`), so one modality is
not an image:

* **R**, shared by all three: the shape of both images *is* the tone's pitch (shape k ↔ pitch k).
* **U**, one per modality: image 1's texture (``unique1``), image 2's texture (``unique2``) and
  the tone's rhythm (``unique3``). Nothing else carries them.
* **S1**, needing two modalities: ``mapping[texture 1] == colour 2`` (images 1 and 2), exactly
  the two-modality study's synergy.
* **S2**, needing all three: ``bass == (colour 1 + texture 2) mod 10``. Any two modalities see at
  most two of the three attributes, and the third is uniform, so no pair can tell.

The S1 and S2 relations use disjoint attributes (texture 1, colour 2 / colour 1, texture 2,
bass), so training on both at once chains nothing: no single image predicts the bass.

Splits. ``biased`` training examples obey both relations (CoMM's protocol for a synergy probe);
unbiased ones draw colour 2 and the bass uniformly. The test split is never biased: S1 holds on
exactly ``round(synergy_fraction · N)`` examples and, independently, S2 on as many; where a
relation does not hold, its last attribute is another value drawn uniformly, so the label is
exact. Every attribute is drawn from all its values in both splits (as for pairs: a held-out
combination split would let the true labels predict synergy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmviz.data.base import DatasetInfo, PairedDataset, ParamSpec
from mmviz.data.registry import register, register_view_renderer
from mmviz.data.tones import BASSES, PITCHES, RHYTHM_NAMES, render_tones
from mmviz.data.trifeature import COLORS, SHAPES, TEXTURES, render
from mmviz.data.trifeature_datasets import texture_color_mapping

_SPLIT_STREAM = {"train": 0, "test": 1}
MODALITIES = ("image1", "image2", "tone")
PROBE_LABELS = {"share": 10, "unique1": 10, "unique2": 10, "unique3": 10, "synergy12": 2, "synergy123": 2}
S1_RULE = "mapping[texture 1] == colour 2"
S2_RULE = "bass == (colour 1 + texture 2) mod 10"


def three_way_bass(color1: np.ndarray, texture2: np.ndarray) -> np.ndarray:
    """The bass note that makes S2 hold: (N,) int64."""
    return (np.asarray(color1, np.int64) + np.asarray(texture2, np.int64)) % 10


def _holds(rng: np.random.Generator, n: int, fraction: float) -> np.ndarray:
    """Exactly round(fraction · n) True values at random positions: (n,) bool."""
    out = np.zeros(n, dtype=bool)
    out[rng.permutation(n)[: int(round(fraction * n))]] = True
    return out


def _other(rng: np.random.Generator, value: np.ndarray) -> np.ndarray:
    """A uniformly random value in 0..9 other than ``value`` (each row): (N,) int64."""
    return (value + rng.integers(1, 10, len(value))) % 10


def triple_attributes(split: str, n: int, biased: bool, synergy_fraction: float,
                      mapping: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The attribute ids of ``n`` examples (see the module doc): each (n,) int64."""
    shape, texture1, color1, texture2, rhythm = (rng.integers(0, 10, n) for _ in range(5))
    if split == "train" and biased:
        color2, bass = mapping[texture1], three_way_bass(color1, texture2)
    elif split == "train":
        color2, bass = rng.integers(0, 10, n), rng.integers(0, 10, n)
    else:
        s1, s2 = _holds(rng, n, synergy_fraction), _holds(rng, n, synergy_fraction)
        color2 = np.where(s1, mapping[texture1], _other(rng, mapping[texture1]))
        bass = np.where(s2, three_way_bass(color1, texture2), _other(rng, three_way_bass(color1, texture2)))
    return {"shape": shape, "texture1": texture1, "color1": color1, "texture2": texture2,
            "color2": color2, "rhythm": rhythm, "bass": bass}


def _metadata(a: dict[str, np.ndarray], mapping: np.ndarray) -> pd.DataFrame:
    names = lambda table, ids: np.asarray(table, dtype=object)[ids]  # noqa: E731
    return pd.DataFrame({
        "share": a["shape"], "unique1": a["texture1"], "unique2": a["texture2"], "unique3": a["rhythm"],
        "synergy12": (mapping[a["texture1"]] == a["color2"]).astype(np.int64),
        "synergy123": (three_way_bass(a["color1"], a["texture2"]) == a["bass"]).astype(np.int64),
        "shape1_id": a["shape"], "texture1_id": a["texture1"], "color1_id": a["color1"],
        "texture2_id": a["texture2"], "color2_id": a["color2"],
        "pitch_id": a["shape"], "rhythm_id": a["rhythm"], "bass_id": a["bass"],
        "shape": names(SHAPES, a["shape"]), "texture1": names(TEXTURES, a["texture1"]),
        "color1": names(COLORS, a["color1"]), "texture2": names(TEXTURES, a["texture2"]),
        "color2": names(COLORS, a["color2"]), "pitch": names(PITCHES, a["shape"]),
        "rhythm": names(RHYTHM_NAMES, a["rhythm"]), "bass": names(BASSES, a["bass"]),
    })


def render_triples(meta: pd.DataFrame, size: int, rng: np.random.Generator, views: int = 1) -> dict[str, np.ndarray]:
    """``views`` renders of each example's three modalities (new poses, phases and noise).

    Returns ``{"image1", "image2": (N·views, 3, size, size) uint8, "tone": (N·views, L) float32}``,
    each example's views consecutive."""
    ids = {c: np.repeat(meta[c].to_numpy(), views) for c in
           ("shape1_id", "texture1_id", "color1_id", "texture2_id", "color2_id", "rhythm_id", "bass_id")}
    return {
        "image1": render(ids["shape1_id"], ids["texture1_id"], ids["color1_id"], size=size, rng=rng),
        "image2": render(ids["shape1_id"], ids["texture2_id"], ids["color2_id"], size=size, rng=rng),
        "tone": render_tones(ids["shape1_id"], ids["rhythm_id"], ids["bass_id"], rng),
    }


@register(DatasetInfo(
    name="trifeature-triples",
    description="Three modalities: two Trifeature images and a tone. Shape = pitch is shared by all "
                "three (redundancy); each has its own texture or rhythm (uniqueness); a texture→colour "
                "mapping links the two images (synergy of two) and the bass note is set by colour 1 "
                "and texture 2 (synergy of all three).",
    kind="pairs",
    params=(
        ParamSpec("n_train", "int", 10_000, "Examples in the train split.", min=16, max=100_000),
        ParamSpec("n_test", "int", 4096, "Examples in the test split.", min=16, max=100_000),
        ParamSpec("size", "int", 32, "Image width and height in pixels.", min=16, max=224),
        ParamSpec("seed", "int", 0, "Random seed: same seed, same dataset.", min=0, max=2**31 - 1),
        ParamSpec("biased", "bool", True,
                  f"Train examples obey both synergy relations ({S1_RULE}; {S2_RULE}), as CoMM's "
                  "protocol for a synergy probe. Off: colour 2 and the bass drawn independently (for "
                  "the redundancy and uniqueness probes). The test split is never biased."),
        ParamSpec("synergy_fraction", "float", 0.5,
                  "Fraction of test examples where each relation holds (independently). 0.5 gives "
                  "balanced synergy probes.", min=0.0, max=1.0),
        ParamSpec("mapping_seed", "int", 0, "Seed of the texture→colour mapping (as trifeature-pairs).",
                  min=0, max=2**31 - 1, advanced=True),
    ),
    modalities=MODALITIES,
    train_size=lambda p: p["n_train"],
    cacheable=True,
))
def load_trifeature_triples(split: str, n_train: int, n_test: int, size: int, seed: int, biased: bool,
                            synergy_fraction: float, mapping_seed: int) -> PairedDataset:
    """Triples (image1, image2 (N, 3, size, size) uint8; tone (N, 256) float32); probe labels in
    the metadata (``share``, ``unique1..3``, ``synergy12``, ``synergy123``)."""
    n = n_train if split == "train" else n_test
    mapping = texture_color_mapping(mapping_seed)
    rng = np.random.default_rng([seed, _SPLIT_STREAM[split], 11])
    meta = _metadata(triple_attributes(split, n, biased, synergy_fraction, mapping, rng), mapping)
    params = {"n_train": n_train, "n_test": n_test, "size": size, "seed": seed, "biased": biased,
              "synergy_fraction": synergy_fraction, "mapping_seed": mapping_seed}
    extras = {
        "mapping": mapping.tolist(), "mapping_names": [COLORS[c] for c in mapping],
        "probes": dict(PROBE_LABELS), "s1_rule": S1_RULE, "s2_rule": S2_RULE,
        "shapes": list(SHAPES), "textures": list(TEXTURES), "colors": list(COLORS),
    }
    return PairedDataset("trifeature-triples", split, params, render_triples(meta, size, rng), meta, extras)


@register_view_renderer("trifeature-triples")
def render_triple_views(data: PairedDataset, index: np.ndarray, views: int,
                        rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``views`` fresh renders of each indexed example's three modalities, same attributes:
    ``{"image1", "image2": (B, V, 3, S, S) uint8, "tone": (B, V, L) float32}``."""
    meta = data.metadata.iloc[np.asarray(index)]
    fresh = render_triples(meta, int(data.params["size"]), rng, views)
    return {k: v.reshape(len(meta), views, *v.shape[1:]) for k, v in fresh.items()}
