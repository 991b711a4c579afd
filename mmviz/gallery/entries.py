"""The gallery: one entry per reference run, each a fixed run config (seed included).

An entry's config is an ordinary run config (:mod:`mmviz.runs.train_config`), trained by
the project's own engine. Entries whose model is not registered are skipped with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mmviz.errors import MmvizError
from mmviz.runs.comm3_presets import STUDY_STEPS, triples_run
from mmviz.runs.comm_presets import study_run
from mmviz.runs.lineage import derive_config, negation_changes, negation_name
from mmviz.runs.unlearn_params import unlearn_changes, unlearn_name

CAPTIONS_DATA = {"n": 50_000, "n_test": 2000, "size": 32}
"""As in bench/train_targets.py: 50k training images keep the small CNN generalising."""


@dataclass(frozen=True)
class GalleryEntry:
    """A reference run: ``name`` (folder under assets/runs, run id ``ref-<name>``), a title and
    a one-line caption for first-time visitors, the run config, and the pages it serves."""

    name: str
    title: str
    caption: str
    config: dict[str, Any]
    pages: tuple[str, ...] = field(default=())

    @property
    def run_id(self) -> str:
        return f"ref-{self.name}"


def _captions_run(model: str, steps: int, name: str | None = None, **data: Any) -> dict[str, Any]:
    return {
        "name": name or f"reference {model}", "dataset": "trifeature-captions",
        "dataset_params": {**CAPTIONS_DATA, **data},
        "model": model, "model_params": {}, "steps": steps, "batch_size": 256, "eval_every": 250,
        "eval_size": 1000, "checkpoint_every": 500, "seed": 0, "device": "auto",
    }


FORGET_CONCEPT = "color:red"
"""The concept the Beyond pairs page unlearns from the reference runs; its gold standards below."""

COMPOSITION_STEPS = 2500
"""Held-out-combination runs train as long as the reference runs they are compared with."""


def _unlearn_run(model: str, method: str, until_chance: bool) -> dict[str, Any]:
    """A child of reference run ``model`` that forgets :data:`FORGET_CONCEPT` (the bench's protocol)."""
    parent = f"ref-{model}"
    return derive_config(_captions_run(model, 2500), parent, name=unlearn_name(parent, FORGET_CONCEPT, method),
                         **unlearn_changes(FORGET_CONCEPT, method, until_chance=until_chance))


def _negation_run(model: str) -> dict[str, Any]:
    """A child of reference run ``model`` fine-tuned with 30% negated captions."""
    return derive_config(_captions_run(model, 2500), f"ref-{model}", name=negation_name(f"ref-{model}"),
                         **negation_changes())


def _gaussian_run(name: str, model: str, **model_params: Any) -> dict[str, Any]:
    """The Gaussian lab bench's setting: 1,500 steps of 512 pairs (seconds on a CPU)."""
    return {"name": name, "dataset": "gaussian",
            "dataset_params": {"du": 16, "dv": 16, "k": 4, "n": 100_000, "n_test": 1000},
            "model": model, "model_params": {"dim": 4, **model_params}, "steps": 1500, "batch_size": 512,
            "lr": 0.1, "weight_decay": 0.0, "warmup_steps": 50, "eval_every": 150, "eval_size": 1000,
            "log_every": 20, "checkpoint_every": 1500, "seed": 0, "device": "auto"}


def _digits_run(name: str, tilt: str) -> dict[str, Any]:
    return {"name": name, "dataset": "digits", "model": "tilt",
            "model_params": {"tilt": tilt, "dim": 32, "cnn_widths": "16,32"}, "steps": 300, "batch_size": 128,
            "lr": 3e-3, "warmup_steps": 20, "eval_every": 50, "eval_size": 360, "log_every": 10,
            "checkpoint_every": 300, "seed": 0, "device": "auto"}


def _mammal_run(name: str, model: str) -> dict[str, Any]:
    """2-D WordNet mammals with the tree models' own training defaults (lr 0.1, 3,000 steps)."""
    return {"name": name, "dataset": "wordnet-mammal", "model": model, "model_params": {"dim": 2},
            "seed": 0, "device": "auto"}


def _ocean_run(name: str, model: str) -> dict[str, Any]:
    """The data-assimilation lab's default ocean (10,000 flows, 16 drifters) and training."""
    return {"name": name, "dataset": "ocean-drifters", "dataset_params": {}, "model": model, "model_params": {},
            "steps": 3000, "batch_size": 256, "lr": 2e-3, "weight_decay": 1e-4, "warmup_steps": 100,
            "eval_every": 250, "eval_size": 1000, "log_every": 10, "checkpoint_every": 3000, "seed": 0,
            "device": "auto"}


def _study_run(model: str, biased: bool, steps: int, **model_params: Any) -> dict[str, Any]:
    """A run of CoMM's R/U/S study as ``bench/comm_targets.py`` trains it: ``steps`` is what a
    15-minute budget gave on the 2-core CPU (one thread per run, two runs at a time)."""
    return {**study_run(model, biased, steps, minutes=15, **model_params), "device": "auto"}


def _triples_run(model: str, biased: bool, **model_params: Any) -> dict[str, Any]:
    """A run of the three-modality study as ``bench/triples_targets.py`` trains it."""
    return {**triples_run(model, biased, STUDY_STEPS[model], **model_params), "device": "auto"}


ENTRIES: tuple[GalleryEntry, ...] = (
    GalleryEntry("meru", "MERU on Trifeature captions",
                 "Hyperbolic: generic captions (\"a red thing\") sit near the centre, specific ones "
                 "further out, images at the rim.", _captions_run("meru", 2500), ("explorer", "similarity")),
    GalleryEntry("clip", "CLIP on Trifeature captions",
                 "Euclidean (the sphere): every caption and image has the same norm, so nothing "
                 "says how generic a caption is.", _captions_run("clip", 2500), ("explorer", "similarity")),
    GalleryEntry("clip-no-red", "CLIP retrained without red images (the unlearning gold standard)",
                 "The reference CLIP's config with every red training image left out: what unlearning "
                 "red should reach.", _captions_run("clip", 2500, "gold standard clip, no red",
                                                    exclude=FORGET_CONCEPT), ("beyond",)),
    GalleryEntry("meru-no-red", "MERU retrained without red images (the unlearning gold standard)",
                 "The reference MERU's config with every red training image left out.",
                 _captions_run("meru", 2500, "gold standard meru, no red", exclude=FORGET_CONCEPT), ("beyond",)),
    GalleryEntry("clip-heldout", "CLIP on 80% of the attribute combinations",
                 "200 of the 1,000 (shape, texture, colour) triples never appear in training: "
                 "does it name them anyway?",
                 _captions_run("clip", COMPOSITION_STEPS, "composition clip, held-out triples",
                               heldout_combinations=True), ("beyond",)),
    GalleryEntry("meru-heldout", "MERU on 80% of the attribute combinations",
                 "The same held-out triples, in hyperbolic space.",
                 _captions_run("meru", COMPOSITION_STEPS, "composition meru, held-out triples",
                               heldout_combinations=True), ("beyond",)),
    GalleryEntry("clip-unlearn-red", "CLIP with red unlearned (gradient difference, a child of the reference CLIP)",
                 "Gradient ascent on the red pairs until red is named at chance, then the other pairs only: "
                 "compare with the gold standard retrained without red.", _unlearn_run("clip", "graddiff", True),
                 ("beyond",)),
    GalleryEntry("meru-unlearn-red", "MERU with red unlearned (NPO, a child of the reference MERU)",
                 "150 steps of negative preference optimisation: red images leave the cone of 'something red' "
                 "for other colours' cones, as in the gold standard.", _unlearn_run("meru", "npo", False),
                 ("beyond",)),
    GalleryEntry("clip-negation", "CLIP fine-tuned with negated captions",
                 "400 steps with 30% captions like 'a star that is not red': it learns 'not', even for "
                 "negations it never saw.", _negation_run("clip"), ("beyond",)),
    GalleryEntry("meru-negation", "MERU fine-tuned with negated captions",
                 "The same fine-tune in hyperbolic space: negated captions move towards the origin.",
                 _negation_run("meru"), ("beyond",)),
    GalleryEntry("gauss-cosine", "Gaussian lab: cosine tilt (CLIP-style InfoNCE)",
                 "Finds the canonical directions but not the conditional covariance: the sphere forgets scale.",
                 _gaussian_run("reference cosine tilt", "gauss-cosine"), ("gaussian",)),
    GalleryEntry("gauss-l2", "Gaussian lab: L2 tilt, probabilistic loss fitted to p(v | u)",
                 "Reproduces the true conditional p(v | u), covariance included, as its closed form says.",
                 _gaussian_run("reference L2 tilt, v|u", "gauss-prob", direction="v|u"), ("gaussian",)),
    GalleryEntry("digits-cosine", "Digits ↔ captions, cosine tilt",
                 "Real images: retrieval is the mode of the learned conditional, classification is retrieval.",
                 _digits_run("reference digits, cosine tilt", "cosine"), ("similarity",)),
    GalleryEntry("comm-biased", "CoMM on biased pairs (probed for synergy)",
                 "Its fused embedding tells whether image 2's colour is the one image 1's texture maps to: "
                 "synergy, which neither image holds alone.", _study_run("comm", True, 1779), ("interactions",)),
    GalleryEntry("comm-unbiased", "CoMM on unbiased pairs (probed for redundancy and uniqueness)",
                 "The model CoMM's protocol reads R (shape) and U (texture of image 1) from.",
                 _study_run("comm", False, 1997), ("interactions",)),
    GalleryEntry("cross-biased", "Cross (CLIP-style) on biased pairs",
                 "Aligning the two images keeps only what they share: the synergy probe stays at chance.",
                 _study_run("cross", True, 5190), ("interactions",)),
    GalleryEntry("cross-unbiased", "Cross (CLIP-style) on unbiased pairs",
                 "Shape is all the two images share: R high, U at chance.",
                 _study_run("cross", False, 5287), ("interactions",)),
    GalleryEntry("cross-self-biased", "Cross+Self on biased pairs",
                 "Each image's own SimCLR term keeps its textures, but no synergy.",
                 _study_run("cross-self", True, 2560), ("interactions",)),
    GalleryEntry("cross-self-unbiased", "Cross+Self on unbiased pairs",
                 "Redundancy and uniqueness, no synergy.",
                 _study_run("cross-self", False, 2551), ("interactions",)),
    GalleryEntry("comm-two-view", "CoMM ablation: the two-view term only (biased pairs)",
                 "Without the per-modality terms: compare when synergy appears.",
                 _study_run("comm", True, 2116, modality_terms=False), ("interactions",)),
    GalleryEntry("comm3-biased", "CoMM n = 3 on biased triples (probed for both synergies)",
                 "Two images and a tone; in training both relations always hold: does the fused "
                 "embedding keep the synergy of two and of all three?", _triples_run("comm3", True), ("interactions",)),
    GalleryEntry("comm3-unbiased", "CoMM n = 3 on unbiased triples (probed for redundancy and uniqueness)",
                 "The shape everyone shows and each modality's own texture or rhythm.",
                 _triples_run("comm3", False), ("interactions",)),
    GalleryEntry("pairwise3-biased", "Pairwise alignment of three modalities, biased triples",
                 "InfoNCE over the three pairs.", _triples_run("pairwise3", True), ("interactions",)),
    GalleryEntry("pairwise3-unbiased", "Pairwise alignment of three modalities, unbiased triples",
                 "InfoNCE over the three pairs: what does a pair not share?", _triples_run("pairwise3", False),
                 ("interactions",)),
    GalleryEntry("anchor3-biased", "Anchor alignment to image 1, biased triples",
                 "Image 2 and the tone each aligned to image 1.", _triples_run("anchor3", True), ("interactions",)),
    GalleryEntry("anchor3-unbiased", "Anchor alignment to image 1, unbiased triples",
                 "Image 2 and the tone each aligned to image 1.", _triples_run("anchor3", False), ("interactions",)),
    GalleryEntry("comm3-two-view", "CoMM n = 3 ablation: the two-view term only (biased triples)",
                 "Without the three masked-view terms.", _triples_run("comm3", True, masked_terms=""),
                 ("interactions",)),
    GalleryEntry("mammal-poincare", "WordNet mammals in the 2-D Poincaré disk",
                 "Trained over the transitive closure: generic synsets near the centre, leaves at the rim.",
                 _mammal_run("reference mammals, Poincaré 2-D", "poincare-embed"), ("hierarchy", "explorer")),
    GalleryEntry("mammal-euclid", "WordNet mammals in the 2-D plane",
                 "The same loss in Euclidean space: not enough room, the hierarchy is crushed.",
                 _mammal_run("reference mammals, Euclidean 2-D", "euclid-embed"), ("hierarchy",)),
    GalleryEntry("ocean-clip", "Data assimilation: drifters ↔ flow, CLIP's InfoNCE",
                 "Which of 1,000 flows carried these drifters, and what the flow looks like given them.",
                 _ocean_run("reference ocean, InfoNCE", "ocean-clip"), ("assimilation",)),
    GalleryEntry("ocean-prob", "Data assimilation: drifters ↔ flow, the probabilistic loss",
                 "The same encoders fitted by the likelihood of the learned conditional (L2 tilt).",
                 _ocean_run("reference ocean, probabilistic loss", "ocean-prob"), ("assimilation",)),
)


def list_entries() -> list[GalleryEntry]:
    """Every gallery entry, in order."""
    return list(ENTRIES)


def get_entry(name: str) -> GalleryEntry:
    """Entry ``name`` (MmvizError naming the known ones if unknown)."""
    for entry in ENTRIES:
        if entry.name == name:
            return entry
    raise MmvizError(f"no gallery entry {name!r}; known: {', '.join(e.name for e in ENTRIES)}")
