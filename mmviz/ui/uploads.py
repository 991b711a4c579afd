"""Uploaded embeddings: written to a private temp folder, then read by the same loader as the CLI."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mmviz.data.embeddings_io import EmbeddingSet, load_embeddings


def load_uploaded(files, geometry: str | None, curvature: float | None) -> EmbeddingSet:
    """Streamlit UploadedFile objects → a validated :class:`EmbeddingSet` (MmvizError if invalid).

    Files keep their names (the loader uses them: ``metadata.tsv``, one file per modality).
    """
    with tempfile.TemporaryDirectory(prefix="mmviz-upload-") as tmp:
        paths = []
        for f in files:
            path = Path(tmp) / Path(f.name).name
            path.write_bytes(f.getvalue())
            paths.append(path)
        return load_embeddings(paths if len(paths) > 1 else paths[0], geometry=geometry, curvature=curvature)
