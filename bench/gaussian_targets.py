"""Gaussian lab targets (issue #9): on the default population (du = dv = 16, k = 4; ρ = 0.95·0.7^i,
noise 0.1; 100,000 training pairs) linear encoders of latent dimension 4 are trained through the
engine on the CPU (one thread), then compared with the closed-form references.

Targets: the largest principal angle ≤ 5° and the form's relative error ≤ 5% after ≤ 30 s of CPU
training; and the L2 tilt reproduces the true conditional covariance where the cosine tilt cannot.

    python bench/gaussian_targets.py           # every model, the cosine tilt's numerical optimum, digits
    python bench/gaussian_targets.py --quick   # the probabilistic-loss runs and the closed forms only

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
import torch

from mmviz.data.gaussian import gaussian_model
from mmviz.gaussian import theory as gt
from mmviz.gaussian.presets import gaussian_run
from mmviz.runs.loop import train_run
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config

POPULATION = {"du": 16, "dv": 16, "k": 4}
KEYS = ("angle_u_max", "angle_v_max", "form_rel_err", "cond_mean_rel_err", "cond_cov_rel_err")


def train(store: RunStore, label: str, model: str, steps: int, **params) -> dict:
    config = gaussian_run(label, model, steps=steps, batch_size=512, **params)
    config.update(eval_every=steps, device="cpu")
    config = resolve_config(config)
    run_id = store.create_run(config, dataset="gaussian", model=model, total_steps=steps)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    status = train_run(store, run_id)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    latest = {k[5:]: v["value"] for k, v in store.latest_metrics(run_id).items() if k.startswith("eval/")}
    out = {"model": model, **params, "steps": steps, "status": status, "cpu_s": round(cpu, 2), "wall_s": round(wall, 2)}
    out.update({k: round(latest[k], 4) for k in KEYS if k in latest})
    out["learned_rho"] = [round(latest[f"rho_{i}"], 4) for i in range(1, 5) if f"rho_{i}" in latest]
    return out


def closed_forms() -> dict:
    """What each reference does to the conditional p(v | u), exactly."""
    truth = gaussian_model(**POPULATION)
    true_cond = gt.true_conditional(truth)
    out = {"rho": [round(r, 4) for r in truth.rhos]}
    for tilt, direction in (("l2", "v|u"), ("l2", "both"), ("dot", "both")):
        ref = gt.reference(truth, tilt, direction, 4)
        cond = gt.learned_conditional(ref.G_u, ref.G_v, tilt, truth.cov_uu, truth.cov_vv)
        out[f"{tilt}_{direction}"] = {
            "cond_mean_rel_err": round(gt.mean_relative_error(cond.coef, true_cond.coef, truth.cov_uu), 4),
            "cond_cov_rel_err": round(gt.shared_cov_relative_error(cond.cov, truth), 4),
            "implied_rho": [round(r, 4) for r in gt.implied_correlations(cond.coef, truth)[:4]],
        }
    return out


def cosine_optimum() -> dict:
    """The cosine tilt's population optimum (numerical) and its conditional, by importance sampling."""
    truth = gaussian_model(**POPULATION)
    t0 = time.process_time()
    ref = gt.numerical_reference(truth, "cosine", "both", rank=4, n=2000, iters=150)
    rng = np.random.default_rng(1)
    u, _, _ = truth.sample(200, rng)
    _, pool, _ = truth.sample(20000, rng)

    def score(a, b):
        za = (a - truth.mean_u) @ ref.G_u.T
        zb = (b - truth.mean_v) @ ref.G_v.T
        za /= np.linalg.norm(za, axis=1, keepdims=True)
        zb /= np.linalg.norm(zb, axis=1, keepdims=True)
        return za @ zb.T / ref.temperature

    means, covs, _ = gt.importance_conditional(score, u, pool)
    true_cond = gt.true_conditional(truth)
    coef = np.linalg.lstsq(u - truth.mean_u, means - truth.mean_v, rcond=None)[0].T
    su, _ = gt.form_subspaces(ref.W, truth, 4)
    return {"note": ref.note, "cpu_s": round(time.process_time() - t0, 1), "temperature": round(ref.temperature, 4),
            "angle_u_max": round(float(gt.principal_angles_deg(su, ref.subspace_u).max()), 3),
            "cond_mean_rel_err": round(gt.mean_relative_error(coef, true_cond.coef, truth.cov_uu), 4),
            "cond_cov_rel_err": round(float(np.mean([gt.shared_cov_relative_error(c, truth) for c in covs])), 4)}


