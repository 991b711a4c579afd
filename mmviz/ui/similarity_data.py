"""Paired embeddings for the Similarity page: pairs out of an :class:`EmbeddingSet` (a run's
export or an uploaded file), batches, the names hover shows, and image thumbnails.

No streamlit here (the caching wrappers are in :mod:`mmviz.ui.similarity_cache`).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mmviz import metrics
from mmviz.data.embeddings_io import EmbeddingSet
from mmviz.errors import MmvizError

CAPTIONS = "caption"  # modality name of a run export's distinct captions
TEXT_NAMES = ("text", "caption", "captions", "txt")


@dataclass
class Pairs:
    """P aligned pairs in one geometry.

    a, b: (P, D) points of the two modalities (``names``); meta_a, meta_b: their P metadata
    rows; pair_index: (P,) index of each pair in its dataset's split (for images), or None;
    text_side: which of a (0) / b (1) is text, or None; captions / caption_points: a run's
    distinct captions (M rows, (M, D)), or None.
    """

    a: np.ndarray
    b: np.ndarray
    names: tuple[str, str]
    meta_a: pd.DataFrame
    meta_b: pd.DataFrame
    geometry: str
    curvature: float
    pair_index: np.ndarray | None = None
    text_side: int | None = None
    captions: pd.DataFrame | None = None
    caption_points: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.a)


def pairs_from_embeddings(es: EmbeddingSet) -> Pairs:
    """The first two modalities of ``es`` as pairs (MmvizError if they cannot be paired).

    Rows are matched by a ``pair_index`` column when there is one, otherwise by their order
    within each modality (which then need the same count). A modality named ``caption`` holds
    distinct captions (run exports), not pairs.
    """
    names = [m for m in es.modalities if m != CAPTIONS]
    if len(names) < 2:
        raise MmvizError(
            f"paired embeddings need a 'modality' column with two modalities (e.g. image, text); "
            f"found {', '.join(es.modalities) or 'none'}")
    meta = es.metadata
    kind = meta["modality"].astype(str).to_numpy()
    sides = []
    for name in names[:2]:
        rows = np.flatnonzero(kind == name)
        frame = meta.iloc[rows].reset_index(drop=True)
        sides.append((es.points[rows], frame))
    (pa, ma), (pb, mb) = sides
    pair_index = None
    if "pair_index" in meta and ma["pair_index"].notna().all() and mb["pair_index"].notna().all():
        ia, ib = ma["pair_index"].astype(np.int64).to_numpy(), mb["pair_index"].astype(np.int64).to_numpy()
        common, ka, kb = np.intersect1d(ia, ib, return_indices=True)
        if len(common) < 2:
            raise MmvizError("fewer than 2 pairs share a pair_index in the two modalities")
        pa, ma, pb, mb = pa[ka], ma.iloc[ka].reset_index(drop=True), pb[kb], mb.iloc[kb].reset_index(drop=True)
        pair_index = common
    elif len(pa) != len(pb):
        raise MmvizError(
            f"modality {names[0]!r} has {len(pa)} rows and {names[1]!r} has {len(pb)}: pair them by "
            "order with equal counts, or add a pair_index column")
    elif len(pa) < 2:
        raise MmvizError("need at least 2 pairs")
    text = [i for i, n in enumerate(names[:2]) if n.lower() in TEXT_NAMES]
    captions = caption_points = None
    if CAPTIONS in es.modalities and len(names) == 2:
        rows = np.flatnonzero(kind == CAPTIONS)
        captions, caption_points = meta.iloc[rows].reset_index(drop=True), es.points[rows]
    return Pairs(pa, pb, (names[0], names[1]), ma, mb, es.geometry, es.curvature, pair_index,
                 text[0] if len(text) == 1 else None, captions, caption_points)


def batch_indices(n_pairs: int, batch_size: int, seed: int) -> np.ndarray:
    """Which pairs form the batch: min(B, P) distinct pairs drawn by ``seed``, sorted. → (B,)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_pairs, min(batch_size, n_pairs), replace=False))


def describe(meta: pd.DataFrame, is_text: bool) -> list[str]:
    """One short name per row: the caption for text; the attributes (or label) otherwise."""
    if is_text:
        for column in ("caption", "text", "name", "label"):
            if column in meta:
                return [f"“{v}”" for v in meta[column].astype(str)]
    attrs = [a for a in metrics.ATTRIBUTES if a in meta]
    if attrs:
        return [" ".join(str(v) for v in row) for row in meta[attrs[::-1]].itertuples(index=False)]
    for column in ("label", "name", "text", "caption"):
        if column in meta:
            return meta[column].astype(str).tolist()
    return [""] * len(meta)


def axis_labels(pairs: Pairs, idx: np.ndarray) -> tuple[list[str], list[str]]:
    """Unique hover names of the batch's rows (modality a) and columns (modality b):
    ``"<modality> <pair> · <description>"``."""
    pair_ids = pairs.pair_index[idx] if pairs.pair_index is not None else idx
    out = []
    for side, meta in ((0, pairs.meta_a), (1, pairs.meta_b)):
        names = describe(meta.iloc[idx], pairs.text_side == side)
        out.append([f"{pairs.names[side]} {int(p)} · {n}" if n else f"{pairs.names[side]} {int(p)}"
                    for p, n in zip(pair_ids, names)])
    return out[0], out[1]


def order_columns(pairs: Pairs) -> list[str]:
    """Metadata columns a batch can be ordered by (attributes, label, level)."""
    meta = pairs.meta_a
    return [c for c in (*metrics.ATTRIBUTES, "label", "level") if c in meta and meta[c].notna().any()]


def image_side(pairs: Pairs) -> int | None:
    """Which side holds images (the non-text side of an image-text run), or None."""
    return None if pairs.text_side is None else 1 - pairs.text_side


def thumbnail_uri(image: np.ndarray, size: int = 48) -> str:
    """A (C, H, W) uint8 image → a PNG data URI, upscaled to ``size`` px (nearest)."""
    from PIL import Image

    rgb = np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image[:3]
    picture = Image.fromarray(np.ascontiguousarray(rgb.transpose(1, 2, 0)))
    picture = picture.resize((size, size), Image.NEAREST)
    buf = io.BytesIO()
    picture.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
