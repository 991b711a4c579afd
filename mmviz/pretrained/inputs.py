"""What a pretrained model embeds: a folder of images, a file of captions or class names, or a
built-in dataset (Trifeature, Trifeature captions, digits; offline).

Image folders are flat or hold one subfolder per class; a subfolder named like an ImageNet
synset (``n02084071``) is that WordNet synset. Unreadable files are skipped and counted, never
fatal. Odd images (CMYK, alpha, palette, 16-bit, huge) are converted to 8-bit RGB.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from mmviz.errors import MmvizError
from mmviz.pretrained.base import Preprocess

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"})
TEXT_COLUMNS = ("caption", "text", "label", "name", "class", "class_name")
IMAGE_COLUMNS = ("image", "image_path", "file", "filename", "path")
# Pillow refuses images above ~179 Mpx as decompression bombs; mmviz reads at most this many
# pixels (a 16k × 16k scan) and skips larger files as unreadable.
MAX_IMAGE_PIXELS = 16_384 * 16_384
DRAFT_FACTOR = 4
DEFAULT_TEMPLATES = ("a photo of a {}.",)
BUILTIN_SOURCES = ("trifeature", "trifeature-captions", "digits")


@dataclass
class ImageFolder:
    """Images found under a folder: paths (N,), class labels (N,) ("" for a flat folder), and
    the files skipped while scanning (not images)."""

    root: Path
    paths: list[Path]
    labels: list[str]
    ignored: int = 0


@dataclass
class TextSet:
    """Texts to embed: ``texts`` (M,); ``labels`` (M,) the class name each text prompts for
    ("" for free captions); ``images`` (M,) the image file a caption belongs to ("" if none);
    ``templates``: the prompt templates that class names were put into (one text per name
    and template; a model's zero-shot classifier averages a name's templates)."""

    texts: list[str]
    labels: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    templates: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.labels = self.labels or [""] * len(self.texts)
        self.images = self.images or [""] * len(self.texts)


def scan_image_folder(root: str | Path, limit: int | None = None) -> ImageFolder:
    """Image files under ``root`` in sorted order: flat, or one subfolder per class."""
    root = Path(root)
    if not root.is_dir():
        raise MmvizError(f"{root}: no such folder of images")
    paths, labels, ignored = [], [], 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.name.startswith("."):
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            ignored += 1
            continue
        rel = path.relative_to(root)
        paths.append(path)
        labels.append(rel.parts[0] if len(rel.parts) > 1 else "")
        if limit and len(paths) >= limit:
            break
    if not paths:
        raise MmvizError(f"{root}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return ImageFolder(root, paths, labels, ignored)


def read_texts(path: str | Path, templates: Sequence[str] | None = None) -> TextSet:
    """Captions or class names from a ``.txt`` (one per line) or ``.csv`` file.

    A CSV takes its text from the first column named like :data:`TEXT_COLUMNS` and, when it has
    one, the image each caption belongs to from a column named like :data:`IMAGE_COLUMNS`.
    With ``templates`` (``"a photo of a {}."``), each line is a class name and becomes one text
    per template.
    """
    path = Path(path)
    if not path.is_file():
        raise MmvizError(f"{path}: no such text file")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise MmvizError(f"{path}: not UTF-8 text") from None
    images: list[str] = []
    if path.suffix.lower() in (".csv", ".tsv"):
        names, images = _read_text_table(raw, "\t" if path.suffix.lower() == ".tsv" else ",", path)
    else:
        names = [line.strip() for line in raw.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not names:
        raise MmvizError(f"{path}: no texts in the file")
    if not templates:
        return TextSet(names, images=images)
    for template in templates:
        if "{}" not in template:
            raise MmvizError(f"prompt template {template!r} has no {{}} where the class name goes")
    texts, labels = [], []
    for name in names:
        readable = name.replace("_", " ")
        for template in templates:
            texts.append(template.format(readable))
            labels.append(name)
    return TextSet(texts, labels=labels, templates=tuple(templates))


def _read_text_table(raw: str, delimiter: str, path: Path) -> tuple[list[str], list[str]]:
    rows = list(csv.DictReader(io.StringIO(raw), delimiter=delimiter))
    if not rows:
        raise MmvizError(f"{path}: no rows under the header")
    header = {name.strip().lower(): name for name in rows[0].keys() if name}
    text_col = next((header[c] for c in TEXT_COLUMNS if c in header), None)
    if text_col is None:
        raise MmvizError(f"{path}: no text column; name one of: {', '.join(TEXT_COLUMNS)}")
    image_col = next((header[c] for c in IMAGE_COLUMNS if c in header), None)
    names = [(row.get(text_col) or "").strip() for row in rows]
    images = [(row.get(image_col) or "").strip() for row in rows] if image_col else []
    keep = [i for i, name in enumerate(names) if name]
    return [names[i] for i in keep], ([images[i] for i in keep] if images else [])


def open_rgb(path: Path, min_side: int | None = None) -> Image.Image | None:
    """The image at ``path`` as 8-bit RGB, or None when it cannot be read.

    Alpha is laid on white; CMYK, palette, greyscale and 16-bit images are converted; the EXIF
    orientation is applied. min_side: a JPEG whose shorter side is at least
    :data:`DRAFT_FACTOR` × this is decoded at a reduced scale (still ≥ 2 × ``min_side``), which
    makes huge photos cheap and changes no pixel that survives the later downscale by much.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about odd-but-readable files
            with Image.open(path) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    return None
                if min_side and img.format == "JPEG" and min(img.size) >= DRAFT_FACTOR * min_side:
                    img.draft("RGB", (2 * min_side, 2 * min_side))
                img.load()
                return to_rgb(ImageOps.exif_transpose(img))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, ZeroDivisionError):
        return None


