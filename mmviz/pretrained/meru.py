"""The CLIP and MERU models released with facebookresearch/meru (Desai et al., ICML 2023), and
HyCoCLIP's (PalAvik/hycoclip), which keeps MERU's model and checkpoint layout.

A checkpoint is ``torch.save({"model": state_dict})`` of MERU's ``CLIPBaseline`` or ``MERU``
module (``meru/utils/checkpointing.py``). Its keys, as :class:`MeruNet` reproduces them:

- ``visual.*``: a timm ViT with a [CLS] token, ``global_pool="token"``, ``num_classes=0`` and
  ``nn.LayerNorm`` (eps 1e-5, not timm's 1e-6); ``visual.pos_embed`` is a fixed 2-D sin-cos
  table (MoCo-v3's), stored in the file. ViT-S is MoCo-v3's: width 384, depth 12, 12 heads.
- ``textual.*``: :class:`~mmviz.pretrained.meru_text.TextTransformer` (``L12_W512``: 12 layers,
  width 512, 8 heads; vocabulary 49408, context 77).
- ``visual_proj.weight``, ``textual_proj.weight``: (512, width), no bias.
- ``logit_scale`` (log 1/τ), ``pixel_mean``, ``pixel_std`` (ImageNet's, (3, 1, 1)); MERU adds
  ``curv`` (log c), ``visual_alpha`` and ``textual_alpha`` (log α).

MERU reads images in [0, 1] and normalises inside the model by ``pixel_mean``/``pixel_std``;
here that normalisation is the encoder's :class:`Preprocess`, read from those buffers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import timm
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmviz.errors import MmvizError
from mmviz.geometry import get_geometry
from mmviz.geometry.constants import DEFAULT_CONE_MIN_RADIUS
from mmviz.pretrained.base import Preprocess, PretrainedEncoder
from mmviz.pretrained.checkpoint import check_keys, check_shapes, read_state_dict
from mmviz.pretrained.meru_text import TextTransformer
from mmviz.pretrained.registry import spec_for

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LOGIT_SCALE_MAX = math.log(100.0)  # MERU clamps log(1/τ) at 4.6052 (1/τ ≤ 100)
EXP_MAP_LIMIT = math.asinh(2.0**15)  # MERU's exp_map0 clamps sqrt(c)|v| here
SOT_ID, EOT_ID = 49406, 49407
HYPERBOLIC_KEYS = ("curv", "visual_alpha", "textual_alpha")
CHECKPOINT_KEY = "model"


@dataclass(frozen=True)
class MeruArch:
    """One tower pair. vit: timm name; vit_kwargs: its overrides; text_*: the text transformer."""

    label: str
    vit: str
    image_size: int = 224
    vit_kwargs: dict = field(default_factory=dict)
    text_layers: int = 12
    text_width: int = 512
    text_heads: int = 8
    embed_dim: int = 512
    vocab_size: int = 49408
    context_length: int = 77


ARCHS = {
    # MoCo-v3's ViT-S: timm's vit_small_patch16_224 with 12 heads instead of 6.
    "vit-s": MeruArch("ViT-S/16", "vit_small_patch16_224", vit_kwargs={"num_heads": 12}),
    "vit-b": MeruArch("ViT-B/16", "vit_base_patch16_224"),
    "vit-l": MeruArch("ViT-L/16", "vit_large_patch16_224"),
    "tiny": MeruArch("tiny", "vit_small_patch16_224", image_size=64,
                     vit_kwargs={"img_size": 64, "embed_dim": 64, "depth": 2, "num_heads": 2},
                     text_layers=2, text_width=64, text_heads=2, embed_dim=32),
}
# Name prefix → (hyperbolic, display name).
KINDS = {"meru": (True, "MERU"), "clip": (False, "CLIP"), "hycoclip": (True, "HyCoCLIP")}


def parse_name(name: str) -> tuple[str, bool, MeruArch]:
    """``meru-vit-s`` → ("meru", hyperbolic, architecture)."""
    kind, _, size = name.partition("-")
    if kind not in KINDS or size not in ARCHS:
        raise MmvizError(f"{name!r} is not a MERU-family name (KIND-SIZE, KIND in {sorted(KINDS)}, "
                         f"SIZE in {sorted(ARCHS)})")
    return kind, KINDS[kind][0], ARCHS[size]


def sincos_pos_embed(grid: int, width: int) -> Tensor:
    """MoCo-v3's fixed 2-D sin-cos table for a grid × grid ViT with a [CLS] token: (1, 1 + grid², width).

    Patch p = (row, col) in row-major order gets [sin(row ω), cos(row ω), sin(col ω), cos(col ω)],
    ω_k = 10000^(-k / (width/4)); the [CLS] row is zero.
    """
    if width % 4:
        raise MmvizError(f"a sin-cos position embedding needs a width divisible by 4, got {width}")
    quarter = width // 4
    omega = 10000.0 ** -(torch.arange(quarter, dtype=torch.float32) / quarter)
    rows, cols = torch.meshgrid(torch.arange(grid, dtype=torch.float32), torch.arange(grid, dtype=torch.float32),
                                indexing="ij")
    r = rows.flatten()[:, None] * omega
    c = cols.flatten()[:, None] * omega
    table = torch.cat([r.sin(), r.cos(), c.sin(), c.cos()], dim=1)
    return torch.cat([torch.zeros(1, width), table])[None]


def build_vit(arch: MeruArch) -> nn.Module:
    """timm ViT as MERU builds it: pixels (B, 3, S, S) → [CLS] features (B, width)."""
    vit = timm.create_model(arch.vit, pretrained=False, num_classes=0, global_pool="token", class_token=True,
                            norm_layer=nn.LayerNorm, **arch.vit_kwargs)
    grid_h, grid_w = vit.patch_embed.grid_size
    if grid_h != grid_w:
        raise MmvizError(f"{arch.label}: MERU's position table needs a square patch grid")
    with torch.no_grad():
        vit.pos_embed.copy_(sincos_pos_embed(grid_h, vit.embed_dim))
    vit.pos_embed.requires_grad_(False)
    return vit


class MeruNet(nn.Module):
    """MERU's ``CLIPBaseline`` (hyperbolic=False) or ``MERU`` module: same parameter names,
    shapes and state-dict order, so its state dict is a checkpoint's ``"model"`` entry."""

    def __init__(self, arch: MeruArch, hyperbolic: bool) -> None:
        super().__init__()
        self.visual = build_vit(arch)
        self.textual = TextTransformer(arch.text_layers, arch.text_width, arch.text_heads, arch.vocab_size,
                                       arch.context_length)
        vit_width = self.visual.embed_dim
        self.visual_proj = nn.Linear(vit_width, arch.embed_dim, bias=False)
        self.textual_proj = nn.Linear(arch.text_width, arch.embed_dim, bias=False)
        nn.init.normal_(self.visual_proj.weight, std=vit_width**-0.5)
        nn.init.normal_(self.textual_proj.weight, std=arch.text_width**-0.5)
        self.logit_scale = nn.Parameter(torch.tensor(1 / 0.07).log())
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(3, 1, 1))
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(3, 1, 1))
        self.hyperbolic = hyperbolic
        if hyperbolic:
            self.curv = nn.Parameter(torch.tensor(0.0))  # log c, c = 1 at initialisation
            self.visual_alpha = nn.Parameter(torch.tensor(arch.embed_dim**-0.5).log())
            self.textual_alpha = nn.Parameter(torch.tensor(arch.embed_dim**-0.5).log())


