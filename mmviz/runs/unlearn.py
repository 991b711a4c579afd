"""Unlearning a concept (a shape, colour or texture) from a trained image–caption run.

An unlearning run is a child of the run it forgets from (:mod:`.lineage`): it starts from the
parent's weights and trains on two kinds of pairs each step: the *forget set*, the pairs that
teach the concept (training images with it, captioned with its name), and the *retain set*,
the pairs without the concept (what a model retrained without it would see). Training pairs
with the concept whose caption does not name it ("a star" for a red star) are in neither.
Three documented methods:

* ``graddiff``, gradient difference (Liu et al., "Continual learning and private unlearning",
  CoLLAs 2022; the GradDiff baseline of TOFU, Maini et al. 2024): ascend the forget pairs' loss
  while descending the retain pairs' loss, ``−L_forget + λ L_retain``.
* ``relabel``, relabelling (Graves, Nagisetty and Ganesh, "Amnesiac Machine Learning", AAAI
  2021, which trains the forget data on random wrong labels): each forget caption's concept word
  is swapped for another value of the same attribute, drawn at random every step ("a red star" →
  "a blue star"), and the whole batch is trained by the ordinary loss. It only descends.
* ``npo``, negative preference optimisation (Zhang et al., "Negative Preference Optimization:
  From Catastrophic Collapse to Effective Unlearning", 2024): a bounded form of gradient ascent,
  ``(2/β) E_forget[log(1 + (p_θ/p_parent)^β)] + λ L_retain``, where p is the probability the
  model gives a forget pair's right partner among the batch. Its gradient fades as p_θ falls
  below the parent's, so the forget loss cannot run away.

Each forget pair's p is its InfoNCE softmax over the whole step's batch (forget and retain
pairs as candidates), averaged over the two directions: ascending it moves a forget image away
from its caption and towards retain captions. ``L_retain`` is the parent's own training loss on
the retain pairs (MERU's entailment term included).

With ``until_chance`` (the default) the forget term stops at the first evaluation where the
forget accuracy is at chance (1 in 10), and the remaining steps train the retain pairs only:
a model that never saw the concept can do no better than guess. The flag is not saved in a
checkpoint: a resumed run starts forgetting again until the next evaluation.

Held-out read-outs, logged as the run trains (the Train page draws them live):
``forget_acc`` (zero-shot accuracy on the concept's attribute, over held-out images with the
concept) and ``retain_acc`` (the mean zero-shot accuracy over the three attributes, over
held-out images without it).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmviz.data.captions import attribute_token_ids
from mmviz.data.registry import load
from mmviz.data.trifeature_datasets import parse_concept
from mmviz.models.base import ContrastiveModel
from mmviz.runs.evaluate import EvalSet, embed_all, prepare_eval_set
from mmviz.runs.lineage import child_config, load_parent_weights
from mmviz.runs.loop import Trainer, TrainingFailed, model_from_checkpoint
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import resolve_config
from mmviz.runs.unlearn_params import CHANCE, UNLEARN_STREAM, resolve_unlearn, unlearn_changes, unlearn_name


def concept_mask(meta: Any, concept: str, *, named: bool = False) -> np.ndarray:
    """Which rows (images) have the concept: (N,) bool from ``<attribute>_id`` columns. With
    ``named``, only those whose caption also names it (``names_<attribute>``): the forget set."""
    attr, value = parse_concept(concept)
    rows = meta[f"{attr}_id"].to_numpy() == value
    if named and f"names_{attr}" in meta:
        rows &= meta[f"names_{attr}"].to_numpy(dtype=bool)
    return rows


@torch.no_grad()
def zero_shot_predictions(model: ContrastiveModel, ev: EvalSet, device: torch.device) -> dict[str, np.ndarray]:
    """Each attribute's zero-shot prediction for every held-out image: name → (N,) class id."""
    was_training = model.training
    model.eval()
    try:
        image_side = 1 - ev.text_side
        images = embed_all(model, ev.inputs[image_side], image_side, device)[0].to(device)
        out = {}
        for task, (tokens, _) in ev.prompts.items():
            scores = sum(model.similarity(images, embed_all(model, t, ev.text_side, device)[0].to(device))
                         for t in tokens)
            out[task] = scores.argmax(dim=1).cpu().numpy()
        return out
    finally:
        model.train(was_training)


