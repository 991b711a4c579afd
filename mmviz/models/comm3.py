"""Three modalities (``trifeature-triples``: image 1, image 2, tone): CoMM with n = 3 against
aligning the modalities in pairs.

* ``pairwise3``: the sum of symmetric InfoNCE over the three pairs (1–2, 1–3, 2–3), each
  modality's pooled encoder → projection → sphere. Keeps what some pair shares.
* ``anchor3``: every other modality aligned to one anchor (default image 1) by InfoNCE, as
  ImageBind binds modalities to images: two terms.
* ``comm3``: CoMM (Dufumier et al., ICLR 2025) for n modalities: each modality's encoder gives
  tokens, [CLS] + the tokens of all three go through one transformer to a head. Two
  augmentations give the fused Z′, Z″; masking all modalities but i gives Z_i′, Z_i″. The loss
  is the mean of the n + 1 = 4 terms L(Z′, Z″) and ½ (L(Z_i′, Z″) + L(Z_i″, Z′)) for i = 1..3
  (:func:`~mmviz.losses.comm.comm_loss`, L = NT-Xent, τ = 0.1). ``masked_terms`` drops some
  modality terms (the ablation). ``pair_views`` adds a masked view of each pair of modalities
  with its own term (mmviz's extension): with single-modality views only, no view can predict
  anything of a three-way relation such as S2 (each attribute of it needs the two others), so
  nothing in the loss asks the fused embedding for it; a view of two modalities can.

All three share the two-modality study's choices (:mod:`mmviz.models.comm`): fresh renders as
views (the data layer draws new poses, tone phases and noise each step), label-preserving image
augmentations, BatchNorm CNNs, a fixed temperature. Probes read all of R, U1–3, S1 and S2
(:mod:`mmviz.metrics.triple_probes`) off the frozen representation: the three pooled encoder
outputs concatenated for the alignment baselines, the fused [CLS] output for CoMM. Retrieval
metrics and exported embeddings are image 1 ↔ image 2 (the dataset's pair); the tone is probed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mmviz.losses import symmetric_info_nce
from mmviz.losses.comm import REDUCTIONS, comm_loss
from mmviz.metrics.triple_probes import triple_probes
from mmviz.models.clip import Clip
from mmviz.models.comm import CrossConfig, batched_features, mlp_head
from mmviz.models.comm_views import augment
from mmviz.models.config import param, parse_widths
from mmviz.models.encoders import ConvEncoder, ModalitySpec, Projection, SignalEncoder
from mmviz.models.registry import ModelInfo, register_model

DATASETS = ("trifeature-triples",)
ANCHORS = ("image1", "image2", "tone")


@dataclass(frozen=True)
class TriplesConfig(CrossConfig):
    """What the three-modality models share (the image CNNs' settings are the pairs study's)."""

    tone_widths: str = param("16,32,64,128", "str", "Channels of each 1-D conv block of the tone encoder.",
                             advanced=True)


@dataclass(frozen=True)
class Pairwise3Config(TriplesConfig):
    """InfoNCE summed over the three pairs."""


@dataclass(frozen=True)
class Anchor3Config(TriplesConfig):
    """InfoNCE of each other modality with the anchor."""

    anchor: str = param("image1", "str", "The modality the other two are aligned to.", choices=ANCHORS)


@dataclass(frozen=True)
class Comm3Config(TriplesConfig):
    """CoMM with n = 3: tokens of three encoders → transformer fusion → projection head."""

    fusion_width: int = param(128, "int", "Token width of the fusion transformer.", min=8, max=1024)
    fusion_layers: int = param(2, "int", "Transformer blocks of the fusion.", min=1, max=6)
    fusion_heads: int = param(4, "int", "Attention heads of the fusion.", min=1, max=16, advanced=True)
    token_grid: int = param(2, "int", "Tokens per modality: g² (an image's feature map pooled to g × g, "
                            "the tone's to g² segments).", min=1, max=8, advanced=True)
    head_hidden: int = param(256, "int", "Hidden width of the projection head.", min=8, max=4096, advanced=True)
    masked_terms: str = param("1,2,3", "str", "Which modalities' masked-view terms the loss has, comma-"
                              "separated (1 = image 1, 2 = image 2, 3 = tone); empty = the two-view term "
                              "only (the ablation).")
    pair_views: bool = param(False, "bool", "Also a masked view of each *pair* of modalities (the third masked), "
                             "with its own term ½(L(Z_ij′, Z″) + L(Z_ij″, Z′)): mmviz's extension, not in CoMM's "
                             "loss, whose masked views keep one modality each.")
    loss_reduction: str = param("mean", "str", "How the loss terms combine: mean (CoMM's code) or sum.",
                                choices=REDUCTIONS, advanced=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fusion_width % self.fusion_heads:
            raise ValueError(f"fusion_width {self.fusion_width} is not divisible by fusion_heads "
                             f"{self.fusion_heads}")
        masked_modalities(self.masked_terms)


def masked_modalities(text: str) -> tuple[int, ...]:
    """"1,3" → (0, 2): the sides whose masked views have a loss term (ValueError if malformed)."""
    try:
        picked = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise ValueError(f"masked_terms must list modalities among 1, 2, 3, got {text!r}") from None
    if not set(picked) <= {1, 2, 3}:
        raise ValueError(f"masked_terms must list modalities among 1, 2, 3, got {text!r}")
    return tuple(i - 1 for i in picked)


def _trunk(spec: ModalitySpec, config: TriplesConfig) -> nn.Module:
    """The encoder of one modality with a feature map: a 2-D CNN for images, 1-D for the tone."""
    if spec.kind == "image":
        return ConvEncoder(spec.shape[0], spec.shape[1], parse_widths(config.cnn_widths), norm=config.cnn_norm)
    return SignalEncoder(parse_widths(config.tone_widths), norm=config.cnn_norm)


class _TriplesModel(Clip):
    """The sphere and cosine logits, views for training, and the six probes at evaluation."""

    config: TriplesConfig
    VIEWS_PER_IMAGE = 1

    def __init__(self, inputs: tuple[ModalitySpec, ...], config: TriplesConfig) -> None:
        kinds = tuple(spec.kind for spec in inputs)
        if kinds != ("image", "image", "vector"):
            raise ValueError("the three-modality models need two images and a signal (trifeature-triples), "
                             f"got {', '.join(kinds)}")
        super().__init__(inputs, config)

    @property
    def rendered_views(self) -> int:
        """Fresh renders per example the loop hands :meth:`forward` (0: the stored ones)."""
        return self.VIEWS_PER_IMAGE if self.config.views == "render" else 0

    def view(self, x: Tensor, k: int, side: int) -> Tensor:
        """View ``k`` of each example of modality ``side``: images (B[, V], C, H, W) augmented in
        training; the tone (B[, V], L) as drawn. Returns (B, ...)."""
        image = side < 2
        if x.dim() == (5 if image else 3):
            x = x[:, k % x.shape[1]]
        if image and self.training:
            return augment(x, self.config.max_shift, gray_prob=self.config.gray_prob)
        return x

    def views(self, x: Tensor, side: int, count: int) -> Tensor:
        """``count`` views of modality ``side`` stacked: (count·B, ...)."""
        return torch.cat([self.view(x, k, side) for k in range(count)])

    def probe_triples(self, a: Tensor, b: Tensor, c: Tensor) -> Tensor:
        """The representation the probes read, for one batch: (B, F)."""
        raise NotImplementedError

    def probe_features(self, a: Tensor, b: Tensor, c: Tensor, device: torch.device | str = "cpu") -> np.ndarray:
        """Probe representation of every example, in batches, in eval mode: (N, F) float64."""
        return batched_features(self, self.probe_triples, (a, b, c), device)

    def extra_eval(self, ev: Any, za: Tensor, zb: Tensor, device: torch.device) -> dict[str, float]:
        """``probe_R``, ``probe_U1..3``, ``probe_S1``, ``probe_S2`` (fractions), ``probe_seconds``."""
        data = ev.test if ev.test is not None else ev.data
        if not self.config.probes or "synergy123" not in data.metadata:
            return {}
        start = time.perf_counter()
        data = data.subset(np.arange(min(self.config.probe_pairs, len(data))))
        feats = self.probe_features(*(torch.as_tensor(data.modalities[m]) for m in list(data.modalities)[:3]),
                                    device=device)
        out = {f"probe_{k}": v for k, v in triple_probes(feats, data.metadata).items()}
        out["probe_seconds"] = time.perf_counter() - start
        return out


class _Aligned(_TriplesModel):
    """Per-modality encoder → pooled features → projection → sphere; InfoNCE over chosen pairs."""

    def __init__(self, inputs: tuple[ModalitySpec, ...], config: TriplesConfig) -> None:
        super().__init__(inputs, config)
        trunks = [_trunk(spec, config) for spec in inputs]
        self.encoders = nn.ModuleList(nn.Sequential(t, Projection(t.width, config.dim)) for t in trunks)

    def aligned_pairs(self) -> list[tuple[int, int]]:
        """Which modality pairs (sides) the loss aligns."""
        raise NotImplementedError

    def probe_triples(self, a: Tensor, b: Tensor, c: Tensor) -> Tensor:
        return torch.cat([self.encoders[side][0](x) for side, x in enumerate((a, b, c))], dim=1)

    def forward(self, a: Tensor, b: Tensor, c: Tensor) -> dict[str, Tensor]:
        """Σ over :meth:`aligned_pairs` of symmetric InfoNCE; terms ``pair_ij`` (1-based)."""
        feats = [self.features(self.view(x, 0, side), side) for side, x in enumerate((a, b, c))]
        with torch.autocast(feats[0].device.type, enabled=False):
            z = [self.project(f.float(), side) for side, f in enumerate(feats)]
            scale = self.scale()
            out: dict[str, Tensor] = {}
            for i, j in self.aligned_pairs():
                logits = scale * self.similarity(z[i], z[j])
                out[f"pair_{i + 1}{j + 1}"] = symmetric_info_nce(logits, logits.T)
            total = torch.stack(list(out.values())).sum()
        out["contrastive"] = out["loss"] = total
        return out


class Pairwise3(_Aligned):
    """InfoNCE over all three pairs."""

    def aligned_pairs(self) -> list[tuple[int, int]]:
        return list(combinations(range(3), 2))


class Anchor3(_Aligned):
    """InfoNCE of the two other modalities with the anchor."""

    config: Anchor3Config

    def aligned_pairs(self) -> list[tuple[int, int]]:
        anchor = ANCHORS.index(self.config.anchor)
        return [tuple(sorted((anchor, other))) for other in range(3) if other != anchor]  # type: ignore[misc]


class Comm3(_TriplesModel):
    """CoMM for three modalities: tokens → [CLS] + tokens → transformer → head (see module doc).

    A masked view of modality i feeds the transformer [CLS] + modality i's tokens only: the
    other modalities' tokens are not in the sequence, so nothing of them reaches the output.
    """

    config: Comm3Config
    VIEWS_PER_IMAGE = 2

    def __init__(self, inputs: tuple[ModalitySpec, ...], config: Comm3Config) -> None:
        super().__init__(inputs, config)
        self.encoders = nn.ModuleList(_trunk(spec, config) for spec in inputs)
        d, g = config.fusion_width, config.token_grid
        self.to_tokens = nn.ModuleList(nn.Linear(enc.width, d) for enc in self.encoders)
        self.positions = nn.ParameterList(nn.Parameter(0.02 * torch.randn(g * g, d)) for _ in inputs)
        self.cls = nn.Parameter(0.02 * torch.randn(1, 1, d))
        layer = nn.TransformerEncoderLayer(d, config.fusion_heads, 2 * d, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.fusion = nn.TransformerEncoder(layer, config.fusion_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = mlp_head(d, config.head_hidden, config.dim)
        self.masked = masked_modalities(config.masked_terms)

    def tokens(self, x: Tensor, side: int) -> Tensor:
        """A batch of modality ``side`` → its g² tokens (B, g², fusion_width)."""
        g = self.config.token_grid
        if side < 2:
            pixels = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
            fmap = nn.functional.adaptive_avg_pool2d(self.encoders[side].features(pixels - 0.5), g).flatten(2)
        else:
            fmap = nn.functional.adaptive_avg_pool1d(self.encoders[side].features(x.float()), g * g)
        return self.to_tokens[side](fmap.transpose(1, 2)) + self.positions[side]

    def fuse(self, *tokens: Tensor) -> Tensor:
        """[CLS] + the given modalities' tokens → the fused [CLS] output (B, fusion_width)."""
        seq = torch.cat([self.cls.expand(len(tokens[0]), -1, -1), *tokens], dim=1)
        return self.norm(self.fusion(seq)[:, 0])

    def features(self, x: Tensor, side: int) -> Tensor:
        """Masked view of modality ``side`` alone, through fusion and head: (B, dim)."""
        return self.head(self.fuse(self.tokens(x, side)))

    def probe_triples(self, a: Tensor, b: Tensor, c: Tensor) -> Tensor:
        return self.subset_features(a, b, c, sides=(0, 1, 2))

    def subset_features(self, a: Tensor, b: Tensor, c: Tensor, sides: tuple[int, ...]) -> Tensor:
        """The fused [CLS] output (B, fusion_width) of the masked view that keeps only the
        modalities ``sides`` (0 = image 1, 1 = image 2, 2 = tone); the others' inputs are unread.
        Any subset runs, whether or not the loss trained a view of it."""
        inputs = (a, b, c)
        return self.fuse(*(self.tokens(inputs[side], side) for side in sides))

    def forward(self, a: Tensor, b: Tensor, c: Tensor) -> dict[str, Tensor]:
        """CoMM's loss for n = 3. Each encoder runs once on both augmentations (2B inputs); the
        masked views reuse those tokens, batched into one fusion call (3 · 2B short sequences)."""
        n = len(a)
        toks = [self.tokens(self.views(x, side, 2), side) for side, x in enumerate((a, b, c))]  # (2B, g², d)
        full = self.head(self.fuse(*toks))
        views: list[Tensor] = []  # each masked view, both augmentations stacked: (2B, dim)
        names = [f"modality_{side + 1}" for side in self.masked]
        if self.masked:
            views += self.head(self.fuse(torch.cat([toks[i] for i in self.masked]))).split(2 * n)
        if self.config.pair_views:
            pairs = list(combinations(range(3), 2))
            seqs = torch.cat([torch.cat([toks[i], toks[j]], dim=1) for i, j in pairs])  # (3·2B, 2g², d)
            views += self.head(self.fuse(seqs)).split(2 * n)
            names += [f"modalities_{i + 1}{j + 1}" for i, j in pairs]
        with torch.autocast(full.device.type, enabled=False):
            f = lambda t: t.float()  # noqa: E731
            out = comm_loss(f(full[:n]), f(full[n:]), [f(v[:n]) for v in views] or None,
                            [f(v[n:]) for v in views] or None, self.scale(), reduction=self.config.loss_reduction)
        # name each term by the modalities its view keeps (comm_loss numbers the terms it was given)
        out = {k: v for k, v in out.items() if not k.startswith("modality_")} | {
            name: out[f"modality_{k + 1}"] for k, name in enumerate(names)}
        out["contrastive"] = out["views"]
        return out


register_model(ModelInfo(
    "pairwise3", "Pairwise alignment of three modalities: InfoNCE summed over the three pairs (keeps "
    "what some pair shares).", "sphere", Pairwise3Config, Pairwise3, datasets=DATASETS, modalities=3))
register_model(ModelInfo(
    "anchor3", "Anchor alignment: InfoNCE of each other modality with one anchor modality (image 1 "
    "by default), as ImageBind binds modalities to images.", "sphere", Anchor3Config, Anchor3,
    datasets=DATASETS, modalities=3))
register_model(ModelInfo(
    "comm3", "CoMM with n = 3: a fused embedding of two images and a tone (tokens → transformer), "
    "aligned across augmentations and with each modality's masked view (redundancy, uniqueness, "
    "synergy of two and of three).", "sphere", Comm3Config, Comm3, datasets=DATASETS, modalities=3))