def random_net(name: str, seed: int = 0) -> MeruNet:
    """MeruNet of ``name`` with initial weights drawn from ``seed`` (the global RNG is left
    untouched). A MERU's curvature is drawn log-uniformly in [0.5, 2] so that code which
    assumes c = 1 shows."""
    _, hyperbolic, arch = parse_name(name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = MeruNet(arch, hyperbolic)
        if hyperbolic:
            with torch.no_grad():
                net.curv.uniform_(math.log(0.5), math.log(2.0))
    return net


@lru_cache(maxsize=1)
def _tokenizer():
    # Imported here for start-up cost (open_clip takes seconds), only when text is tokenized.
    # open_clip ships CLIP's BPE vocabulary, byte-identical to MERU's bpe_simple_vocab_16e6.txt.gz,
    # with MERU's cleaning (ftfy, HTML unescape twice, whitespace, lower case) and truncation.
    from open_clip.tokenizer import SimpleTokenizer

    return SimpleTokenizer(context_length=77)


def tokenize(texts: Sequence[str], context_length: int = 77) -> Tensor:
    """MERU's token ids: [SOT, BPE…, EOT], right-padded with 0 to (B, context_length) int64;
    a longer caption is cut to context_length with EOT kept last."""
    texts = [texts] if isinstance(texts, str) else list(texts)
    return _tokenizer()(texts, context_length=context_length).long()


class MeruEncoder(PretrainedEncoder):
    """A MERU-family model: CLIP (sphere, unit vectors (B, 512)) or MERU/HyCoCLIP (Lorentz,
    points (B, 513) with the time coordinate first, curvature exp(curv))."""

    family = "meru"

    def __init__(self, name: str, net: MeruNet) -> None:
        super().__init__()
        _, hyperbolic, arch = parse_name(name)
        self.name = name
        self.arch = arch
        self.net = net
        self.geometry = "lorentz" if hyperbolic else "sphere"
        self.cone_min_radius = DEFAULT_CONE_MIN_RADIUS  # MERU's K: half_aperture(min_radius=0.1)
        self.sync_preprocess()

    def sync_preprocess(self) -> None:
        """Set :attr:`preprocess` from the net's image size and its pixel_mean/pixel_std buffers."""
        def triple(t: Tensor) -> tuple[float, float, float]:
            # float32's shortest decimal (0.485, not 0.48500001430511475), so cache keys read well.
            return tuple(float(str(v)) for v in t.detach().float().flatten().numpy())

        self.preprocess = Preprocess(self.arch.image_size, triple(self.net.pixel_mean), triple(self.net.pixel_std),
                                     "bicubic")

    @property
    def curvature(self) -> float:
        return float(self.net.curv.detach().exp()) if self.net.hyperbolic else 1.0

    @property
    def logit_scale(self) -> float:
        return float(self.net.logit_scale.detach().clamp(max=LOGIT_SCALE_MAX).exp())

    def tokenize(self, texts: Sequence[str]) -> Tensor:
        return tokenize(texts, self.arch.context_length)

    def encode_image(self, pixels: Tensor) -> Tensor:
        """Preprocessed pixels (B, 3, S, S) → (B, D) unit vectors or (B, D + 1) Lorentz points."""
        features = self.net.visual_proj(self.net.visual(pixels))
        return self._lift(features, self.net.visual_alpha if self.net.hyperbolic else None)

    def encode_text(self, tokens: Tensor) -> Tensor:
        """Token ids (B, L) → as :meth:`encode_image`. The feature read is the one at the
        end-of-text token, found as the largest id (EOT = 49407 is the vocabulary's last)."""
        tokens = tokens.long()
        states = self.net.textual(tokens)
        eot = states[torch.arange(len(tokens), device=tokens.device), tokens.argmax(dim=-1)]
        features = self.net.textual_proj(eot)
        return self._lift(features, self.net.textual_alpha if self.net.hyperbolic else None)

    def _lift(self, features: Tensor, log_alpha: Tensor | None) -> Tensor:
        features = features.float()
        if log_alpha is None:
            return F.normalize(features, dim=-1)
        curvature = self.curvature
        v = features * log_alpha.exp()
        # MERU's exp_map0 stops at sqrt(c)|v| = asinh(2^15): beyond it only the direction counts.
        reach = math.sqrt(curvature) * v.norm(dim=-1, keepdim=True)
        v = v * (EXP_MAP_LIMIT / reach.clamp_min(EXP_MAP_LIMIT))
        return get_geometry("lorentz", curvature).expmap0(v)


def _describe(name: str) -> str:
    kind, _, arch = parse_name(name)
    return f"{KINDS[kind][1]} {arch.label} ({name})"


def _twin(name: str, hyperbolic: bool) -> str:
    """The same architecture in the other geometry: meru-vit-s ↔ clip-vit-s."""
    size = name.partition("-")[2]
    return f"meru-{size}" if not hyperbolic else f"clip-{size}"


def load_meru(name: str, weights: Path | None, tag: str | None = None) -> MeruEncoder:
    """Build ``name`` (``meru-vit-s``, ``clip-vit-b``, ``hycoclip-vit-s``, ``meru-tiny``…) on the
    CPU with the checkpoint ``weights``; without weights only ``*-tiny`` loads (seed 0)."""
    _, hyperbolic, arch = parse_name(name)
    if tag:
        raise MmvizError(f"{name} takes a local checkpoint file, not a tag ({tag!r}); tags are open_clip's")
    if weights is None:
        if arch is not ARCHS["tiny"]:
            raise MmvizError(f"{name} needs its checkpoint: download {spec_for(name).download} and pass the file "
                             f"as weights")
        return MeruEncoder(name, random_net(name, seed=0))

    state = read_state_dict(weights)
    net = MeruNet(arch, hyperbolic)
    expected = net.state_dict()
    if set(state) ^ set(expected) == set(HYPERBOLIC_KEYS):  # a CLIP file for a MERU, or the reverse
        twin = _twin(name, hyperbolic)
        raise MmvizError(f"{weights}: this is a {_describe(twin)} checkpoint, not {name}; load it as {twin}")
    check_keys(state, expected, _describe(name), str(weights))
    check_shapes(state, expected, _describe(name), str(weights))
    net.load_state_dict(state, strict=True)
    return MeruEncoder(name, net)


def write_random_checkpoint(name: str, path: Path, seed: int = 0) -> Path:
    """Write random weights for ``name`` as MERU saves a checkpoint: ``{"model": state_dict}``
    with the released key names, shapes and dtypes. ``load_meru(name, path)`` reads it back."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({CHECKPOINT_KEY: random_net(name, seed).state_dict()}, path)
    return path
