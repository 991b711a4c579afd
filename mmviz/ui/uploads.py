"""Uploaded embeddings: written to a private temp folder, then read by the same loader as the CLI."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mmviz.data.embeddings_io import DEFAULT_MAX_BYTES, EmbeddingSet, load_embeddings
from mmviz.errors import MmvizError


def check_upload_size(files, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """MmvizError (one line) when the uploads together are over ``max_bytes``, read from each
    file's ``size`` before any byte of it is copied or written."""
    sizes = [getattr(f, "size", None) for f in files]
    total = sum(len(f.getvalue()) if s is None else int(s) for f, s in zip(files, sizes))
    if total > max_bytes:
        what = files[0].name if len(files) == 1 else "the uploads"
        raise MmvizError(f"{what} is {total / 1e6:,.0f} MB, over the {max_bytes / 1e6:g} MB limit; subsample it "
                         "(or use `mmviz check --max-mb` and `mmviz project` on this machine)")


def load_uploaded(files, geometry: str | None, curvature: float | None) -> EmbeddingSet:
    """Streamlit UploadedFile objects → a validated :class:`EmbeddingSet` (MmvizError if invalid).

    Files keep their names (the loader uses them: ``metadata.tsv``, one file per modality).
    They are written to a private temporary folder, removed whatever happens: a refused upload
    leaves nothing behind.
    """
    check_upload_size(files)
    with tempfile.TemporaryDirectory(prefix="mmviz-upload-") as tmp:
        paths = []
        for f in files:
            path = Path(tmp) / Path(f.name).name
            path.write_bytes(f.getvalue())
            paths.append(path)
        return load_embeddings(paths if len(paths) > 1 else paths[0], geometry=geometry, curvature=curvature)
