"""Label-preserving augmentations of Trifeature images (CoMM's views X′, X″).

They apply on top of the views' source: fresh renders of each image in a new pose (the
default, ``views=render``: the data layer's ``render_pair_views``) or the one stored image.

Every (shape, texture, colour) label of an image must survive the augmentation, because the
probes ask the embeddings for exactly those labels:

* **90° rotations and horizontal flips.** Shapes are drawn at a uniformly random rotation and
  all ten are mirror-symmetric, so a rotated or mirrored shape is another valid render of the
  same shape. Textures are drawn in the shape's own (rotated) frame, so they turn with it and
  stay the same texture. Pixel values are not touched: the colour is exact.
* **Translation by up to ``max_shift`` px** (grey background shifted in): position is random in
  the data anyway; at 32 px a 3 px shift may clip a sliver of a shape near the border, never
  enough to change what it is.

Left out on purpose, unlike SimCLR's (and CoMM's reference) defaults: colour jitter and
grayscale (colour of image 2 is half of the synergy label, and a hue shift turns orange into
red or cyan into ocean), and blur or resized crops (textures have a period of ~5 px at 32 px;
blurring erases them and rescaling changes their period, which is what tells some apart).
"""

from __future__ import annotations

import torch
from torch import Tensor

from mmviz.data.trifeature import BACKGROUND


def augment(images: Tensor, max_shift: int = 3, generator: torch.Generator | None = None,
            gray_prob: float = 0.0) -> Tensor:
    """A random label-preserving view of each image: (B, C, H, W) uint8 → same shape and dtype.

    Each image independently gets a rotation by k·90° (k uniform in 0..3), a horizontal flip
    with probability ½ and a translation by (dy, dx) uniform in [−max_shift, max_shift].
    ``gray_prob`` > 0 also turns that fraction of views to grey (CoMM's reference uses 0.2):
    *not* label-preserving for colour, so off by default; it stops colour from being the one
    cheap feature that tells pairs apart (an option for experiments). Measured on CoMM at 32 px
    (README, *CoMM*): half the views grey raises the shape probe R (55% instead of 36% after
    ~500 steps) but holds the synergy probe S near chance (53% instead of 61%), since S needs
    the colour of image 2.
    """
    b, _, h, w = images.shape
    dev = images.device

    def draw(high: int, size: tuple[int, ...]) -> Tensor:
        return torch.randint(0, high, size, generator=generator).to(dev)

    k, flip = draw(4, (b,)), draw(2, (b,)).bool()
    out = torch.where(flip[:, None, None, None], images.flip(3), images)
    if h == w:
        rotated = out.clone()
        for turns in range(1, 4):
            idx = (k == turns).nonzero().flatten()
            if len(idx):
                rotated[idx] = torch.rot90(out[idx], turns, (2, 3))
        out = rotated
    if gray_prob > 0:
        gray = torch.rand(b, generator=generator).to(dev) < gray_prob
        luma = (0.299 * out[:, 0] + 0.587 * out[:, 1] + 0.114 * out[:, 2]).round().to(out.dtype)
        out = torch.where(gray[:, None, None, None], luma[:, None].expand_as(out), out)
    if max_shift > 0:
        s = max_shift
        padded = torch.nn.functional.pad(out, (s, s, s, s), value=BACKGROUND)
        dy, dx = draw(2 * s + 1, (b,)), draw(2 * s + 1, (b,))
        rows = (dy[:, None] + torch.arange(h, device=dev))[:, :, None]  # (B, H, 1)
        cols = (dx[:, None] + torch.arange(w, device=dev))[:, None, :]  # (B, 1, W)
        batch = torch.arange(b, device=dev)[:, None, None]
        out = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()
    return out
