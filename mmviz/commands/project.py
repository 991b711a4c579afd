"""``mmviz project FILE --method M --out OUT.npz``: embeddings → 2-D Poincaré disk coordinates.

OUT.npz holds ``disk`` (N, 2) unit-disk coordinates, ``depth`` (N,) the original distance
from the origin (or the sphere's specificity proxy), and the method/geometry/curvature;
``--json`` prints the quality read-outs and the time taken.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

HELP = ("project embeddings to the 2-D Poincaré disk (radial, tangent-pca, horopca, co-sne, umap, identity) with "
        "quality read-outs")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from mmviz.explorer.projections import METHODS, SPECIFICITY
    from mmviz.geometry.constants import GEOMETRY_NAMES

    parser.add_argument("file", metavar="FILE", nargs="+", help="embeddings file(s), as for `mmviz check`")
    parser.add_argument("--geometry", choices=GEOMETRY_NAMES, help="geometry of the file (default: as declared)")
    parser.add_argument("--curvature", type=float, help="curvature c > 0 (default: as declared, else 1)")
    parser.add_argument("--method", required=True, choices=METHODS, help="projection method")
    parser.add_argument("--specificity", choices=tuple(SPECIFICITY),
                        help="sphere only: depth proxy (default raw_norm when the file has it, else mean)")
    parser.add_argument("--root", type=int, help="row index of the root for --specificity root")
    parser.add_argument("--sample", type=int, default=2000, help="points sampled for trustworthiness/distortion")
    parser.add_argument("--seed", type=int, default=0, help="random seed (sample, umap)")
    parser.add_argument("--out", required=True, help="output .npz file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _progress_line(message: str) -> None:
    """A long fit's progress (HoroPCA, CO-SNE, UMAP), rewritten in place on a terminal."""
    print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from mmviz.data.embeddings_io import load_embeddings
    from mmviz.errors import MmvizError
    from mmviz.explorer.projections import project_set
    from mmviz.metrics.projection import quality

    if not str(args.out).endswith(".npz"):
        raise MmvizError(f"--out must be an .npz file, got {args.out}")
    if args.curvature is not None and not args.curvature > 0:
        raise MmvizError(f"--curvature must be > 0, got {args.curvature}")
    if args.sample < 3:
        raise MmvizError(f"--sample must be at least 3, got {args.sample}")
    start = time.perf_counter()
    es = load_embeddings(args.file if len(args.file) > 1 else args.file[0], args.geometry, args.curvature)
    loaded = time.perf_counter()
    proj = project_set(es, args.method, specificity=args.specificity, root=args.root, seed=args.seed,
                       progress=_progress_line if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    q = quality(es.points, proj, sample=args.sample, seed=args.seed)
    np.savez(args.out, disk=proj.disk, depth=proj.depth, method=proj.method, geometry=proj.geometry,
             curvature=proj.curvature, depth_name=proj.depth_name)
    info = {"path": str(args.out), "n": len(es), "dim": es.dim, "geometry": es.geometry,
            "curvature": proj.curvature, "method": proj.method, "depth": proj.depth_name,
            "radius_spearman": q["radius_spearman"], "trustworthiness": q["trustworthiness"], "k": q["k"],
            "distortion": q["distortion"], "sample": q["sample"], "seconds_load": loaded - start,
            "seconds_project": proj.seconds, "seconds_quality": q["seconds"], "notes": proj.notes}
    if args.json:
        print(json.dumps(info))
    else:
        print(f"{args.out}: {len(es):,} points ({es.geometry}) → disk by {proj.method} in {proj.seconds:.3f} s")
        print(f"radius Spearman {q['radius_spearman']:.4f}, trustworthiness@{q['k']} {q['trustworthiness']:.4f}, "
              f"mean relative distortion {q['distortion']:.4f} (sample {q['sample']})")
    return 0
