"""Train-page presets of the R/U/S study: CoMM against its baselines, and CoMM's loss ablation,
each run with the same budget on CoMM's bimodal Trifeature pairs."""

from __future__ import annotations

from typing import Any

from mmviz.runs.presets import Preset, register_preset

METHODS = {"comm": "CoMM", "cross": "Cross", "cross-self": "Cross+Self"}
"""Model name → the label the paper uses."""

METHOD_LR = {"comm": 2e-3, "cross": 1e-3, "cross-self": 1e-3}
"""Peak learning rate of each method's study runs: CoMM's BatchNorm CNNs learned shape faster at
2e-3 than at 1e-3 (R 94.9 against 89.4 after 1,050 steps on unbiased pairs, README *CoMM*); the
baselines already reach R 99–100 at 1e-3."""


def pairs_run(name: str, model: str, *, biased: bool = True, steps: int = 500, batch_size: int = 128,
              eval_every: int = 50, **model_params: Any) -> dict[str, Any]:
    """A run config on trifeature-pairs (10,000 train pairs at 32 px, probes on 2,048 unbiased
    test pairs every ``eval_every`` steps) at the method's :data:`METHOD_LR`. The presets' 500
    steps of 128 pairs (6.4 epochs, a few minutes per run on a CPU) show the trend;
    ``bench/comm_targets.py`` trains each method for 15 minutes for the numbers in the README."""
    return {
        "name": name,
        "dataset": "trifeature-pairs",
        "dataset_params": {"biased": biased},
        "model": model,
        "model_params": dict(model_params),
        "steps": steps,
        "batch_size": batch_size,
        "lr": METHOD_LR[model],
        "warmup_steps": max(1, steps // 20),
        "eval_every": eval_every,
        "eval_size": 2048,
        "log_every": 10,
        "checkpoint_every": 500,
        "seed": 0,
    }


COMM_VS_CROSS = register_preset(Preset(
    "comm-vs-cross",
    "CoMM vs Cross vs Cross+Self",
    "CoMM, Cross and Cross+Self, 500 steps each on biased pairs: only CoMM's synergy probe S "
    "should leave 50%. Compare them on the Interactions page.",
    tuple(pairs_run(label, model) for model, label in METHODS.items()),
))

COMM_VS_CROSS_UNBIASED = register_preset(Preset(
    "comm-vs-cross-unbiased",
    "CoMM vs Cross vs Cross+Self, unbiased pairs",
    "The same three on unbiased pairs (texture and colour independent): the models CoMM's "
    "protocol probes for redundancy R and uniqueness U.",
    tuple(pairs_run(label, model, biased=False) for model, label in METHODS.items()),
))

COMM_ABLATION = register_preset(Preset(
    "comm-ablation",
    "CoMM: two-view term only vs with per-modality terms",
    "CoMM's full loss against its two-view term alone: does synergy appear later?",
    (pairs_run("CoMM (full loss)", "comm"),
     pairs_run("CoMM (two-view term only)", "comm", modality_terms=False)),
))


STUDY_TEST_PAIRS = 8192
"""Unbiased test pairs of the study runs, all read by the probes (CoMM's test split has 4,096;
a probe fitted on more pairs reads more of an embedding: ``bench/probe_size.py``)."""


def study_run(model: str, biased: bool, steps: int, *, minutes: float | None = None, batch_size: int = 128,
              evals: int = 8, eval_size: int = 2048, threads: int = 1, **model_params: Any) -> dict[str, Any]:
    """The config of one run of the R/U/S study as ``bench/comm_targets.py`` trains it (and the
    gallery ships it): ``steps`` optimiser steps, retrieval metrics on ``eval_size`` pairs and
    probes on all :data:`STUDY_TEST_PAIRS` test pairs ``evals`` times, one checkpoint at the
    end. ``minutes`` (the wall-clock budget ``steps`` came from) only goes into the name."""
    label = METHODS[model] + (" (two-view term only)" if model_params.get("modality_terms") is False else "")
    name = f"{label} · {'biased' if biased else 'unbiased'}" + (f" · {minutes:g} min" if minutes else "")
    cfg = pairs_run(name, model, biased=biased, steps=steps, batch_size=batch_size,
                    eval_every=max(1, steps // evals), **model_params)
    cfg.update({"eval_size": eval_size, "threads": threads, "checkpoint_every": steps})
    cfg["dataset_params"]["n_test"] = STUDY_TEST_PAIRS
    return cfg
