"""Tilts and the losses that fit the learned conditionals (Baptista, Stuart & Tran 2025).

A tilt is the alignment score f(z_u, z_v) of two encodings; the learned conditional is
p_θ(v | u) ∝ p(v) exp f. Two ways to fit it to data:

* :func:`tilted_info_nce` — CLIP-style InfoNCE: Z(u) = E_{p(v)} e^f estimated by the batch's
  candidates (a softmax over the batch), one or both directions.
* :func:`gaussian_conditional_nll` — the probabilistic loss: the negative log-likelihood of
  the learned conditional with Z(u) computed *exactly*, which the Gaussian tilts allow when the
  marginal is Gaussian: z_v = G_v ṽ ~ N(0, S_v) with S_v = G_v Σvv G_vᵀ, so

      dot: log Z(u) = ½ z_uᵀ S_v z_u
      l2:  log Z(u) = −½ log det(I + S_v) − ½ z_uᵀ (I + S_v)⁻¹ z_u

  and −log p_θ(v | u) = −log p(v) − f + log Z(u) (the first term does not depend on θ and is
  left out). Its expectation is E KL(p(v | u) ‖ p_θ(v | u)) + const: the large-batch limit of
  InfoNCE, without the batch's bias.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

TILTS = ("cosine", "l2", "dot")
DIRECTIONS = ("both", "v|u", "u|v")


def tilt_scores(za: Tensor, zb: Tensor, tilt: str) -> Tensor:
    """Unscaled f between every za (B1, k) and zb (B2, k) → (B1, B2). cosine expects unit
    vectors (the model projects onto the sphere); l2 = −½‖za − zb‖²; dot = za·zb."""
    if tilt == "l2":
        sq = (za * za).sum(1, keepdim=True) - 2.0 * za @ zb.T + (zb * zb).sum(1)[None, :]
        return -0.5 * sq.clamp_min(0.0)  # rounding can make a tiny squared distance negative
    return za @ zb.T


def tilted_info_nce(logits_ab: Tensor, logits_ba: Tensor, direction: str, offset: int = 0) -> Tensor:
    """InfoNCE of scaled tilt scores. logits_ab (B, N): row i = u_i against every v of the
    (global) batch, logits_ba (B, N): v_i against every u; the positive of row i is column
    ``offset + i``. ``v|u`` fits p(v | u) (softmax over the v's), ``u|v`` the other, ``both`` their mean."""
    targets = torch.arange(logits_ab.shape[0], device=logits_ab.device) + offset
    if direction == "v|u":
        return F.cross_entropy(logits_ab, targets)
    if direction == "u|v":
        return F.cross_entropy(logits_ba, targets)
    return 0.5 * (F.cross_entropy(logits_ab, targets) + F.cross_entropy(logits_ba, targets))


def _log_partition(z: Tensor, S: Tensor, tilt: str) -> Tensor:
    """log E_{z'~N(0, S)} e^{f(z, z')} per row of z (B, k) → (B,)."""
    if tilt == "dot":
        return 0.5 * ((z @ S) * z).sum(1)
    eye = torch.eye(S.shape[0], dtype=S.dtype, device=S.device)
    inner = eye + S  # ⪰ I: always invertible
    solved = torch.linalg.solve(inner, z.T).T
    return -0.5 * torch.logdet(inner) - 0.5 * (solved * z).sum(1)


def gaussian_conditional_nll(za: Tensor, zb: Tensor, S_a: Tensor, S_b: Tensor, tilt: str,
                             direction: str) -> Tensor:
    """Exact NLL of the learned Gaussian conditionals, up to θ-free terms (see the module text).

    za (B, k) = G_u ũ, zb (B, k) = G_v ṽ of paired samples; S_a (k, k) = G_u Σuu G_uᵀ and
    S_b = G_v Σvv G_vᵀ, the encodings' covariances under the marginals. Returns a scalar.
    """
    if tilt not in ("l2", "dot"):
        raise ValueError(f"the {tilt!r} tilt has no closed-form normaliser")
    f = -0.5 * ((za - zb) ** 2).sum(1) if tilt == "l2" else (za * zb).sum(1)
    terms = []
    if direction in ("both", "v|u"):
        terms.append((-f + _log_partition(za, S_b, tilt)).mean())
    if direction in ("both", "u|v"):
        terms.append((-f + _log_partition(zb, S_a, tilt)).mean())
    return sum(terms) / len(terms)
