"""What every contrastive model shares: two encoders, a learnable logit scale, symmetric
InfoNCE over the (optionally gathered) batch, and embeddings tagged with their geometry."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from mmviz.geometry import Geometry
from mmviz.losses import symmetric_info_nce
from mmviz.models.config import ContrastiveConfig, parse_widths
from mmviz.models.encoders import EncoderSizes, ModalitySpec, build_encoder

Gather = Callable[[Tensor], "tuple[Tensor, int]"]
"""Local (B, D) → (global (N, D), offset of the local rows); set by data-parallel training."""


class ContrastiveModel(nn.Module, ABC):
    """Two modality encoders whose outputs are put into one geometry.

    ``inputs`` describes the two modalities in pair order (side 0, side 1). Subclasses define
    :meth:`project` (Euclidean features → points), :meth:`similarity` and, optionally,
    :meth:`extra_losses`. ``gather`` is ``None`` on one process; under data parallelism it
    all-gathers embeddings (with gradients) so the loss sees the global batch.
    """

    geometry_name: str = "sphere"

    def __init__(self, inputs: tuple[ModalitySpec, ModalitySpec], config: ContrastiveConfig) -> None:
        super().__init__()
        self.inputs = inputs
        self.config = config
        sizes = EncoderSizes(parse_widths(config.cnn_widths), config.mlp_hidden, config.mlp_depth,
                             config.text_width, config.text_layers, config.cnn_norm)
        self.encoders = nn.ModuleList(build_encoder(spec, sizes, config.dim) for spec in inputs)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / config.init_temperature)),
                                        requires_grad=config.learn_temperature)
        self.gather: Gather | None = None

    # --- embedding ---------------------------------------------------------------------------

    def features(self, x: Tensor, side: int) -> Tensor:
        """Raw Euclidean encoder output of modality ``side``: batch → (B, dim)."""
        return self.encoders[side](x)

    @abstractmethod
    def project(self, features: Tensor, side: int) -> Tensor:
        """Features (B, dim) float32 → points of :meth:`geometry`, (B, ambient dim)."""

    def embed(self, x: Tensor, side: int) -> Tensor:
        """A batch of modality ``side`` → its points, float32 (B, ambient dim)."""
        feats = self.features(x, side)
        with torch.autocast(feats.device.type, enabled=False):
            return self.project(feats.float(), side)

    @abstractmethod
    def geometry(self) -> Geometry:
        """The geometry the embeddings live in (with the current curvature)."""

    @abstractmethod
    def similarity(self, za: Tensor, zb: Tensor) -> Tensor:
        """Unscaled logits between points: (B1, E), (B2, E) → (B1, B2); larger = closer."""

    # --- scalars -----------------------------------------------------------------------------

    def scale(self) -> Tensor:
        """Logit scale 1/τ, at most ``max_logit_scale`` (a 0-d Tensor)."""
        # CLIP's cap (100): larger scales make the softmax one-hot and training unstable.
        return self.logit_scale.clamp(max=math.log(self.config.max_logit_scale)).exp()

    def curvature(self) -> float:
        """c of the embedding space (1.0 for the sphere)."""
        return 1.0

    @torch.no_grad()
    def constrain_(self) -> None:
        """Clamp learnable scalars into their ranges in place (call after each optimiser step)."""
        self.logit_scale.clamp_(max=math.log(self.config.max_logit_scale))

    @torch.no_grad()
    def scalars(self) -> dict[str, float]:
        """Learned scalars for logging: temperature, logit scale, curvature."""
        scale = float(self.scale())
        # A diverging run can drive the scale to exactly 0 (exp underflow); report τ = inf so the
        # loop's NaN/Inf check fails the run with its readable message, not a ZeroDivisionError.
        temperature = 1.0 / scale if scale > 0 else math.inf
        return {"temperature": temperature, "logit_scale": scale, "curvature": self.curvature()}

    def see_training_data(self, inputs: list[Tensor]) -> None:
        """Called once by the training loop after the model is built, with the whole training
        split (one (N, ...) tensor per modality, on the training device): for models whose
        statistics come from the data (the Gaussian lab's means and covariances). Default: none."""

    def extra_eval(self, ev: Any, za: Tensor, zb: Tensor, device: torch.device) -> dict[str, float]:
        """Model-specific held-out metrics (names without ``eval/``), merged into
        :func:`mmviz.runs.evaluate.evaluate`'s. ``ev``: the :class:`EvalSet`; za, zb: its
        embedded pairs (N, E) on the CPU. Default: none."""
        return {}

    # --- loss --------------------------------------------------------------------------------

    def extra_losses(self, za: Tensor, zb: Tensor) -> dict[str, tuple[float, Tensor]]:
        """Other loss terms on the local pairs: name → (weight, scalar Tensor)."""
        return {}

    def scaled_logits(self, za: Tensor, zb: Tensor, gather: Gather | None = None) -> tuple[Tensor, Tensor, int]:
        """Each side's local rows scored against the other side (all of it under data parallelism),
        times 1/τ: (B, N) for a, (B, N) for b, and the offset of the local rows among the N."""
        if gather is None:
            all_a, all_b, offset = za, zb, 0
        else:
            all_a, offset = gather(za)
            all_b, _ = gather(zb)
        scale = self.scale()
        return scale * self.similarity(za, all_b), scale * self.similarity(zb, all_a), offset

    def loss(self, za: Tensor, zb: Tensor, gather: Gather | None = None) -> dict[str, Tensor]:
        """Loss of paired points za, zb (B, E): ``{"loss", "contrastive", <extra terms>}``.

        With ``gather`` each side's local rows are scored against the gathered other side,
        so the loss (averaged over processes) and its gradient are those of the global batch.
        """
        logits_a, logits_b, offset = self.scaled_logits(za, zb, gather)
        contrastive = symmetric_info_nce(logits_a, logits_b, offset)
        out = {"contrastive": contrastive}
        total = contrastive
        for name, (weight, value) in self.extra_losses(za, zb).items():
            out[name] = value
            if weight > 0:
                total = total + weight * value
        out["loss"] = total
        return out

    def forward(self, a: Tensor, b: Tensor) -> dict[str, Tensor]:
        """Training step's loss for a batch of pairs (a of side 0, b of side 1)."""
        fa, fb = self.features(a, 0), self.features(b, 1)
        # Geometry and loss in float32 even under mixed precision: distances and arcosh
        # lose all accuracy in half precision.
        with torch.autocast(fa.device.type, enabled=False):
            za, zb = self.project(fa.float(), 0), self.project(fb.float(), 1)
            return self.loss(za, zb, self.gather)
