"""The embedding job behind ``mmviz embed-model`` and the app's "a pretrained model" source.

It reads the inputs, loads the model, embeds images and texts in batches (images are read and
preprocessed in a second thread while the model runs), and writes one cache entry, a folder
named by the content hash of the weights, the inputs and the preprocessing:

- ``embeddings.npz``: an :class:`EmbeddingSet` (modality ``image`` / ``text`` rows, the model's
  geometry, curvature, cone constant and logit scale; labels, captions, file paths, WordNet
  depth and ancestors where the labels name synsets);
- ``thumbnails.npy``: (N_images, 48, 48, 3) uint8, one per image row, for hover and selection;
- ``info.json``: counts (embedded, skipped), timings, zero-shot accuracy when the images have
  class labels and the texts name the classes.

The entry is written under a temporary name and renamed when complete, so a cancelled or
failed job leaves no half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from mmviz.data.embeddings_io import EmbeddingSet, load_embeddings, save_embeddings
from mmviz.errors import MmvizError
from mmviz.geometry import get_geometry
from mmviz.metrics.similarity import similarity_matrix
from mmviz.paths import cache_dir
from mmviz.pretrained import inputs as inp
from mmviz.pretrained.base import PretrainedEncoder
from mmviz.pretrained.registry import load_pretrained, spec_for

# Bump when preprocessing or the file layout changes: old cache entries then stop matching.
PREPROCESS_VERSION = 1
EMBEDDINGS = "embeddings.npz"
THUMBNAILS = "thumbnails.npy"
INFO = "info.json"
THUMB_SIZE = 48
DEFAULT_BUILTIN_LIMIT = 500
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class EmbedRequest:
    """What to embed with which model. Paths are strings (the request travels as JSON)."""

    model: str
    weights: str = ""
    tag: str = ""
    images: str = ""
    texts: str = ""
    builtin: str = ""
    templates: tuple[str, ...] = ()
    limit: int = 0
    batch_size: int = 32
    device: str = "auto"

    def check(self) -> None:
        spec = spec_for(self.model)
        if not self.weights and not self.tag and not self.model.endswith("tiny"):
            where = f"download {spec.download} and pass" if spec.download else "pass a local checkpoint as"
            extra = " (or, online, an open_clip pretrained tag)" if spec.family == "open_clip" else ""
            raise MmvizError(f"{self.model} needs weights: {where} the weights file{extra}")
        if not (self.images or self.texts or self.builtin):
            raise MmvizError("nothing to embed: give a folder of images, a text file, or a built-in dataset")
        if self.builtin and self.builtin not in inp.BUILTIN_SOURCES:
            raise MmvizError(
                f"unknown built-in dataset {self.builtin!r}; choose one of {', '.join(inp.BUILTIN_SOURCES)}")
        if self.builtin and self.images:
            raise MmvizError("give either a folder of images or a built-in dataset, not both")
        if self.batch_size < 1:
            raise MmvizError(f"batch size must be at least 1, got {self.batch_size}")
        if self.limit < 0:
            raise MmvizError(f"limit must be 0 (all) or more, got {self.limit}")
        if self.weights and not Path(self.weights).is_file():
            raise MmvizError(f"{self.weights}: no such weights file")


@dataclass
class Inputs:
    """Resolved inputs: image sources (paths or in-memory arrays) with labels and names, and texts."""

    images: list[Path | np.ndarray] = field(default_factory=list)
    image_labels: list[str] = field(default_factory=list)
    image_names: list[str] = field(default_factory=list)
    texts: inp.TextSet | None = None
    text_pairs: list[int] = field(default_factory=list)  # per text row: the image it captions, or -1
    ignored: int = 0
    digest: str = ""


@dataclass
class EmbedResult:
    entry: Path
    es: EmbeddingSet
    thumbnails: np.ndarray | None
    info: dict[str, Any]
    cached: bool


# --------------------------------------------------------------------------- inputs and key


def _file_digest(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def weights_digest(path: Path) -> str:
    """sha256 of a weights file, memoised by (path, size, mtime) so a 1 GB file is read once."""
    stat = path.stat()
    memo = cache_dir("pretrained") / "weights-digests.json"
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    try:
        table = json.loads(memo.read_text())
    except (OSError, ValueError):
        table = {}
    if key not in table:
        table[key] = _file_digest(path)
        tmp = memo.with_suffix(".tmp")
        tmp.write_text(json.dumps(table))
        tmp.replace(memo)
    return table[key]


def resolve_inputs(req: EmbedRequest) -> Inputs:
    """Read the folder listing, the text file or the built-in dataset; hash their contents."""
    out = Inputs()
    h = hashlib.sha256()
    if req.images:
        folder = inp.scan_image_folder(req.images, limit=req.limit or None)
        out.images, out.image_labels = list(folder.paths), list(folder.labels)
        out.image_names = [str(p.relative_to(folder.root)) for p in folder.paths]
        out.ignored = folder.ignored
        for path, name in zip(folder.paths, out.image_names):
            h.update(name.encode() + b"\0" + _file_digest(path).encode())
    elif req.builtin:
        _builtin_inputs(req, out)
        h.update(f"builtin:{req.builtin}:{len(out.images)}".encode())
    if req.texts:
        out.texts = inp.read_texts(req.texts, req.templates or None)
        h.update(b"texts\0" + _file_digest(Path(req.texts)).encode() + json.dumps(req.templates).encode())
    if out.texts is not None:
        by_name = {name: i for i, name in enumerate(out.image_names)}
        out.text_pairs = [by_name.get(image, -1) if image else -1 for image in out.texts.images]
        one_each = not out.texts.templates and len(out.texts.texts) == len(out.images)
        if not any(i >= 0 for i in out.text_pairs) and one_each:
            out.text_pairs = list(range(len(out.images)))  # one caption per image, in file order
    out.digest = h.hexdigest()
    return out


def _builtin_inputs(req: EmbedRequest, out: Inputs) -> None:
    from mmviz.data.registry import load

    data = load(req.builtin, "test")
    n = min(len(data), req.limit or DEFAULT_BUILTIN_LIMIT)
    images = data.modalities["image"][:n]
    meta = data.metadata.iloc[:n].reset_index(drop=True)
    out.images = [images[i] for i in range(n)]
    if req.builtin == "digits":
        names = data.extras.get("class_names") or [str(i) for i in range(10)]
        out.image_labels = [str(names[int(v)]) for v in meta["label"]]
    else:
        out.image_labels = meta["shape"].astype(str).tolist()
    out.image_names = [f"{req.builtin} #{i}" for i in range(n)]
    if not req.texts:
        if "caption" in meta:
            out.texts = inp.TextSet(meta["caption"].astype(str).tolist(), images=list(out.image_names))
        else:
            classes = list(dict.fromkeys(out.image_labels))
            templates = req.templates or inp.DEFAULT_TEMPLATES
            texts = [t.format(c) for c in classes for t in templates]
            out.texts = inp.TextSet(texts, labels=[c for c in classes for _ in templates], templates=tuple(templates))


def cache_key(req: EmbedRequest, inputs: Inputs) -> str:
    """Content hash of the weights, the inputs and the preprocessing (model, tag, version)."""
    weights = weights_digest(Path(req.weights)) if req.weights else ""
    blob = json.dumps({
        "model": req.model, "tag": req.tag, "weights": weights, "inputs": inputs.digest,
        "limit": req.limit, "templates": list(req.templates), "preprocess": PREPROCESS_VERSION,
    }, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


# --------------------------------------------------------------------------- embedding


def _read_one(src: Path | np.ndarray, pre) -> tuple[torch.Tensor, np.ndarray] | None:
    """One image source → (pixels (3, S, S), thumbnail (48, 48, 3)), or None if unreadable."""
    img = inp.array_to_image(src) if isinstance(src, np.ndarray) else inp.open_rgb(src, pre.size)
    if img is None:
        return None
    crop = inp.resize_crop(img, pre)
    return inp.normalize(crop, pre), _thumbnail(crop)  # the thumbnail shows what the model saw


def _batches(sources: Sequence[Path | np.ndarray], model: PretrainedEncoder, batch: int, overlap: bool,
             ) -> Iterator[tuple[list[int], torch.Tensor | None, list[np.ndarray], int]]:
    """Batches of (kept row numbers, pixels (b, 3, S, S), thumbnails, skipped).

    Images are decoded and resized by a pool of threads (Pillow releases the GIL), one per core.
    With ``overlap`` (a GPU runs the model) the next batch is read while the model runs; on the
    CPU the model already uses every core, and a reader competing with its threads slows both
    far more than it saves, so reading and the forward pass take turns, each on every core.
    """
    pre = model.preprocess
    starts = list(range(0, len(sources), batch))
    pool = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)))

    def submit(start: int):
        return [pool.submit(_read_one, sources[i], pre) for i in range(start, min(start + batch, len(sources)))]

    try:
        pending = submit(starts[0]) if starts else []
        for k, start in enumerate(starts):
            read = [f.result() for f in pending]
            if overlap and k + 1 < len(starts):
                pending = submit(starts[k + 1])
            elif k + 1 < len(starts):
                pending = None
            kept = [start + j for j, r in enumerate(read) if r is not None]
            done = [r for r in read if r is not None]
            pixels = torch.stack([r[0] for r in done]) if done else None
            yield kept, pixels, [r[1] for r in done], len(read) - len(done)
            if pending is None:
                pending = submit(starts[k + 1])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _thumbnail(img) -> np.ndarray:
    from PIL import Image

    thumb = img.copy()
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (THUMB_SIZE, THUMB_SIZE), (255, 255, 255))
    canvas.paste(thumb, ((THUMB_SIZE - thumb.width) // 2, (THUMB_SIZE - thumb.height) // 2))
    return np.asarray(canvas, dtype=np.uint8)


def _ensemble(points: torch.Tensor, groups: list[str], geometry: str,
              curvature: float) -> tuple[torch.Tensor, list[str]]:
    """One point per group (class name): the normalised mean on the sphere; on the hyperboloid,
    the mean of the space components (the tangent vectors at the origin scale with them
    monotonically, so this is the zero-shot classifier's template average) lifted back."""
    names = list(dict.fromkeys(groups))
    index = torch.tensor([names.index(g) for g in groups])
    means = torch.stack([points[index == k].mean(dim=0) for k in range(len(names))])
    if geometry == "lorentz":
        return get_geometry("lorentz", curvature).project(means), names  # time from the space part
    return torch.nn.functional.normalize(means, dim=-1), names


def embed(req: EmbedRequest, progress: Progress | None = None, use_cache: bool = True) -> EmbedResult:
    """Embed ``req``'s inputs (or return the cached entry). progress(done, total, stage)."""
    req.check()
    report = progress or (lambda done, total, stage: None)
    report(0, 1, "reading inputs")
    inputs = resolve_inputs(req)
    key = cache_key(req, inputs)
    root = cache_dir("pretrained")
    entry = root / key
    if use_cache and (entry / EMBEDDINGS).is_file():
        return load_entry(entry, cached=True)
    n_text = len(inputs.texts.texts) if inputs.texts else 0
    total = len(inputs.images) + n_text
    report(0, total, "loading the model")
    t0 = time.perf_counter()
    device = _device(req.device)
    model = load_pretrained(req.model, req.weights or None, req.tag or None).to(device)
    load_s = time.perf_counter() - t0

    part = root / f".{key}.part"
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    try:
        t1 = time.perf_counter()
        image_points, kept, thumbs, skipped = [], [], [], 0
        forward_s = 0.0  # of image_s, the time in the model (the rest: reading and preprocessing)
        done = 0
        with torch.inference_mode():
            batches = _batches(inputs.images, model, req.batch_size, overlap=device.type != "cpu")
            for rows, pixels, batch_thumbs, batch_skipped in batches:
                skipped += batch_skipped
                if pixels is not None:
                    tf = time.perf_counter()
                    image_points.append(model.encode_image(pixels.to(device)).float().cpu())
                    forward_s += time.perf_counter() - tf
                    kept += rows
                    thumbs += batch_thumbs
                done += len(rows) + batch_skipped
                report(done, total, f"images {done:,}/{len(inputs.images):,}")
            image_s = time.perf_counter() - t1
            t2 = time.perf_counter()
            text_points = []
            texts = inputs.texts.texts if inputs.texts else []
            for start in range(0, len(texts), req.batch_size):
                tokens = model.tokenize(texts[start:start + req.batch_size]).to(device)
                text_points.append(model.encode_text(tokens).float().cpu())
                report(done + min(start + req.batch_size, len(texts)), total, "texts")
            text_s = time.perf_counter() - t2
        if inputs.images and not kept:
            raise MmvizError(f"none of the {len(inputs.images)} images could be read")
        es, info = _assemble(req, model, inputs, kept, image_points, text_points)
        info.update({
            "model": req.model, "tag": req.tag, "weights": req.weights, "device": str(device),
            "images_embedded": len(kept), "images_skipped": skipped, "files_ignored": inputs.ignored,
            "texts_embedded": len(texts), "seconds_load": round(load_s, 3), "seconds_images": round(image_s, 3),
            "seconds_image_forward": round(forward_s, 3),
            "seconds_texts": round(text_s, 3), "key": key,
        })
        save_embeddings(part / EMBEDDINGS, es)
        if thumbs:
            np.save(part / THUMBNAILS, np.stack(thumbs))
        (part / INFO).write_text(json.dumps(info, indent=1, default=str))
        if entry.exists():
            shutil.rmtree(entry)
        part.rename(entry)
    finally:
        shutil.rmtree(part, ignore_errors=True)
    report(total, total, "done")
    return load_entry(entry, cached=False)


def _device(name: str) -> torch.device:
    from mmviz.runs.devices import pick_device

    return torch.device(pick_device(name))


def _assemble(req: EmbedRequest, model: PretrainedEncoder, inputs: Inputs, kept: list[int],
              image_points: list[torch.Tensor], text_points: list[torch.Tensor]) -> tuple[EmbeddingSet, dict]:
    """The EmbeddingSet rows (images, then texts or class prompts) and the info read-outs."""
    geometry, curvature = model.geometry, float(model.curvature)
    parts, frames = [], []
    info: dict[str, Any] = {}
    if kept:
        pts = torch.cat(image_points)
        parts.append(pts)
        frames.append(pd.DataFrame({
            "modality": "image",
            "label": [inputs.image_labels[i] for i in kept],
            "name": [inputs.image_names[i] for i in kept],
            "image_path": [str(inputs.images[i]) if isinstance(inputs.images[i], Path) else "" for i in kept],
            "pair_index": np.arange(len(kept)),  # the row of this image's thumbnail
        }))
    if text_points:
        pts = torch.cat(text_points)
        ts = inputs.texts
        if ts.templates:
            pts, names = _ensemble(pts, ts.labels, geometry, curvature)
            frame = pd.DataFrame({"modality": "text", "label": names,
                                  "text": [ts.templates[0].format(n.replace("_", " ")) for n in names],
                                  "name": names, "prompts": len(ts.templates)})
        else:
            frame = pd.DataFrame({"modality": "text", "label": ts.labels, "text": ts.texts, "name": ts.texts})
            pair_of = {row: pos for pos, row in enumerate(kept)}
            pairs = [inputs.text_pairs[i] if i < len(inputs.text_pairs) else -1 for i in range(len(ts.texts))]
            if any(p >= 0 for p in pairs):
                frame["pair_index"] = [pair_of.get(p, -1) for p in pairs]
                frame["label"] = [inputs.image_labels[p] if p >= 0 and not lab else lab
                                  for p, lab in zip(pairs, frame["label"])]
        parts.append(pts)
        frames.append(frame)
        if kept and ts.templates:
            labels = [inputs.image_labels[i] for i in kept]
            info["zero_shot"] = zero_shot(parts[0], pts, labels, names, geometry, curvature)
    meta = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if "pair_index" in meta:
        meta["pair_index"] = meta["pair_index"].fillna(-1).astype(np.int64)
        if (meta["pair_index"] < 0).any():
            meta["pair_index"] = meta["pair_index"].astype(float).where(meta["pair_index"] >= 0)
    _add_wordnet(meta)
    points = torch.cat(parts).numpy() if parts else np.zeros((0, 1), np.float32)
    es = EmbeddingSet(points, meta, geometry=geometry, curvature=curvature, source=req.model,
                      cone_min_radius=float(model.cone_min_radius), logit_scale=float(model.logit_scale),
                      model=req.model)
    return es, info


def _add_wordnet(meta: pd.DataFrame) -> None:
    """WordNet depth, ancestors and parent arcs for labels that name noun synsets (in place)."""
    if "label" not in meta or not meta["label"].astype(str).str.len().any():
        return
    from mmviz.data.wordnet import label_arcs, label_table

    labels = meta["label"].fillna("").astype(str).tolist()
    table = label_table(labels)
    if table["wordnet_id"].notna().sum() == 0:
        return
    for col in ("wordnet_id", "wordnet_depth", "wordnet_ancestors"):
        meta[col] = table[col].to_numpy()
    meta["depth"] = table["wordnet_depth"].to_numpy()
    # Arcs join the class rows: text rows when there are class prompts, else each label's first row.
    rows = np.flatnonzero(meta["modality"].to_numpy() == "text")
    pool = rows if len(rows) else np.arange(len(meta))
    arcs = label_arcs([labels[i] for i in pool])
    parent = [""] * len(meta)
    for child, par in arcs:
        parent[int(pool[child])] = str(int(pool[par]))
    if any(parent):
        meta["parent"] = parent


def zero_shot(images: torch.Tensor, classes: torch.Tensor, labels: list[str], names: list[str],
              geometry: str, curvature: float) -> dict[str, float]:
    """Top-1 / top-5 accuracy (%) of the nearest class prompt, in the model's own similarity:
    cosine on the sphere, negative geodesic distance on the hyperboloid (as MERU scores)."""
    scores = torch.from_numpy(similarity_matrix(images.numpy(), classes.numpy(), geometry, curvature))
    target = torch.tensor([names.index(lab) if lab in names else -1 for lab in labels])
    known = target >= 0
    if not known.any():
        return {}
    top = scores[known].topk(min(5, len(names)), dim=1).indices
    t = target[known].view(-1, 1)
    return {"top1": round(float((top[:, :1] == t).any(1).float().mean()) * 100, 2),
            "top5": round(float((top == t).any(1).float().mean()) * 100, 2), "n": int(known.sum())}


def load_entry(entry: Path, cached: bool = True) -> EmbedResult:
    """A finished cache entry: its EmbeddingSet, thumbnails (or None) and info."""
    es = load_embeddings(entry / EMBEDDINGS)
    thumbs = np.load(entry / THUMBNAILS) if (entry / THUMBNAILS).is_file() else None
    info = json.loads((entry / INFO).read_text()) if (entry / INFO).is_file() else {}
    return EmbedResult(entry, es, thumbs, info, cached)


def request_dict(req: EmbedRequest) -> dict[str, Any]:
    return asdict(req)
