"""The pretrained models mmviz can load, by name, and :func:`load_pretrained`.

Names:

- ``open_clip:ARCH`` — any architecture open_clip knows (``open_clip:ViT-B-32``), with
  weights from a local file (``weights=``) or, online, one of open_clip's named pretrained
  tags (``tag=``), which open_clip downloads into its own cache.
- ``meru-vit-s|b|l`` and ``clip-vit-s|b|l`` — the checkpoints released with
  facebookresearch/meru (weights from a local file the user downloaded).
- ``hycoclip-vit-s|b`` — HyCoCLIP (PalAvik/hycoclip), MERU's model and checkpoint layout
  trained with box-level entailment; loaded by the same code as ``meru-vit-*``.
- ``*-tiny`` — the same code with a tiny architecture, for tests and demos on random weights.

Families are imported by name on first use, so listing names costs no torch import.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from mmviz.errors import MmvizError

OPEN_CLIP_PREFIX = "open_clip:"


@dataclass(frozen=True)
class PretrainedSpec:
    """One loadable model. loader: ``"module:function"`` taking ``(name, weights, tag)``."""

    name: str
    family: str
    description: str
    loader: str
    download: str = ""  # where a user gets the weights


MERU_DOWNLOAD = "https://dl.fbaipublicfiles.com/meru/{stem}.pth (see github.com/facebookresearch/meru)"

_SPECS: dict[str, PretrainedSpec] = {}


def register_pretrained(spec: PretrainedSpec) -> None:
    _SPECS[spec.name] = spec


for _size, _label in (("s", "ViT-S/16"), ("b", "ViT-B/16"), ("l", "ViT-L/16")):
    for _kind, _what in (("meru", "MERU (hyperbolic, Lorentz model)"), ("clip", "CLIP baseline")):
        register_pretrained(PretrainedSpec(
            name=f"{_kind}-vit-{_size}",
            family="meru",
            description=f"{_what} {_label} released with facebookresearch/meru",
            loader="mmviz.pretrained.meru:load_meru",
            download=MERU_DOWNLOAD.format(stem=f"{_kind}_vit_{_size}"),
        ))
HYCOCLIP_DOWNLOAD = ("https://huggingface.co/avik-pal/hycoclip/resolve/main/{stem}.pth "
                     "(see github.com/PalAvik/hycoclip, model-zoo.md)")
for _size, _label in (("s", "ViT-S/16"), ("b", "ViT-B/16")):
    register_pretrained(PretrainedSpec(
        name=f"hycoclip-vit-{_size}",
        family="meru",
        description=f"HyCoCLIP (hyperbolic, Lorentz model) {_label} released with PalAvik/hycoclip",
        loader="mmviz.pretrained.meru:load_meru",
        download=HYCOCLIP_DOWNLOAD.format(stem=f"hycoclip_vit_{_size}"),
    ))
for _kind in ("meru", "clip"):
    register_pretrained(PretrainedSpec(
        name=f"{_kind}-tiny",
        family="meru",
        description=f"a tiny {_kind.upper()} of MERU's design, for tests and demos on random weights",
        loader="mmviz.pretrained.meru:load_meru",
    ))
register_pretrained(PretrainedSpec(
    name=f"{OPEN_CLIP_PREFIX}tiny",
    family="open_clip",
    description="a tiny open_clip ViT, for tests and demos on random weights",
    loader="mmviz.pretrained.openclip:load_open_clip",
))


def pretrained_names() -> list[str]:
    """Registered names (open_clip's architectures are open-ended: ``open_clip:ARCH``)."""
    return sorted(_SPECS)


def spec_for(name: str) -> PretrainedSpec:
    """The spec of ``name``; any ``open_clip:ARCH`` is accepted here and checked on load."""
    if name in _SPECS:
        return _SPECS[name]
    if name.startswith(OPEN_CLIP_PREFIX) and len(name) > len(OPEN_CLIP_PREFIX):
        return PretrainedSpec(
            name=name, family="open_clip", description=f"open_clip {name[len(OPEN_CLIP_PREFIX):]}",
            loader="mmviz.pretrained.openclip:load_open_clip",
        )
    known = ", ".join(pretrained_names())
    raise MmvizError(f"unknown pretrained model {name!r}; known: {known}, or open_clip:ARCH")


def load_pretrained(name: str, weights: str | Path | None = None, tag: str | None = None):
    """Build the model ``name`` on the CPU, in eval mode, with its weights loaded.

    weights: a local checkpoint (``.pt``/``.pth``/``.bin`` read with ``weights_only=True``, or
    ``.safetensors``). tag: an open_clip pretrained tag (downloads; fails offline in one line).
    With neither, only ``*-tiny`` models load (random weights, seed 0).
    """
    spec = spec_for(name)
    module_name, func_name = spec.loader.split(":")
    loader = getattr(importlib.import_module(module_name), func_name)
    model = loader(name, Path(weights) if weights else None, tag)
    return model.eval()