def digits(store: RunStore, finetune_steps: int = 100) -> dict:
    """Digits ↔ captions with the cosine and L2 tilts: retrieval, classification as retrieval
    (zero-shot over the label captions), and after a fine-tuning step on the training images."""
    from mmviz.data.registry import load
    from mmviz.gaussian.models import classification_accuracy, finetune_classifier
    from mmviz.gaussian.presets import digits_run
    from mmviz.runs.loop import load_run_model

    out = {}
    for tilt in ("cosine", "l2"):
        config = resolve_config({**digits_run(tilt, tilt), "device": "cpu", "threads": 1})
        run_id = store.create_run(config, dataset="digits", model="tilt", total_steps=config["steps"])
        cpu0 = time.process_time()
        status = train_run(store, run_id)
        latest = {k[5:]: v["value"] for k, v in store.latest_metrics(run_id).items() if k.startswith("eval/")}
        model, config = load_run_model(store, run_id)
        train_data = load("digits", "train", **config["dataset_params"])
        test_data = load("digits", "test", **config["dataset_params"])
        prompts = torch.tensor(test_data.extras["prompts"])
        tensors = [torch.tensor(d.modalities["image"]) for d in (train_data, test_data)]
        labels = [torch.tensor(d.metadata["label"].to_numpy()) for d in (train_data, test_data)]
        before = classification_accuracy(model, tensors[1], labels[1], prompts)
        finetune_classifier(model, tensors[0], labels[0], prompts, steps=finetune_steps)
        after = classification_accuracy(model, tensors[1], labels[1], prompts)
        out[tilt] = {"status": status, "steps": config["steps"], "cpu_s": round(time.process_time() - cpu0, 1),
                     "r1_image_to_text": round(latest["r1_image_to_text"], 4),
                     "r1_text_to_image": round(latest["r1_text_to_image"], 4),
                     "classification_by_retrieval": round(before, 4),
                     f"after_{finetune_steps}_finetune_steps": round(after, 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="probabilistic-loss runs and closed forms only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    home = tempfile.mkdtemp(prefix="mmviz-bench-gauss-")
    os.environ["MMVIZ_HOME"] = home
    store = RunStore(home)
    runs = [train(store, "prob l2 both", "gauss-prob", 1500),
            train(store, "prob l2 v|u", "gauss-prob", 1500, direction="v|u")]
    if not args.quick:
        runs += [train(store, "l2 infonce", "gauss-l2", 1000), train(store, "dot infonce", "gauss-dot", 1000),
                 train(store, "cosine infonce", "gauss-cosine", 1000)]
    head = runs[0]
    result = {
        "population": {**POPULATION, "n_train": 100000, "latent_dim": 4},
        "target_angle_deg_5": head["angle_u_max"] <= 5 and head["angle_v_max"] <= 5,
        "target_form_err_5pct": head["form_rel_err"] <= 0.05,
        "target_cpu_30s": head["cpu_s"] <= 30,
        "runs": runs,
        "closed_forms": closed_forms(),
        "loadavg": os.getloadavg(),
        "torch_threads": torch.get_num_threads(),
    }
    if not args.quick:
        result["cosine_optimum"] = cosine_optimum()
        result["digits"] = digits(store)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
