"""The cross-view read-out of a trained CoMM n = 3 run: how well each masked view of its fusion
predicts another modality's side of a synergy relation (:data:`~mmviz.metrics.triple_probes.CROSS_PREDICTIONS`).

It shows *why* the S1 probe leaves chance and the S2 probe does not: a single modality's masked
view learns to carry S1's other side, and no view in CoMM's loss is asked to compute S2's."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mmviz.data.registry import load
from mmviz.errors import MmvizError
from mmviz.metrics.triple_probes import cross_view_predictions, cross_views
from mmviz.models.comm import batched_features

CROSS_EXAMPLES = 2048
"""Unbiased test triples read (about half hold each relation): ~10 s on one CPU core."""


def cross_view_read_out(model: Any, config: dict[str, Any], examples: int = CROSS_EXAMPLES,
                        device: torch.device | str = "cpu") -> dict[str, float]:
    """Each cross-view cell's probe accuracy (fraction) for ``model`` (a CoMM n = 3 with
    ``subset_features``) on the first ``examples`` test triples of its run ``config``."""
    if not hasattr(model, "subset_features"):
        raise MmvizError(f"the cross-view read-out needs a CoMM n = 3 model (comm3), not {config.get('model')!r}")
    test = load(config["dataset"], "test", **config["dataset_params"])
    test = test.subset(np.arange(min(examples, len(test))))
    inputs = [torch.as_tensor(test.modalities[m]) for m in list(test.modalities)[:3]]
    features = {view: batched_features(model, lambda a, b, c, view=view: model.subset_features(a, b, c, sides=view),
                                       inputs, device)
                for view in cross_views()}
    return cross_view_predictions(features, test.metadata)