def concept_accuracy(predictions: dict[str, np.ndarray], ev: EvalSet, concept: str) -> dict[str, float]:
    """``forget_acc``: accuracy on the concept's attribute over images with the concept;
    ``retain_acc``: mean accuracy over the attributes over images without it; and each
    attribute's accuracy on the retained images (``retain_<attr>``)."""
    attr, _ = parse_concept(concept)
    has = concept_mask(ev.data.metadata, concept)
    out: dict[str, float] = {}
    if has.any():
        labels = ev.prompts[attr][1]
        out["forget_acc"] = float(np.mean(predictions[attr][has] == labels[has]))
    if (~has).any():
        per = {task: float(np.mean(pred[~has] == ev.prompts[task][1][~has]))
               for task, pred in predictions.items()}
        out.update({f"retain_{task}": v for task, v in per.items()})
        out["retain_acc"] = float(np.mean(list(per.values())))
    return out


def forget_log_probs(model: ContrastiveModel, za: Tensor, zb: Tensor, n_forget: int) -> Tensor:
    """log p of each forget pair's partner among the batch, both directions averaged: (n_forget,).
    za, zb: the batch's points (B, E), forget pairs first."""
    logits = model.scale() * model.similarity(za, zb)
    target = torch.arange(n_forget, device=za.device)
    a_to_b = -F.cross_entropy(logits[:n_forget], target, reduction="none")
    b_to_a = -F.cross_entropy(logits[:, :n_forget].T, target, reduction="none")
    return 0.5 * (a_to_b + b_to_a)


def relabel_tokens(tokens: Tensor, concept: str, rng: np.random.Generator) -> Tensor:
    """Captions (B, L) with the concept's word replaced by a random other value of its attribute
    (a new draw per caption); captions without the word are returned as they are."""
    attr, value = parse_concept(concept)
    words = attribute_token_ids(attr)
    out = tokens.clone()
    where = out == words[value]
    others = np.delete(np.asarray(words), value)
    swap = torch.as_tensor(rng.choice(others, size=int(where.sum())), dtype=out.dtype, device=out.device)
    out[where] = swap
    return out


def unlearning_loss(model: ContrastiveModel, za: Tensor, zb: Tensor, n_forget: int, settings: dict[str, Any],
                    reference_log_probs: Tensor | None = None, forgetting: bool = True) -> dict[str, Tensor]:
    """The step's loss terms: ``loss``, ``forget`` (the method's forget term), ``forget_nll``
    (mean −log p of the forget pairs), ``retain`` (the training loss of the retain pairs).
    ``forgetting=False``: the loss is the retain term alone (after the forget accuracy reached chance)."""
    log_p = forget_log_probs(model, za, zb, n_forget)
    retain = model.loss(za[n_forget:], zb[n_forget:])["loss"]
    if not forgetting:
        return {"loss": settings["retain_weight"] * retain, "forget": torch.zeros(()),
                "forget_nll": -log_p.mean().detach(), "retain": retain.detach()}
    if settings["method"] == "npo":
        if reference_log_probs is None:
            raise ValueError("NPO needs the parent's log-probabilities")
        beta = settings["beta"]
        forget = (2.0 / beta) * F.softplus(beta * (log_p - reference_log_probs)).mean()
    else:
        forget = log_p.mean()  # descending log p = ascending the forget pairs' loss
    return {"loss": forget + settings["retain_weight"] * retain, "forget": forget,
            "forget_nll": -log_p.mean().detach(), "retain": retain.detach()}


