"""Contrastive losses: symmetric InfoNCE (CLIP, MERU) and MERU's entailment-cone loss.

The losses take logits and angles; the models compute those in their geometry
(:mod:`mmviz.geometry`). With data parallelism a rank holds B local rows and scores them
against all N gathered columns; ``offset`` is where its rows sit in that global batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def symmetric_info_nce(logits_a: Tensor, logits_b: Tensor, offset: int = 0) -> Tensor:
    """CLIP's symmetric InfoNCE: mean of the two cross-entropies whose target is the pair.

    logits_a: Tensor of shape (B, N), row i scores sample i of modality a against every
    sample of modality b in the (global) batch; logits_b: (B, N), the same from b to a
    (on one process with N = B, ``logits_b = logits_a.T``). The positive of row i is
    column ``offset + i``. Returns a scalar Tensor.
    """
    targets = torch.arange(logits_a.shape[0], device=logits_a.device) + offset
    return 0.5 * (F.cross_entropy(logits_a, targets) + F.cross_entropy(logits_b, targets))


def entailment_loss(exterior_angle: Tensor, half_aperture: Tensor) -> Tensor:
    """MERU's entailment loss: mean over pairs of max(0, angle − aperture).

    exterior_angle: Tensor of shape (B,), the exterior angle at the general point x
    (a caption) towards its specific partner y (its image); half_aperture: (B,), the
    half-aperture of x's cone. Zero when every y lies inside its x's cone. Returns a scalar.
    """
    return torch.clamp(exterior_angle - half_aperture, min=0.0).mean()
