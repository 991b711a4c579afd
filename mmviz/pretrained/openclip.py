"""open_clip models as mmviz encoders: any architecture open_clip knows, weights from a local
file (read safely, keys checked) or from one of open_clip's pretrained tags (online only).

``open_clip:tiny`` is the architecture in ``configs/mmviz-tiny.json`` (random weights allowed),
for tests and demos.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F

from mmviz.errors import MmvizError
from mmviz.pretrained.base import Preprocess, PretrainedEncoder
from mmviz.pretrained.checkpoint import check_keys, check_shapes, read_state_dict
from mmviz.pretrained.registry import OPEN_CLIP_PREFIX

TINY_ARCH = "mmviz-tiny"
CONFIGS = Path(__file__).resolve().parent / "configs"
# Hosts open_clip downloads from; probed before a download so that offline fails at once.
DOWNLOAD_HOSTS = ("huggingface.co", 443)
PROBE_TIMEOUT_S = 3.0


def _open_clip():
    with warnings.catch_warnings():
        # open_clip's modules use torch.jit.script, which torch 2.14 marks deprecated on import.
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)
        import open_clip

    if TINY_ARCH not in open_clip.list_models():
        open_clip.add_model_config(CONFIGS)
    return open_clip


def architecture_of(name: str) -> str:
    arch = name[len(OPEN_CLIP_PREFIX):] if name.startswith(OPEN_CLIP_PREFIX) else name
    return TINY_ARCH if arch == "tiny" else arch


class OpenClipEncoder(PretrainedEncoder):
    """An open_clip ``CLIP`` model; points are unit vectors on the sphere."""

    family = "open_clip"
    geometry = "sphere"

    def __init__(self, name: str, model: torch.nn.Module, tokenizer, preprocess: Preprocess) -> None:
        super().__init__()
        self.name = name
        self.model = model
        self._tokenizer = tokenizer
        self.preprocess = preprocess

    @property
    def logit_scale(self) -> float:
        return float(self.model.logit_scale.detach().exp())

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        return self._tokenizer(list(texts)).long()

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model.encode_image(pixels), dim=-1)

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model.encode_text(tokens), dim=-1)


def _preprocess_of(model: torch.nn.Module) -> Preprocess:
    cfg = getattr(model.visual, "preprocess_cfg", {}) or {}
    size = cfg.get("size", model.visual.image_size)
    size = size[0] if isinstance(size, (tuple, list)) else size
    base = Preprocess()
    return Preprocess(
        size=int(size),
        mean=tuple(cfg.get("mean", base.mean)),
        std=tuple(cfg.get("std", base.std)),
        interpolation=str(cfg.get("interpolation", "bicubic")),
    )


def load_open_clip(name: str, weights: Path | None, tag: str | None) -> OpenClipEncoder:
    """Build ``open_clip:ARCH`` and load ``weights`` (a local file) or the pretrained ``tag``."""
    open_clip = _open_clip()
    arch = architecture_of(name)
    if arch not in open_clip.list_models():
        raise MmvizError(f"open_clip does not know the architecture {arch!r} (see open_clip.list_models())")
    if weights is not None and tag:
        raise MmvizError("give either a weights file or a pretrained tag, not both")
    if weights is None and tag:
        weights = download_tag(arch, tag)
    elif weights is None and arch != TINY_ARCH:
        raise MmvizError(f"{name} needs weights: pass a local file, or (online) one of open_clip's pretrained tags")
    torch.manual_seed(0)
    with _quiet_root_logger():
        model = open_clip.create_model(arch, pretrained=None, load_weights=False)
    if weights is not None:
        state = read_state_dict(weights)
        own = model.state_dict()
        # open_clip's own checkpoints store attention masks as buffers in some versions only.
        state = {k: v for k, v in state.items() if k in own or not k.endswith("attn_mask")}
        check_keys(state, own.keys(), f"open_clip {arch}", str(weights))
        check_shapes(state, own, f"open_clip {arch}", str(weights))
        model.load_state_dict(state, strict=True)
    return OpenClipEncoder(name, model, open_clip.get_tokenizer(arch), _preprocess_of(model))


def download_tag(arch: str, tag: str) -> Path:
    """The local file of open_clip's pretrained ``tag`` for ``arch``, downloaded into
    open_clip's cache if needed. Offline (and not cached), one clear error, at once."""
    open_clip = _open_clip()
    tags = open_clip.list_pretrained_tags_by_model(arch)
    if tag not in tags:
        known = ", ".join(tags) if tags else "none"
        raise MmvizError(f"open_clip has no pretrained tag {tag!r} for {arch}; its tags: {known}")
    cfg = open_clip.get_pretrained_cfg(arch, tag)
    if not _reachable(*DOWNLOAD_HOSTS):
        cached = _cached_file(cfg)
        if cached is None:
            raise MmvizError(
                f"cannot download open_clip {arch} '{tag}': no internet ({DOWNLOAD_HOSTS[0]} unreachable); "
                "download the weights where there is internet and pass the file as weights"
            )
        return cached
    try:
        path = open_clip.download_pretrained(cfg)
    except Exception as err:  # noqa: BLE001 - network and hub errors come in many types
        raise MmvizError(f"downloading open_clip {arch} '{tag}' failed: {str(err).splitlines()[0][:200]}") from None
    if not path:
        raise MmvizError(f"open_clip {arch} '{tag}' has no downloadable file")
    return Path(path)


@contextmanager
def _quiet_root_logger():
    """open_clip logs "No pretrained weights loaded" on the root logger for a random init that
    mmviz overwrites at once."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _cached_file(cfg: dict) -> Path | None:
    """The already-downloaded file of a pretrained config, if open_clip's caches hold it."""
    hub = cfg.get("hf_hub", "")
    if hub:
        from huggingface_hub import try_to_load_from_cache

        parts = hub.strip("/").split("/")
        repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
        names = [filename] if filename else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        for name in names:
            found = try_to_load_from_cache(repo_id, name)
            if isinstance(found, str):
                return Path(found)
    url = cfg.get("url", "")
    if url:
        path = Path(os.path.expanduser("~/.cache/clip")) / os.path.basename(url)
        if path.is_file():
            return path
    return None


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False
