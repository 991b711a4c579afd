"""``mmviz check FILE [FILE2 ...]``: load your embeddings, validate them, print a summary."""

from __future__ import annotations

import argparse
import json

from mmviz.geometry.constants import GEOMETRY_NAMES  # light: no numpy, no torch

HELP = "check an embeddings file (npy, npz, parquet, csv, tsv, projector pair, HF folder) and summarise it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="FILE",
        help="an embeddings file or folder; a second FILE is a projector metadata.tsv or another modality",
    )
    parser.add_argument("--geometry", choices=GEOMETRY_NAMES, default=None,
                        help="geometry of the points (default: as the file declares, else euclidean)")
    parser.add_argument("--curvature", type=float, default=None,
                        help="c > 0; the space curves at -c (default: as the file declares, else 1)")
    parser.add_argument("--max-mb", type=float, default=200.0, help="refuse inputs larger than this many MB")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def format_summary(info: dict) -> str:
    """The human-readable lines for a :func:`mmviz.data.embeddings_io.summary` dict."""
    modalities = ", ".join(f"{name} {count}" for name, count in info["modalities"].items())
    columns = ", ".join(info["metadata_columns"]) or "none"
    lines = [
        f"{info['source']}: {info['n']} points in {info['dim']} dimensions",
        f"geometry: {info['geometry']} (curvature {info['curvature']:g})",
        f"modalities: {modalities}",
        f"norms: {info['norm_min']:.4g} to {info['norm_max']:.4g}",
        f"metadata: {columns}",
    ]
    if info.get("fits_poincare_ball"):
        lines.append("note: every point lies inside the unit ball, so these may be Poincaré-ball coordinates; "
                     "they were read as euclidean (pass --geometry poincare to read them as such)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from mmviz.data.embeddings_io import load_embeddings, summary

    embeddings = load_embeddings(
        args.files, geometry=args.geometry, curvature=args.curvature, max_bytes=int(args.max_mb * 1e6),
    )
    info = summary(embeddings)
    print(json.dumps(info) if args.json else format_summary(info))
    return 0
