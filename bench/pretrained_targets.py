"""Pretrained-model embedding: throughput against the bare library forward pass, 1,000 images
through a ViT-S with the CLI's progress bar, and the peak memory of a ViT-L embedding.

Weights are random (in the released file formats): speed and memory do not depend on their
values, and no test or bench downloads anything. Images are 500 × 375 JPEGs (ImageNet's typical
size) written to a temp folder.

- throughput: ``mmviz``'s job (reading the files, preprocessing, the forward pass, the lift,
  writing the cache entry) against the library's own forward (timm's ViT + MERU's projection
  for meru-vit-s; open_clip's ``encode_image`` for ViT-B/32) on the same preprocessed batches
  already in memory. Both after a warm-up, measured in alternating rounds; best of ``--repeats``.
- progress: ``python -m mmviz embed-model --model meru-vit-s`` on 1,000 images, wall time.
- memory: peak RSS of a process that embeds 64 images and 64 captions with meru-vit-l.

Prints one JSON object. Usage: ``python bench/pretrained_targets.py [--images 256] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

BATCH = 32


def write_images(folder: Path, n: int, seed: int = 0) -> Path:
    """n smooth random 500 × 375 JPEGs (quality 90), like photos to the decoder."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((500, 375), Image.Resampling.BICUBIC)
        img.save(folder / f"img{i:05d}.jpg", quality=90)
    return folder


def random_weights(name: str, folder: Path) -> Path:
    if name.startswith("open_clip:"):
        from mmviz.pretrained.openclip import _open_clip, architecture_of

        torch.manual_seed(0)
        model = _open_clip().create_model(architecture_of(name), pretrained=None, load_weights=False)
        path = folder / f"{architecture_of(name)}.pt"
        torch.save(model.state_dict(), path)
        return path
    from mmviz.pretrained.meru import write_random_checkpoint

    return write_random_checkpoint(name, folder / f"{name}.pth")


def bare_forward_timer(name: str, weights: Path, images: Path):
    """A function timing one pass of the library's own image forward over preprocessed batches
    held in memory (img/s); built once, so each call measures the forward alone."""
    from mmviz.pretrained import inputs
    from mmviz.pretrained.registry import load_pretrained

    model = load_pretrained(name, weights)
    paths = sorted(images.glob("*.jpg"))
    batches = [torch.stack([inputs.pixels(inputs.open_rgb(p), model.preprocess) for p in paths[i:i + BATCH]])
               for i in range(0, len(paths), BATCH)]
    if name.startswith("open_clip:"):
        forward = model.model.encode_image  # open_clip's own
    else:
        def forward(x):  # timm's ViT and MERU's linear projection, no lift
            return model.net.visual_proj(model.net.visual(x))

    def timed() -> float:
        with torch.inference_mode():
            t = time.perf_counter()
            for b in batches:
                forward(b)
            return len(paths) / (time.perf_counter() - t)

    with torch.inference_mode():
        forward(batches[0])  # warm-up
    return timed


def job_timer(name: str, weights: Path, images: Path):
    """A function running the whole job once (no cache): (img/s of the images stage, img/s of
    the whole job excluding the model load)."""
    from mmviz.pretrained.job import EmbedRequest, embed

    req = EmbedRequest(model=name, weights=str(weights), images=str(images), batch_size=BATCH, device="cpu")
    embed(replace(req, limit=BATCH), use_cache=False)  # warm-up

    def timed() -> tuple[float, float]:
        t = time.perf_counter()
        result = embed(req, use_cache=False)
        total = time.perf_counter() - t - result.info["seconds_load"]
        n = result.info["images_embedded"]
        stage = result.info["seconds_images"]
        return n / stage, n / total, result.info["seconds_image_forward"] / stage

    return timed


def throughput(name: str, weights: Path, images: Path, repeats: int) -> dict:
    """Bare forward and the job measured in alternating rounds (so both see the same machine);
    the best round of each."""
    bare_t, job_t = bare_forward_timer(name, weights, images), job_timer(name, weights, images)
    bare, stage, whole, share = [], [], [], []
    for _ in range(repeats):
        bare.append(bare_t())
        s, w, f = job_t()
        stage.append(s)
        whole.append(w)
        share.append(f)
    return {"bare_forward_img_s": round(max(bare), 2), "mmviz_images_stage_img_s": round(max(stage), 2),
            "mmviz_whole_job_img_s": round(max(whole), 2), "ratio_stage": round(max(stage) / max(bare), 3),
            "ratio_whole_job": round(max(whole) / max(bare), 3),
            # Within each job run: the model's share of the images stage (the rest is reading and
            # preprocessing). Immune to the machine's speed drifting between rounds.
            "forward_share_of_stage": round(float(np.median(share)), 3),
            "rounds": {"bare": [round(x, 2) for x in bare], "stage": [round(x, 2) for x in stage]}}


def progress_run(weights: Path, images: Path, env: dict) -> dict:
    """The CLI as a user runs it (progress bar on stderr); wall time includes start-up and load."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mmviz", "embed-model", "--model", "meru-vit-s", "--weights",
                           str(weights), "--images", str(images), "--no-cache"],
                          capture_output=True, env=env)  # bytes: text mode would turn the bar's \r into \n
    wall = time.perf_counter() - t
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(stderr.strip().splitlines()[-1])
    images_done = int(re.search(r": (\d+) images", proc.stdout.decode()).group(1))
    return {"images": images_done, "wall_s": round(wall, 1), "images_per_s_wall": round(images_done / wall, 2),
            "progress_bar_redraws": stderr.count("\r")}


PEAK_SCRIPT = """
import json, resource, sys
from mmviz.pretrained.job import EmbedRequest, embed
r = embed(EmbedRequest(model="meru-vit-l", weights=sys.argv[1], images=sys.argv[2], limit=64, device="cpu",
                       batch_size=32), use_cache=False)
print(json.dumps({"peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "images": r.info["images_embedded"]}))
"""


def peak_memory(tmp: Path, images: Path, env: dict) -> dict:
    weights = random_weights("meru-vit-l", tmp)
    proc = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(weights), str(images)], capture_output=True,
                          text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.strip().splitlines()[-1])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["checkpoint_gib"] = round(weights.stat().st_size / 2**30, 2)
    out["peak_rss_gib"] = round(out["peak_rss_gib"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256, help="images for the throughput runs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=["throughput", "progress", "memory"])
    args = parser.parse_args()
    out: dict = {"torch": torch.__version__, "threads": torch.get_num_threads(), "cuda": torch.cuda.is_available(),
                 "loadavg_before": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = dict(os.environ, MMVIZ_HOME=str(tmp / "home"))
        os.environ["MMVIZ_HOME"] = env["MMVIZ_HOME"]
        images = write_images(tmp / "images", args.images)
        if "throughput" not in args.skip:
            models = (("meru-vit-s", "ViT-S/16 (meru-vit-s)"), ("open_clip:ViT-B-32", "ViT-B/32 (open_clip)"))
            for name, label in models:
                out[label] = throughput(name, random_weights(name, tmp), images, args.repeats)
        if "progress" not in args.skip:
            thousand = write_images(tmp / "thousand", 1000, seed=1)
            out["1000 images, meru-vit-s, CLI"] = progress_run(random_weights("meru-vit-s", tmp), thousand, env)
        if "memory" not in args.skip:
            out["meru-vit-l peak memory"] = peak_memory(tmp, images, env)
    out["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    out["max_rss_bench_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
