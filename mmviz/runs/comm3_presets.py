"""The three-modality R/U/S study's run configs (CoMM n = 3 against pairwise and anchor alignment
on ``trifeature-triples``) and its Train-page presets."""

from __future__ import annotations

from typing import Any

from mmviz.runs.presets import Preset, register_preset

METHODS = {"comm3": "CoMM n = 3", "pairwise3": "Pairwise", "anchor3": "Anchor (image 1)"}
"""Model name → the label the study uses."""

METHOD_LR = {"comm3": 2e-3, "pairwise3": 1e-3, "anchor3": 1e-3}
"""Peak learning rates: the two-modality study's (CoMM 2e-3, the alignment baselines 1e-3)."""

STUDY_STEPS = {"comm3": 900, "pairwise3": 2700, "anchor3": 2700}
"""Steps of each method's study run: about the same CPU time, planned at about 12.5 CPU-minutes
with one thread (two runs at a time on the 2-core CPU, four evaluations included) to keep under
the 15-minute budget; ``bench/triples_targets.py`` measures it. Calibrated on the first study
(1,100 / 3,300 steps and seven evaluations took 15.1–17.3 CPU-minutes: about 0.68 s per CoMM n = 3
step, 0.25 s per alignment step and 20–30 s per evaluation). A CoMM n = 3 step costs ~3
alignment steps: two views of three modalities and the fusion, against one view each."""

PAIR_VIEW_STEPS = 800
"""Steps of CoMM n = 3 with pair views (``pair_views``, mmviz's extension, not a shipped run): its
step costs 1.36 plain CoMM n = 3 steps (three more masked views of twice the tokens). Measured at
800 steps and seven evaluations in the first study (15.1 CPU-minutes); not rerun since."""

STUDY_TEST = 4096
"""Unbiased test examples of the study runs, all read by the probes at every evaluation."""


def triples_run(model: str, biased: bool, steps: int, *, name: str | None = None, evals: int = 4,
                batch_size: int = 128, eval_size: int = 512, threads: int = 1, n_test: int = STUDY_TEST,
                **model_params: Any) -> dict[str, Any]:
    """A run config of the n = 3 study: 10,000 training triples (biased or not), ``steps`` steps at
    the method's :data:`METHOD_LR`, the six probes on all ``n_test`` test examples ``evals``
    times, retrieval metrics (image 1 ↔ image 2) and exported embeddings on ``eval_size``, one
    checkpoint at the end."""
    ablation = " (two-view term only)" if model_params.get("masked_terms") == "" else ""
    variant = " + pair views" if model_params.get("pair_views") else ""
    label = name or f"{METHODS[model]}{variant}{ablation} · {'biased' if biased else 'unbiased'}"
    return {
        "name": label,
        "dataset": "trifeature-triples",
        "dataset_params": {"biased": biased, "n_test": n_test},
        "model": model,
        "model_params": {"probe_pairs": n_test, **model_params},
        "steps": steps,
        "batch_size": batch_size,
        "lr": METHOD_LR[model],
        "warmup_steps": max(1, steps // 20),
        "eval_every": max(1, steps // evals),
        "eval_size": eval_size,
        "log_every": 10,
        "checkpoint_every": steps,
        "seed": 0,
        "threads": threads,
    }


NO_TONE_TERM = "CoMM n = 3 (no tone term) · biased"


def study_configs(ablation: bool = True) -> list[dict[str, Any]]:
    """Every run of the study: each method on biased and on unbiased triples at its
    :data:`STUDY_STEPS`, CoMM n = 3 with pair views on both, and for the ablation CoMM n = 3 on
    biased triples with the two-view term only and without the tone's masked-view term."""
    runs = [triples_run(m, biased, STUDY_STEPS[m]) for m in METHODS for biased in (True, False)]
    runs += [triples_run("comm3", biased, PAIR_VIEW_STEPS, evals=6, pair_views=True) for biased in (True, False)]
    if ablation:
        runs += [triples_run("comm3", True, STUDY_STEPS["comm3"], masked_terms=""),
                 triples_run("comm3", True, STUDY_STEPS["comm3"], masked_terms="1,2", name=NO_TONE_TERM)]
    return runs


PRESET_STEPS = 300
"""Steps of each preset run (the same for every method, as the Train page's comparisons keep
everything but the model): a few minutes on a CPU, enough to see R rise and S1 leave chance."""

COMM3_VS_ALIGNMENT = register_preset(Preset(
    "comm3-vs-alignment",
    "Three modalities: CoMM n = 3 vs pairwise vs anchor alignment",
    "CoMM n = 3, pairwise InfoNCE and anchor alignment on biased trifeature-triples (two images and "
    "a tone), a few minutes each: which synergies leave 50%? Compare them on the Interactions page "
    "(three modalities).",
    tuple(triples_run(m, True, PRESET_STEPS, evals=3, threads=0) for m in METHODS),
))

COMM3_ABLATION = register_preset(Preset(
    "comm3-ablation",
    "Three modalities: CoMM n = 3 with and without its per-modality terms",
    "CoMM n = 3's full loss, the two-view term only, and the loss without the tone's masked view.",
    (triples_run("comm3", True, PRESET_STEPS, evals=3, threads=0),
     triples_run("comm3", True, PRESET_STEPS, evals=3, threads=0, masked_terms=""),
     triples_run("comm3", True, PRESET_STEPS, evals=3, threads=0, masked_terms="1,2", name=NO_TONE_TERM)),
))
