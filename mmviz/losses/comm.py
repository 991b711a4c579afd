"""CoMM's losses (Dufumier et al., ICLR 2025): SimCLR's InfoNCE between two views and the CoMM
objective that aligns a fused multimodal embedding's two augmentations and each modality's
masked view with them.

Embeddings are L2-normalised here; ``scale`` is the logit scale 1/τ (CoMM: τ = 0.1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def nt_xent(z1: Tensor, z2: Tensor, scale: float | Tensor = 10.0) -> Tensor:
    """SimCLR's InfoNCE (NT-Xent) between two views, as in CoMM's code.

    z1, z2: (N, D) embeddings of the same N samples (normalised here). Each of the 2N rows
    has one positive (the other view of its sample) and 2N − 2 negatives (both views of every
    other sample); its own similarity is excluded. Returns the mean over the 2N rows, a scalar.
    """
    z1, z2 = F.normalize(z1, dim=-1), F.normalize(z2, dim=-1)
    n = len(z1)
    z = torch.cat([z1, z2])  # (2N, D)
    logits = scale * (z @ z.T)
    eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(eye, float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, targets)


REDUCTIONS = ("mean", "sum")


def comm_loss(full1: Tensor, full2: Tensor, masked1: list[Tensor] | None, masked2: list[Tensor] | None,
              scale: float | Tensor = 10.0, reduction: str = "mean") -> dict[str, Tensor]:
    """CoMM's objective over its n + 1 terms, L(Z′, Z″) and ½ (L(Z_i′, Z″) + L(Z_i″, Z′)) per modality i.

    ``reduction="mean"`` averages the n + 1 terms, as CoMM's code does (``CoMMLoss.forward``:
    ``torch.mean`` of the stacked terms); ``"sum"`` adds them, as mmviz did before, which with two
    modalities is exactly 3× the loss and its gradients (so a gradient clip at 1.0 acts sooner).

    full1, full2: (N, D) fused embeddings Z′, Z″ of two augmentations of the same pairs.
    masked1, masked2: per modality i, (N, D) embeddings Z_i′, Z_i″ of the same augmentations
    with every modality but i masked (CoMM's code pairs each masked view with the *other*
    augmentation's fused embedding); None for the ablation with the two-view term only (one
    term: both reductions agree). L = :func:`nt_xent`. Returns ``{"loss", "views",
    "modality_<i>"...}`` (scalars; the terms unreduced).
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    views = nt_xent(full1, full2, scale)
    out = {"views": views}
    terms = [views]
    for i, (m1, m2) in enumerate(zip(masked1 or [], masked2 or [])):
        term = 0.5 * (nt_xent(m1, full2, scale) + nt_xent(m2, full1, scale))
        out[f"modality_{i + 1}"] = term
        terms.append(term)
    total = torch.stack(terms).sum()
    out["loss"] = total / len(terms) if reduction == "mean" else total
    return out
