"""What every pretrained image–text encoder offers, whatever its family.

An encoder maps pixels (B, 3, H, W), already preprocessed, and token ids (B, L) to points in
its own geometry: ``sphere`` (CLIP: unit vectors, similarity = cosine / temperature) or
``lorentz`` (MERU: points on the hyperboloid of curvature -c, time coordinate first, so
shape (B, D + 1)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

# CLIP's (and MERU's) image normalisation.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class Preprocess:
    """How a PIL image becomes the (3, size, size) tensor the encoder reads.

    Resize the shorter side to ``size`` (bicubic), centre-crop ``size`` × ``size``, scale to
    [0, 1], normalise by ``mean`` / ``std``. ``key`` names it inside cache keys.
    """

    size: int = 224
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD
    interpolation: str = "bicubic"

    @property
    def key(self) -> str:
        return f"{self.size}-{self.interpolation}-{self.mean}-{self.std}"


class PretrainedEncoder(nn.Module):
    """A loaded image–text model. Subclasses set the fields and the three methods.

    name: the registry name (``meru-vit-s``, ``open_clip:ViT-B-32``).
    geometry: ``sphere`` or ``lorentz``; curvature: c (1.0 for the sphere).
    logit_scale: 1 / temperature as the model learned it (exp of its log scale).
    cone_min_radius: the entailment-cone constant K of a hyperbolic model.
    """

    name: str = ""
    family: str = ""
    geometry: str = "sphere"
    preprocess: Preprocess = Preprocess()
    cone_min_radius: float = 0.1

    @property
    def curvature(self) -> float:
        return 1.0

    @property
    def logit_scale(self) -> float:
        raise NotImplementedError

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Token ids (B, L) int64 for the text tower."""
        raise NotImplementedError

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixels (B, 3, H, W) → points (B, D) (sphere) or (B, D + 1) (lorentz)."""
        raise NotImplementedError

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token ids (B, L) → points, as :meth:`encode_image`."""
        raise NotImplementedError
