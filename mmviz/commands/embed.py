"""``mmviz embed RUN --out FILE``: re-export a run's held-out embeddings from its checkpoint.

The file is an ``.npz`` as written by :func:`mmviz.data.embeddings_io.save_embeddings`
(points, geometry, curvature, metadata), the same as the run's own ``embeddings.npz``.
"""

from __future__ import annotations

import argparse
import json

HELP = "export a trained run's embeddings (held-out pairs and captions) to an .npz file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="run id")
    parser.add_argument("--out", required=True, help="output .npz file")
    parser.add_argument("--split", default="test", choices=("train", "test"), help="which split to embed")
    parser.add_argument("--size", type=int, help="number of pairs (default: the run's eval_size)")
    parser.add_argument("--device", default="cpu", help="cpu (default), auto, cuda, mps")
    parser.add_argument("--home", help="the runs folder (default: $MMVIZ_HOME or ./runs)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from mmviz.data.embeddings_io import save_embeddings, summary
    from mmviz.data.registry import load
    from mmviz.errors import MmvizError
    from mmviz.runs.devices import pick_device
    from mmviz.runs.evaluate import export_embeddings, prepare_eval_set
    from mmviz.runs.loop import load_run_model
    from mmviz.runs.store import RunStore

    if not str(args.out).endswith(".npz"):
        raise MmvizError(f"--out must be an .npz file, got {args.out}")
    if args.size is not None and args.size < 1:
        raise MmvizError(f"--size must be at least 1, got {args.size}")
    device = pick_device(args.device)
    store = RunStore(args.home)
    model, config = load_run_model(store, args.run, device)
    data = load(config["dataset"], args.split, **config["dataset_params"])
    eval_set = prepare_eval_set(data, args.size or config["eval_size"])
    embeddings = export_embeddings(model, eval_set, device)
    path = save_embeddings(args.out, embeddings)
    info = {**summary(embeddings), "path": str(path), "run_id": args.run}
    if args.json:
        print(json.dumps(info))
    else:
        print(f"{path}: {info['n']} points ({info['geometry']}, curvature {info['curvature']:.4g})")
    return 0
