"""MERU's text tower: a causal pre-LN transformer over CLIP's BPE tokens.

Parameter names are those of ``textual.*`` in MERU's checkpoints (facebookresearch/meru,
``meru/encoders/text_encoders.py``): ``token_embed``, ``posit_embed``, ``resblocks.{i}.{ln_1,
attn, ln_2, mlp.c_fc, mlp.c_proj}``, ``ln_final``, and the causal mask, which MERU stores as a
buffer ``attn_mask``.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn


class TextBlock(nn.Module):
    """x + attn(ln_1(x)), then + mlp(ln_2(x)); MLP width 4 × width, exact GELU."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        # Registration order follows MERU's, so state-dict keys come out in the same order.
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, 4 * width)),
            ("gelu", nn.GELU()),
            ("c_proj", nn.Linear(4 * width, width)),
        ]))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """x: (B, L, W), mask: (L, L) bool, True where attention is forbidden → (B, L, W)."""
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class TextTransformer(nn.Module):
    """Token ids (B, L), L ≤ context_length, right-padded with 0 → features (B, L, width).

    Every position attends only to itself and the positions before it, so right padding never
    changes the feature at the end-of-text token, which is the one the model reads.
    """

    def __init__(self, layers: int, width: int, heads: int, vocab_size: int = 49408,
                 context_length: int = 77) -> None:
        super().__init__()
        self.width = width
        self.context_length = context_length
        self.token_embed = nn.Embedding(vocab_size, width)
        self.posit_embed = nn.Parameter(torch.empty(context_length, width))
        self.resblocks = nn.ModuleList(TextBlock(width, heads) for _ in range(layers))
        self.ln_final = nn.LayerNorm(width)
        self.register_buffer("attn_mask", torch.ones(context_length, context_length, dtype=torch.bool).triu(1))
        self._init_like_meru(layers)

    @torch.no_grad()
    def _init_like_meru(self, layers: int) -> None:
        # CLIP's initialisation, as MERU uses it (only matters for random checkpoints).
        nn.init.normal_(self.token_embed.weight, std=0.02)
        nn.init.normal_(self.posit_embed, std=0.01)
        out_std = (2 * self.width * layers) ** -0.5
        for block in self.resblocks:
            nn.init.normal_(block.attn.in_proj_weight, std=self.width ** -0.5)
            nn.init.normal_(block.attn.out_proj.weight, std=out_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=(2 * self.width) ** -0.5)
            nn.init.normal_(block.mlp.c_proj.weight, std=out_std)

    def forward(self, tokens: Tensor) -> Tensor:
        length = tokens.shape[-1]
        x = self.token_embed(tokens) + self.posit_embed[:length]
        mask = self.attn_mask[:length, :length]
        for block in self.resblocks:
            x = block(x, mask)
        return self.ln_final(x)
