"""CoMM and its baselines on ``trifeature-pairs`` (Dufumier et al., ICLR 2025, "What to align in
multimodal contrastive learning?").

* ``cross``: CLIP-style symmetric InfoNCE between the two modalities' embeddings: aligns only
  what the two images share (redundancy).
* ``cross-self``: a cross-modal NT-Xent term + ½ of each modality's own SimCLR term between two
  augmentations, as CoMM's ``CrossSelfLoss`` (the cross term's rows take negatives from both
  modalities): also keeps what each image has alone (uniqueness).
* ``comm``: one CNN per modality → tokens → [CLS] + tokens of both → transformer fusion →
  head. Two augmentations X′, X″ of each pair give fused embeddings Z′, Z″; masking a modality's
  tokens gives single-modality views Z_i. Loss: the mean of ``L(Z′, Z″)`` and, per modality,
  ``½ (L(Z_i′, Z″) + L(Z_i″, Z′))``, as CoMM's ``CoMMLoss``: the fused embedding can also capture
  what only the two images *together* say (synergy).
Runs stored before these matched the reference keep their forms (``legacy_params``: CLIP's
InfoNCE as Cross+Self's cross term, CoMM's terms added).

All three embed each modality on the unit sphere (for the engine's retrieval metrics and the
exported embeddings; CoMM's per-modality embedding is its masked view) and expose
:meth:`probe_features`, the frozen representation the R/U/S probes read: both encoders'
pooled features concatenated for the baselines (as CoMM's code does for CLIP), the fused
[CLS] output for CoMM. The probes run in :meth:`extra_eval` at every evaluation.
Training views (``views``): by default the loop hands each model fresh renders of every pair's
images (same shape, textures and colours, new random poses: the data layer draws them each
step), and :func:`~mmviz.models.comm_views.augment` rotates, flips and shifts them. Two
augmentations of *one* stored render keep its size and texture phase, which tell pairs apart as
well as texture does, so texture was never needed: measured on unbiased CoMM (README, *CoMM*),
U stalled near 45 with augmented stored images and passed 63 after 700 steps with renders.
Temperature is fixed at 0.1 (CoMM's). The image CNNs use BatchNorm (``cnn_norm``; the other
models' CNNs use GroupNorm): measured on this CPU, CoMM with GroupNorm was still near R 40 /
U 30 after 1,100 steps, with BatchNorm at R 67 / U 43 after 368 (README, *CoMM*). A
modality's images (both augmentations) go through one BatchNorm call and every candidate of an
InfoNCE row comes from such a call, so all candidates share the statistics: they cannot single
out the positive (the leak MoCo's shuffled BN avoids needs keys normalised apart from queries).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mmviz.losses import symmetric_info_nce
from mmviz.losses.comm import REDUCTIONS, comm_loss, nt_xent
from mmviz.metrics.probes import rus_probes
from mmviz.models.clip import Clip
from mmviz.models.comm_views import augment
from mmviz.models.config import ContrastiveConfig, param, parse_widths
from mmviz.models.encoders import CNN_NORMS, ConvEncoder, ModalitySpec
from mmviz.models.registry import ModelInfo, register_model

DATASETS = ("trifeature-pairs",)
LEGACY_PARAMS = (("cnn_norm", "group"), ("views", "augment"))
"""Runs stored before ``cnn_norm`` existed were trained with GroupNorm (today's default is batch),
and before ``views`` existed on augmentations of the stored images (today's default renders)."""
CROSS_SELF_LEGACY = (*LEGACY_PARAMS, ("cross_loss", "clip"))
"""Cross+Self runs stored before ``cross_loss`` existed used CLIP's InfoNCE for the cross term."""
COMM_LEGACY = (*LEGACY_PARAMS, ("loss_reduction", "sum"))
"""CoMM runs stored before ``loss_reduction`` existed added their terms."""
CROSS_LOSSES = ("nt-xent", "clip")
VIEW_SOURCES = ("render", "augment")
PROBE_BATCH = 512  # pairs per forward pass when computing probe features (memory only)


# --- configs -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CrossConfig(ContrastiveConfig):
    """CLIP-style cross-modal InfoNCE at a fixed temperature of 0.1."""

    cnn_widths: str = param("16,32,64,128", "str",
                            "Channels of each conv block of the image CNNs, comma-separated (128 last "
                            "here: texture needs more channels than the other models' 64).")
    cnn_norm: str = param("batch", "str", "Normalisation of the image CNNs' conv blocks: batch (default "
                          "here: learns shape and texture several times faster at 32 px) or group.",
                          choices=CNN_NORMS, advanced=True)
    init_temperature: float = param(0.1, "float", "Softmax temperature τ (CoMM: 0.1).", min=0.01, max=1.0)
    learn_temperature: bool = param(False, "bool", "Learn the temperature (CoMM keeps it fixed).",
                                    advanced=True)
    max_shift: int = param(3, "int", "Augmentation: largest translation in pixels (0 = none).",
                           min=0, max=16, advanced=True)
    gray_prob: float = param(0.0, "float", "Augmentation: fraction of views turned grey (CoMM's code: "
                             "0.2). Not label-preserving for colour; 0 = off.", min=0.0, max=1.0,
                             advanced=True)
    views: str = param("render", "str", "Where an image's training views come from: render = new renders "
                       "of its shape, texture and colour in a fresh random pose every step (the data "
                       "layer draws them), augment = rotations, flips and shifts of the one stored image "
                       "(both views keep its size and texture phase). The augmentations apply on top of "
                       "renders too.", choices=VIEW_SOURCES, advanced=True)
    probes: bool = param(True, "bool", "Run the R/U/S linear probes at every evaluation.")
    probe_pairs: int = param(8192, "int", "Test pairs the probes read (the first N of the unbiased test "
                             "split, whatever the evaluation size): a probe fitted on more pairs reads "
                             "more of what the embedding holds.", min=64, max=100_000, advanced=True)


@dataclass(frozen=True)
class CrossSelfConfig(CrossConfig):
    """Cross + ½ (SimCLR of modality 1 + SimCLR of modality 2)."""

    self_weight: float = param(0.5, "float", "Weight of each modality's SimCLR term (paper: ½).",
                               min=0.0, max=10.0)
    head_hidden: int = param(256, "int", "Hidden width of the SimCLR projection heads.", min=8, max=4096,
                             advanced=True)
    cross_loss: str = param("nt-xent", "str", "The cross-modal term: nt-xent (CoMM's CrossSelfLoss: SimCLR's "
                            "loss between the two modalities, each row's negatives from both) or clip "
                            "(CLIP's two-way InfoNCE, negatives from the other modality only; mmviz before).",
                            choices=CROSS_LOSSES, advanced=True)


@dataclass(frozen=True)
class CommConfig(CrossConfig):
    """CoMM: per-modality CNNs → tokens → transformer fusion → projection head."""

    fusion_width: int = param(128, "int", "Token width of the fusion transformer.", min=8, max=1024)
    fusion_layers: int = param(2, "int", "Transformer blocks of the fusion.", min=1, max=6)
    fusion_heads: int = param(4, "int", "Attention heads of the fusion.", min=1, max=16, advanced=True)
    token_grid: int = param(2, "int", "Tokens per modality: the CNN feature map average-pooled to a "
                            "grid × grid (0 = every cell of the map).", min=0, max=16, advanced=True)
    head_hidden: int = param(256, "int", "Hidden width of the projection head.", min=8, max=4096,
                             advanced=True)
    modality_terms: bool = param(True, "bool",
                                 "Per-modality terms ½(L(Z_i′, Z″) + L(Z_i″, Z′)). Off: only the "
                                 "two-view term L(Z′, Z″) (the paper's ablation).")
    loss_reduction: str = param("mean", "str", "How the n + 1 loss terms combine: mean (CoMM's code) or "
                                "sum (mmviz before: 3× the loss and gradients with two modalities).",
                                choices=REDUCTIONS, advanced=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fusion_width % self.fusion_heads:
            raise ValueError(f"fusion_width {self.fusion_width} is not divisible by fusion_heads "
                             f"{self.fusion_heads}")


# --- shared parts ------------------------------------------------------------------------------

@torch.no_grad()
def batched_features(model: nn.Module, fn: Callable[..., Tensor], inputs: Sequence[Tensor],
                     device: torch.device | str = "cpu") -> np.ndarray:
    """``fn`` on consecutive batches of :data:`PROBE_BATCH` rows of every input (moved to
    ``device``), with ``model`` in eval mode: (N, F) float64 array."""
    was = model.training
    model.eval()
    try:
        out = [fn(*(x[i:i + PROBE_BATCH].to(device) for x in inputs)).float().cpu()
               for i in range(0, len(inputs[0]), PROBE_BATCH)]
    finally:
        model.train(was)
    return torch.cat(out).double().numpy()


def mlp_head(width: int, hidden: int, out: int) -> nn.Sequential:
    """Projection head: Linear → LayerNorm → ReLU → Linear."""
    return nn.Sequential(nn.Linear(width, hidden), nn.LayerNorm(hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, out))


class _PairsModel(Clip):
    """CLIP's sphere and cosine logits, plus augmentations in training and R/U/S probes at evaluation."""

    config: CrossConfig

    def __init__(self, inputs: tuple[ModalitySpec, ModalitySpec], config: CrossConfig) -> None:
        if any(spec.kind != "image" for spec in inputs):
            raise ValueError("cross, cross-self and comm need two image modalities (trifeature-pairs)")
        super().__init__(inputs, config)

    VIEWS_PER_IMAGE = 1
    """Views of each image a training step uses."""

    @property
    def rendered_views(self) -> int:
        """Fresh renders per image the training loop should hand :meth:`forward` (0: none, the
        model augments the stored image): a batch modality is then (B, V, C, H, W)."""
        return self.VIEWS_PER_IMAGE if self.config.views == "render" else 0

    def view(self, x: Tensor, k: int) -> Tensor:
        """View ``k`` of each image, augmented (training only; identity in eval).

        x: (B, C, H, W) stored images, or (B, V, C, H, W) fresh renders (view ``k`` mod V is
        taken). Returns (B, C, H, W)."""
        if x.dim() == 5:
            x = x[:, k % x.shape[1]]
        return augment(x, self.config.max_shift, gray_prob=self.config.gray_prob) if self.training else x

    def probe_pairs(self, a: Tensor, b: Tensor) -> Tensor:
        """The representation the probes read, for one batch of pairs: (B, F) float32."""
        raise NotImplementedError

    def probe_features(self, a: Tensor, b: Tensor, device: torch.device | str = "cpu") -> np.ndarray:
        """Probe representation of every pair, in batches, in eval mode: (N, F) float64 array."""
        return batched_features(self, self.probe_pairs, (a, b), device)

    def extra_eval(self, ev: Any, za: Tensor, zb: Tensor, device: torch.device) -> dict[str, float]:
        """``probe_R``, ``probe_U1``, ``probe_U2``, ``probe_S`` (fractions) and ``probe_seconds``."""
        data = ev.test if ev.test is not None else ev.data
        if not self.config.probes or "synergy" not in data.metadata:
            return {}
        start = time.perf_counter()
        data = data.subset(np.arange(min(self.config.probe_pairs, len(data))))
        a, b = (data.modalities[m] for m in data.pair)
        feats = self.probe_features(torch.as_tensor(a), torch.as_tensor(b), device)
        out = {f"probe_{k}": v for k, v in rus_probes(feats, data.metadata).items()}
        out["probe_seconds"] = time.perf_counter() - start
        return out


# --- the baselines -----------------------------------------------------------------------------

class Cross(_PairsModel):
    """CLIP-style: each modality's CNN → projection → sphere; symmetric InfoNCE across modalities."""

    def trunk(self, x: Tensor, side: int) -> Tensor:
        """Pooled CNN features of modality ``side``: (B, C, H, W) → (B, width)."""
        return self.encoders[side][0](x)

    def probe_pairs(self, a: Tensor, b: Tensor) -> Tensor:
        return torch.cat([self.trunk(a, 0), self.trunk(b, 1)], dim=1)

    def forward(self, a: Tensor, b: Tensor) -> dict[str, Tensor]:
        return super().forward(self.view(a, 0), self.view(b, 0))


class CrossSelf(Cross):
    """Cross term + ½ of each modality's SimCLR term between two augmentations (own MLP heads).

    One CNN pass per modality on both augmentations at once (2B images); the cross term uses
    the first augmentation of each: NT-Xent between the modalities by default (each of the 2B
    rows has 2B − 2 negatives, from both modalities), CLIP's InfoNCE with ``cross_loss="clip"``
    (B − 1 negatives, from the other modality).
    """

    config: CrossSelfConfig
    VIEWS_PER_IMAGE = 2

    def __init__(self, inputs: tuple[ModalitySpec, ModalitySpec], config: CrossSelfConfig) -> None:
        super().__init__(inputs, config)
        self.self_heads = nn.ModuleList(
            mlp_head(self.encoders[side][0].width, config.head_hidden, config.dim) for side in range(2))

    def forward(self, a: Tensor, b: Tensor) -> dict[str, Tensor]:
        n = len(a)
        h = [self.trunk(torch.cat([self.view(x, 0), self.view(x, 1)]), side) for side, x in enumerate((a, b))]
        with torch.autocast(h[0].device.type, enabled=False):
            h = [t.float() for t in h]
            za, zb = (self.project(self.encoders[side][1](h[side][:n]), side) for side in range(2))
            scale = self.scale()
            if self.config.cross_loss == "clip":
                cross = symmetric_info_nce(scale * self.similarity(za, zb), scale * self.similarity(zb, za))
            else:
                cross = nt_xent(za, zb, scale)
            selfs = [nt_xent(*self.self_heads[side](h[side]).split(n), scale) for side in range(2)]
            w = self.config.self_weight
            loss = cross + w * (selfs[0] + selfs[1])
        return {"loss": loss, "contrastive": cross, "self_1": selfs[0], "self_2": selfs[1]}


# --- CoMM --------------------------------------------------------------------------------------

class Comm(_PairsModel):
    """CoMM: per-modality CNN feature maps → tokens → [CLS] + tokens → transformer → head.

    A modality's tokens are the cells of its CNN feature map pooled to ``token_grid`` ×
    ``token_grid``, linearly mapped to the fusion width, plus a learned position embedding per
    modality and cell. A masked view of
    modality i feeds the transformer [CLS] + modality i's tokens *only*: the other modality's
    tokens are not in the sequence, so nothing of it can reach the output.
    """

    config: CommConfig
    VIEWS_PER_IMAGE = 2

    def __init__(self, inputs: tuple[ModalitySpec, ModalitySpec], config: CommConfig) -> None:
        super().__init__(inputs, config)
        widths = parse_widths(config.cnn_widths)
        # CoMM needs feature maps, not pooled features: replace the base class's encoders
        self.encoders = nn.ModuleList(ConvEncoder(spec.shape[0], spec.shape[1], widths, norm=config.cnn_norm)
                                      for spec in inputs)
        cells = [self._cells(spec) for spec in inputs]
        d = config.fusion_width
        self.to_tokens = nn.ModuleList(nn.Linear(enc.width, d) for enc in self.encoders)
        self.positions = nn.ParameterList(nn.Parameter(0.02 * torch.randn(n, d)) for n in cells)
        self.cls = nn.Parameter(0.02 * torch.randn(1, 1, d))
        layer = nn.TransformerEncoderLayer(d, config.fusion_heads, 2 * d, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.fusion = nn.TransformerEncoder(layer, config.fusion_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = mlp_head(d, config.head_hidden, config.dim)

    @torch.no_grad()
    def _cells(self, spec: ModalitySpec) -> int:
        """Cells of a modality's CNN feature map (tokens per modality)."""
        widths = parse_widths(self.config.cnn_widths)
        probe = ConvEncoder(spec.shape[0], spec.shape[1], widths)
        fmap = self._pool(probe.features(torch.zeros(1, *spec.shape)))
        return int(fmap.shape[2] * fmap.shape[3])

    def _pool(self, fmap: Tensor) -> Tensor:
        """Feature map (B, C, h, w) → (B, C, g, g) average-pooled (unchanged if g = 0 or ≥ h).

        Fewer tokens make the fusion ~4× cheaper (2 × 2 instead of 4 × 4 at 32 px), which keeps
        a CoMM step near 3 Cross steps (3.0 at the defaults, README *CoMM*); each token still sees
        a quarter of the image."""
        g = self.config.token_grid
        if g <= 0 or g >= min(fmap.shape[2:]):
            return fmap
        return nn.functional.adaptive_avg_pool2d(fmap, g)

    def tokens(self, x: Tensor, side: int) -> Tensor:
        """Images of modality ``side`` (B, C, H, W) uint8 → tokens (B, T, fusion_width), T = g²."""
        enc = self.encoders[side]
        pixels = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        fmap = self._pool(enc.features(pixels - 0.5))  # (B, C, g, g)
        cells = fmap.flatten(2).transpose(1, 2)  # (B, h·w, C)
        return self.to_tokens[side](cells) + self.positions[side]

    def fuse(self, *tokens: Tensor) -> Tensor:
        """[CLS] + the given modalities' tokens → the fused [CLS] output (B, fusion_width)."""
        seq = torch.cat([self.cls.expand(len(tokens[0]), -1, -1), *tokens], dim=1)
        return self.norm(self.fusion(seq)[:, 0])

    def features(self, x: Tensor, side: int) -> Tensor:
        """Masked view of modality ``side`` alone, through fusion and head: (B, dim)."""
        return self.head(self.fuse(self.tokens(x, side)))

    def probe_pairs(self, a: Tensor, b: Tensor) -> Tensor:
        return self.fuse(self.tokens(a, 0), self.tokens(b, 1))

    def embed_pairs(self, a: Tensor, b: Tensor) -> Tensor:
        """Fused embedding of pairs on the sphere (both modalities): (B, dim)."""
        return self.project(self.head(self.probe_pairs(a, b)).float(), 0)

    def forward(self, a: Tensor, b: Tensor) -> dict[str, Tensor]:
        """CoMM's loss. Each modality's CNN runs once on both augmentations (2B images); the
        masked views reuse those tokens, so a step costs 2 CNN passes per modality (as
        cross-self) plus the fusion: 2B full sequences and, batched together, 2B masked
        sequences per modality."""
        n = len(a)
        ta = self.tokens(torch.cat([self.view(a, 0), self.view(a, 1)]), 0)  # (2B, T, d): X′ then X″
        tb = self.tokens(torch.cat([self.view(b, 0), self.view(b, 1)]), 1)
        full = self.head(self.fuse(ta, tb))
        masked1 = masked2 = None
        if self.config.modality_terms:
            if ta.shape[1] == tb.shape[1]:  # one fusion call for both modalities' masked views
                only = self.head(self.fuse(torch.cat([ta, tb]))).split(2 * n)
            else:
                only = (self.head(self.fuse(ta)), self.head(self.fuse(tb)))
            masked1 = [m[:n] for m in only]
            masked2 = [m[n:] for m in only]
        with torch.autocast(full.device.type, enabled=False):
            f = lambda t: t.float()  # noqa: E731
            out = comm_loss(f(full[:n]), f(full[n:]),
                            [f(m) for m in masked1] if masked1 else None,
                            [f(m) for m in masked2] if masked2 else None, self.scale(),
                            reduction=self.config.loss_reduction)
        out["contrastive"] = out["views"]
        return out


# --- registration ------------------------------------------------------------------------------

register_model(ModelInfo(
    "cross", "Cross (CLIP-style): InfoNCE between the two images' embeddings; keeps what they "
    "share (redundancy).", "sphere", CrossConfig, Cross, datasets=DATASETS,
    legacy_params=LEGACY_PARAMS))
register_model(ModelInfo(
    "cross-self", "Cross + Self: cross-modal InfoNCE plus ½ of each image's own SimCLR term "
    "(redundancy and uniqueness).", "sphere", CrossSelfConfig, CrossSelf, datasets=DATASETS,
    legacy_params=CROSS_SELF_LEGACY))
register_model(ModelInfo(
    "comm", "CoMM: fused multimodal embedding (CNN tokens → transformer), aligned across "
    "augmentations and with each modality's masked view (redundancy, uniqueness, synergy).",
    "sphere", CommConfig, Comm, datasets=DATASETS, legacy_params=COMM_LEGACY))