def to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB from any PIL mode (alpha composited on white, 16-bit scaled down)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = arr.max() or 1.0
        img = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8), mode="L")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = np.nanmin(arr), np.nanmax(arr)
        img = Image.fromarray(((arr - lo) / ((hi - lo) or 1.0) * 255.0).astype(np.uint8), mode="L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")


def pixels(img: Image.Image, pre: Preprocess) -> torch.Tensor:
    """One RGB image → the (3, size, size) float tensor the encoder reads."""
    return normalize(resize_crop(img, pre), pre)


def resize_crop(img: Image.Image, pre: Preprocess) -> Image.Image:
    """The ``size`` × ``size`` RGB crop the model sees: the same arithmetic as torchvision's
    ``Resize(size)`` (shorter side to ``size``, the longer truncated) and ``CenterCrop(size)`` on a
    PIL image, which open_clip and MERU use."""
    if img.mode != "RGB":
        img = to_rgb(img)
    w, h = img.size
    if w <= h:
        new_size = (pre.size, int(pre.size * h / w))
    else:
        new_size = (int(pre.size * w / h), pre.size)
    resample = Image.Resampling.BICUBIC if pre.interpolation == "bicubic" else Image.Resampling.BILINEAR
    if new_size != img.size:
        img = img.resize(new_size, resample)
    left = int(round((img.width - pre.size) / 2.0))
    top = int(round((img.height - pre.size) / 2.0))
    return img.crop((left, top, left + pre.size, top + pre.size))


def normalize(img: Image.Image, pre: Preprocess) -> torch.Tensor:
    """A ``size`` × ``size`` RGB image → (3, size, size) float32, scaled to [0, 1] and normalised."""
    # numpy, not torch: this runs in reader threads, and torch's own thread pool belongs to the model.
    arr = np.asarray(img, dtype=np.uint8).astype(np.float32) / np.float32(255.0)
    arr = (arr - np.asarray(pre.mean, dtype=np.float32)) / np.asarray(pre.std, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def array_to_image(image: np.ndarray) -> Image.Image:
    """A dataset image (C, H, W) uint8 (C = 1 or 3, any value range) → RGB PIL image."""
    arr = np.asarray(image)
    if arr.ndim == 3:
        arr = np.moveaxis(arr, 0, -1)
    top = float(arr.max()) or 1.0
    if top <= 16 and arr.dtype.kind in "ui":  # digits store 0..16
        arr = arr.astype(np.float64) / 16.0 * 255.0
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return Image.fromarray(arr).convert("RGB")