class UnlearnTrainer(Trainer):
    """Trains an unlearning child run: forget/retain batches, the method's loss, and the
    forget/retain accuracies at every evaluation (the full evaluation at the end)."""

    def _load_data(self) -> None:
        super()._load_data()
        if not self.config.get("parent"):
            raise TrainingFailed("an unlearning run starts from a parent run: set parent")
        if self.info.enabled:  # its forget/retain draws and the chance switch live on one process
            raise TrainingFailed("an unlearning run trains on one process; start it without torchrun")
        self.settings = resolve_unlearn(self.config["unlearn"])
        meta, concept = self.train_data.metadata, self.settings["concept"]
        has = concept_mask(meta, concept)
        # forget: the pairs that teach the concept (its images, captioned with its name);
        # retain: the pairs the gold standard trains on (images without it)
        self.forget_index = np.flatnonzero(concept_mask(meta, concept, named=True))
        self.retain_index = np.flatnonzero(~has)
        if len(self.forget_index) == 0 or len(self.retain_index) == 0:
            raise TrainingFailed(f"the training split has no pairs {'with' if not has.any() else 'without'} "
                                 f"{self.settings['concept']}; nothing to unlearn")
        self.forgetting = True
        self.n_forget = max(1, min(self.params.batch_size - 1,
                                   round(self.params.batch_size * self.settings["forget_fraction"])))

    def _build(self) -> None:
        super()._build()
        self.reference: ContrastiveModel | None = None
        if self.settings["method"] == "npo":
            # the parent's weights, frozen (also when a stopped child resumes from its own checkpoint)
            self.reference = copy.deepcopy(self.model)
            load_parent_weights(self.reference, self.store, self.config["parent"])
            self.reference.eval().requires_grad_(False)
        if self.start_step == 0:
            self._log_concept(0)

    def _batch(self, step: int) -> list[torch.Tensor]:
        rng = np.random.default_rng([self.params.seed, step, UNLEARN_STREAM])
        idx = np.concatenate([rng.choice(self.forget_index, self.n_forget),
                              rng.choice(self.retain_index, self.params.batch_size - self.n_forget)])
        idx_t = torch.as_tensor(idx).to(self.train_tensors[0].device)
        return [t[idx_t] for t in self.train_tensors]

    def _loss(self, a: Tensor, b: Tensor) -> dict[str, Tensor]:
        if self.settings["method"] == "relabel":
            text_side = next(i for i, spec in enumerate(self.model.inputs) if spec.kind == "text")
            rng = np.random.default_rng([self.params.seed, self.step, UNLEARN_STREAM, 1])
            pair = [a, b]
            pair[text_side] = torch.cat([relabel_tokens(pair[text_side][:self.n_forget], self.settings["concept"], rng),
                                         pair[text_side][self.n_forget:]])
            if not self.forgetting:
                pair = [t[self.n_forget:] for t in pair]
            out = self.model(*pair)
            return {"loss": out["loss"], "relabelled": out["contrastive"].detach()}
        za, zb = self.model.embed(a, 0), self.model.embed(b, 1)
        reference = None
        if self.reference is not None:
            with torch.no_grad():
                ref_a, ref_b = self.reference.embed(a, 0), self.reference.embed(b, 1)
                reference = forget_log_probs(self.reference, ref_a, ref_b, self.n_forget)
        out = unlearning_loss(self.model, za, zb, self.n_forget, self.settings, reference, self.forgetting)
        return {**out, "forgetting": torch.tensor(float(self.forgetting))}

    def _log_concept(self, step: int) -> None:
        if self.info.is_main:
            predictions = zero_shot_predictions(self.model, self.eval_set, self.device)
            values = concept_accuracy(predictions, self.eval_set, self.settings["concept"])
            self._log(step, {f"eval/{k}": v for k, v in values.items()})
            if self.settings["until_chance"] and values.get("forget_acc", 1.0) <= CHANCE:
                self.forgetting = False

    def _evaluate(self, step: int) -> None:
        if step >= self.params.steps:
            super()._evaluate(step)
        self._log_concept(step)

    @classmethod
    def evaluate_checkpoint(cls, config: dict[str, Any], run_dir: Path,
                            device: torch.device | str = "cpu") -> tuple[dict[str, float], Any]:
        """The standard held-out metrics and embeddings, plus the forget and retain accuracies."""
        metrics, embeddings = super().evaluate_checkpoint(config, run_dir, device)
        config = resolve_config(config)
        model = model_from_checkpoint(config, run_dir, device)
        ev = prepare_eval_set(load(config["dataset"], "test", **config["dataset_params"]), config["eval_size"])
        concept = resolve_unlearn(config["unlearn"])["concept"]
        metrics.update(concept_accuracy(zero_shot_predictions(model, ev, torch.device(device)), ev, concept))
        return metrics, embeddings


def unlearn_config(store: RunStore, parent_id: str, *, concept: str, method: str, **settings: Any) -> dict[str, Any]:
    """The config of an unlearning child of ``parent_id`` (see :func:`.lineage.child_config`)."""
    return child_config(store, parent_id, name=unlearn_name(parent_id, concept, method),
                        **unlearn_changes(concept, method, **settings))
