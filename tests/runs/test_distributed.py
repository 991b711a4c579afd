"""Data-parallel training: two gloo processes on the CPU compute the same first-step loss and
gradients as one process on the same global batch (the loss sees all gathered embeddings)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from mmviz.models import build_model
from mmviz.models.encoders import ModalitySpec
from mmviz.runs.distributed import gather_with_grad

INPUTS = (ModalitySpec("image", "image", (3, 16, 16)), ModalitySpec("text", "text", (6,), 12))
SMALL = {"dim": 8, "cnn_widths": "4,8", "text_width": 8}
GLOBAL_BATCH = 8
WORLD = 2


def global_batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    images = torch.randint(0, 256, (GLOBAL_BATCH, 3, 16, 16), dtype=torch.uint8, generator=gen)
    tokens = torch.randint(1, 12, (GLOBAL_BATCH, 6), generator=gen)
    tokens[:, 4:] = 0
    return images, tokens


def first_step(model_name: str, rank: int | None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Loss and gradients of one step: the whole batch (rank None) or rank's half under DDP."""
    torch.manual_seed(0)
    model = build_model(model_name, INPUTS, **SMALL)
    images, tokens = global_batch()
    forward = model
    if rank is not None:
        share = GLOBAL_BATCH // WORLD
        images, tokens = images[rank * share:(rank + 1) * share], tokens[rank * share:(rank + 1) * share]
        model.gather = gather_with_grad
        forward = torch.nn.parallel.DistributedDataParallel(model)
    loss = forward(images, tokens)["loss"]
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.grad is not None}
    return loss.detach(), grads


def _worker(rank: int, port: int, out_dir: str, models: list[str]) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        for name in models:
            loss, grads = first_step(name, rank)
            save_file({"loss": loss.reshape(1), **grads}, str(Path(out_dir) / f"{name}-{rank}.safetensors"))
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_processes_match_one_process_on_the_global_batch(tmp_path: Path):
    models = ["clip", "meru", "meru-poincare"]
    mp.spawn(_worker, args=(free_port(), str(tmp_path), models), nprocs=WORLD, join=True)
    for name in models:
        loss, grads = first_step(name, None)
        ranks = [load_file(str(tmp_path / f"{name}-{r}.safetensors")) for r in range(WORLD)]
        # Each rank's loss covers its own rows against all gathered columns: their mean is the
        # global loss. DDP averages the gradients, so every rank holds the global gradient.
        mean_loss = sum(float(r["loss"]) for r in ranks) / WORLD
        assert mean_loss == pytest.approx(float(loss), rel=1e-5), name
        assert set(grads) == set(ranks[0]) - {"loss"}
        for key, grad in grads.items():
            # float32 sums over 4 + 4 samples instead of 8 round differently: ~1e-6 of the
            # tensor's largest entry (conv kernels sum over every pixel of the batch).
            scale = float(grad.abs().max())
            for r in ranks:
                torch.testing.assert_close(r[key], grad, rtol=1e-4, atol=1e-5 * scale, msg=f"{name} {key}")
        if name != "clip":
            assert float(grads["log_curvature"]) != 0.0  # the curvature's gradient crossed ranks too


@pytest.mark.slow
def test_torchrun_trains_one_run_written_by_rank_0(tmp_path: Path):
    import subprocess
    import sys

    from mmviz.runs.store import RunStore

    home = tmp_path / "home"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
               f"--master_port={free_port()}", "-m", "mmviz", "train", "--dataset", "gaussian",
               "--model", "meru", "--steps", "20", "--batch-size", "64", "--eval-every", "10",
               "--device", "cpu", "--set", "data.n=500", "--set", "data.n_test=100", "--home", str(home), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = RunStore(home).list_runs()
    assert (run["status"], run["step"]) == ("finished", 20)
    metrics = RunStore(home).metrics(run["id"])
    assert not metrics.duplicated(["step", "name"]).any()  # only rank 0 logged
    assert set(metrics.step) == {10, 20}
    assert done.stdout.count('"run_id"') == 1
