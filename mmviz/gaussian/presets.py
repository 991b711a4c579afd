"""Train-page presets of the Gaussian lab: tilts on jointly Gaussian pairs, and the same tilts on
digits and their captions (training choices for the models of :mod:`mmviz.gaussian.models`)."""

from __future__ import annotations

from typing import Any

from mmviz.runs.presets import Preset, register_preset


def digits_run(name: str, tilt: str, steps: int = 300) -> dict[str, Any]:
    """A small digits run (1,437 training images, 8 px) with the given tilt."""
    return {"name": name, "dataset": "digits", "model": "tilt",
            "model_params": {"tilt": tilt, "dim": 32, "cnn_widths": "16,32"},
            "steps": steps, "batch_size": 128, "lr": 3e-3, "warmup_steps": 20, "eval_every": 50,
            "eval_size": 360, "log_every": 10, "checkpoint_every": steps, "seed": 0}


register_preset(Preset(
    "tilt-digits",
    "Digits ↔ captions: cosine vs L2 tilt",
    "Handwritten digits and captions naming them, CLIP-style encoders with the two alignment scores of the "
    "Gaussian lab. Compare retrieval and zero-shot accuracy (classification = retrieval of the label's caption).",
    (digits_run("cosine tilt", "cosine"), digits_run("L2 tilt", "l2")),
))


def gaussian_run(name: str, model: str, steps: int = 500, batch_size: int = 256, **model_params: Any) -> dict[str, Any]:
    """A run on the default Gaussian lab population (du = dv = 16, k = 4; 100,000 training pairs)
    that takes seconds on a CPU: evaluated on 1,000 held-out pairs every ``steps // 10`` steps.
    (The presets use 500 steps of 256 pairs; the bench 1,500 of 512.)"""
    return {
        "name": name,
        "dataset": "gaussian",
        "dataset_params": {"du": 16, "dv": 16, "k": 4, "n": 100000, "n_test": 1000},
        "model": model,
        "model_params": {"dim": 4, **model_params},
        "steps": steps,
        "batch_size": batch_size,
        "lr": 0.1,
        "weight_decay": 0.0,
        "warmup_steps": 50,
        "eval_every": max(1, steps // 10),
        "eval_size": 1000,
        "log_every": 20,
        "checkpoint_every": steps,
        "seed": 0,
        "threads": 1,
    }


register_preset(Preset(
    "gauss-tilts",
    "Gaussian lab: cosine vs L2 tilt vs the probabilistic loss",
    "Jointly Gaussian pairs (16-d each, 4 shared directions). Three losses learn 4-d linear encoders; "
    "watch the principal angles to the canonical directions fall and compare how well each reproduces "
    "the true conditional covariance (eval/cond_cov_rel_err).",
    (gaussian_run("cosine (InfoNCE)", "gauss-cosine"), gaussian_run("L2 (InfoNCE)", "gauss-l2"),
     gaussian_run("probabilistic (L2)", "gauss-prob")),
))

register_preset(Preset(
    "gauss-l2-direction",
    "Gaussian lab: L2 tilt, one conditional vs both",
    "Fitting p(v | u) alone, the L2 tilt reproduces the conditional exactly; fitting both with one "
    "score it cannot, and settles on the closed-form compromise x = (√(9 − 8ρ) − 1)/2.",
    (gaussian_run("L2, v|u", "gauss-prob", direction="v|u"), gaussian_run("L2, both", "gauss-prob")),
))
