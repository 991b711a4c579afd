"""Registry entries for the tree-embedding models (issue #10), and their presets.

``poincare-embed`` (Poincaré ball), ``euclid-embed`` (the same loss in Euclidean space) and
``lorentz-embed`` (the hyperboloid, Nickel & Kiela 2018) train on the hierarchy datasets with
:class:`mmviz.trees.trainer.TreeTrainer`.
"""

from __future__ import annotations

from typing import Any

from mmviz.data.hierarchies import WORDNET_SUBTREES
from mmviz.models.registry import ModelInfo, register_model
from mmviz.runs.presets import Preset, register_preset
from mmviz.trees.embed import HyperbolicEmbedConfig, TreeEmbedConfig, TreeEmbedding

HIERARCHY_DATASETS: tuple[str, ...] = ("tree", *WORDNET_SUBTREES, "wordnet-noun", "edgelist")
TRAINER = "mmviz.trees.trainer:TreeTrainer"

TREE_TRAIN_DEFAULTS: dict[str, Any] = {
    "steps": 3000, "batch_size": 256, "lr": 0.1, "warmup_steps": 0, "eval_every": 250,
    "log_every": 25, "checkpoint_every": 1000, "seed": 0,
}
"""Training settings that suit these models: the defaults of a run that leaves them out (CLI,
presets, the Hierarchy page). Riemannian Adam at lr 0.1, 3,000 steps of 256 closure pairs
(~120 epochs of the mammal closure)."""
_DEFAULTS = tuple(TREE_TRAIN_DEFAULTS.items())

POINCARE = register_model(ModelInfo(
    "poincare-embed", "Poincaré embedding: a point per node in the Poincaré ball, trained on the "
    "transitive closure with negative sampling and Riemannian Adam (Nickel & Kiela 2017).",
    "poincare", HyperbolicEmbedConfig, TreeEmbedding, datasets=HIERARCHY_DATASETS, trainer=TRAINER,
    train_defaults=_DEFAULTS,
))
EUCLID = register_model(ModelInfo(
    "euclid-embed", "Euclidean embedding: the same loss and sampling with Euclidean distance "
    "(Nickel & Kiela's baseline).",
    "euclidean", TreeEmbedConfig, TreeEmbedding, datasets=HIERARCHY_DATASETS, trainer=TRAINER,
    train_defaults=_DEFAULTS,
))
LORENTZ = register_model(ModelInfo(
    "lorentz-embed", "Lorentz embedding: the same loss on the hyperboloid, better conditioned near "
    "the boundary (Nickel & Kiela 2018).",
    "lorentz", HyperbolicEmbedConfig, TreeEmbedding, datasets=HIERARCHY_DATASETS, trainer=TRAINER,
    train_defaults=_DEFAULTS,
))


def tree_run(name: str, model: str, dataset: str = "wordnet-mammal", dim: int = 2, **overrides: Any) -> dict[str, Any]:
    """A run config for a tree embedding with :data:`TREE_TRAIN_DEFAULTS`."""
    return {"name": name, "dataset": dataset, "model": model, "model_params": {"dim": dim},
            **TREE_TRAIN_DEFAULTS, "device": "auto", **overrides}


register_preset(Preset(
    "tree-2d",
    "A tree in 2-D: Poincaré vs Euclidean",
    "A complete ternary tree of 121 nodes, one point per node in two dimensions, trained on its "
    "transitive closure (Nickel & Kiela 2017). Watch the closure MAP: the Poincaré disk has room for "
    "the tree, the plane does not. (The Hierarchy lab trains WordNet mammals the same way.)",
    tuple(
        tree_run(name, model, dataset="tree", dataset_params={"branching": 3, "depth": 4}, steps=500,
                 eval_every=50, log_every=10, checkpoint_every=250, model_params={"dim": 2, "burn_in": 50})
        for name, model in (("Poincaré 2-D", "poincare-embed"), ("Euclidean 2-D", "euclid-embed"))
    ),
))
