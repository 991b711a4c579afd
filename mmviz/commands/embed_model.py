"""``mmviz embed-model``: embed images and texts with a pretrained model (open_clip, or MERU's
released CLIP / MERU checkpoints) into an embeddings file the Explorer and Similarity read.

Results are cached under ``MMVIZ_HOME/cache/pretrained`` by the content hash of the weights,
the inputs and the preprocessing; ``--out`` copies the cached file.
"""

from __future__ import annotations

import argparse
import json

HELP = "embed your images and captions with a pretrained CLIP-family or MERU model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="meru-vit-s|b|l, clip-vit-s|b|l (MERU's releases), hycoclip-vit-s|b, "
                             "open_clip:ARCH (e.g. open_clip:ViT-B-32), or a *-tiny test model")
    parser.add_argument("--weights", default="",
                        help="local checkpoint (.pth/.pt/.bin read weights-only, or .safetensors)")
    parser.add_argument("--pretrained", dest="tag", default="",
                        help="open_clip pretrained tag (downloads into open_clip's cache; needs internet)")
    parser.add_argument("--images", default="", help="folder of images: flat, or one subfolder per class")
    parser.add_argument("--texts", default="",
                        help=".txt (one caption or class name per line) or .csv with a caption column")
    parser.add_argument("--builtin", default="",
                        help="a built-in image set instead: trifeature, trifeature-captions, digits")
    parser.add_argument("--template", dest="templates", action="append", default=[],
                        help="prompt template for class names, e.g. 'a photo of a {}.' (repeat to ensemble)")
    parser.add_argument("--limit", type=int, default=0, help="embed at most this many images (0: all)")
    parser.add_argument("--batch-size", type=int, default=32, help="images or texts per forward pass")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, mps")
    parser.add_argument("--out", default="", help="also copy the embeddings to this .npz file")
    parser.add_argument("--no-cache", action="store_true", help="embed again even if the cache has the result")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--job", default="", help=argparse.SUPPRESS)  # the app's background-job folder


def run(args: argparse.Namespace) -> int:
    import shutil
    from pathlib import Path

    from tqdm import tqdm

    from mmviz.errors import MmvizError
    from mmviz.pretrained.job import EMBEDDINGS, EmbedRequest, embed
    from mmviz.runs.jobs import JobReporter

    if args.out and not str(args.out).endswith(".npz"):
        raise MmvizError(f"--out must be an .npz file, got {args.out}")
    req = EmbedRequest(model=args.model, weights=args.weights, tag=args.tag, images=args.images, texts=args.texts,
                       builtin=args.builtin, templates=tuple(args.templates), limit=args.limit,
                       batch_size=args.batch_size, device=args.device)
    req.check()
    bar = tqdm(total=1, unit="item", disable=bool(args.job) or args.json, dynamic_ncols=True, leave=False)
    try:
        with JobReporter(args.job or None) as reporter:
            def progress(done: int, total: int, stage: str) -> None:
                reporter.progress(done, total, stage)
                if bar.total != total:
                    bar.reset(total=total)
                bar.n = done
                bar.set_description(stage, refresh=False)
                bar.refresh()

            result = embed(req, progress, use_cache=not args.no_cache)
            reporter.finish(str(result.entry), "from the cache" if result.cached else "")
    finally:
        bar.close()  # clears its line, so an error prints on a line of its own
    out = ""
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result.entry / EMBEDDINGS, args.out)
        out = args.out
    info = {**result.info, "entry": str(result.entry), "cached": result.cached, "out": out,
            "n": len(result.es), "geometry": result.es.geometry, "curvature": result.es.curvature}
    if args.json:
        print(json.dumps(info, default=str))
    else:
        where = out or str(result.entry / EMBEDDINGS)
        zs = info.get("zero_shot") or {}
        extra = f"; zero-shot top-1 {zs['top1']:.1f}% on {zs['n']} images" if zs else ""
        skipped = info.get("images_skipped", 0)
        print(f"{where}: {info.get('images_embedded', 0)} images ({skipped} unreadable, skipped), "
              f"{info.get('texts_embedded', 0)} texts; {result.es.geometry}, curvature {result.es.curvature:.4g}"
              f"{' (cached)' if result.cached else ''}{extra}")
    return 0
