"""Data-parallel training under ``torchrun``: process group set-up, gathering embeddings with
gradients for the contrastive loss, and agreeing on flags across ranks.

One process (no ``WORLD_SIZE`` in the environment, or 1) needs none of this: every helper
then does the single-process thing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits: ``rank`` of ``world_size``, ``local_rank`` on its node."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the only process that writes to the run store."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def env_info() -> DistInfo:
    """Rank, world size and local rank from torchrun's environment variables."""
    return DistInfo(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                    int(os.environ.get("LOCAL_RANK", 0)))


def setup(info: DistInfo, device: torch.device) -> None:
    """Join the process group (nccl on CUDA, gloo otherwise) if there is more than one process."""
    if not info.enabled or dist.is_initialized():
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                            rank=info.rank, world_size=info.world_size)


def cleanup() -> None:
    """Leave the process group (no-op on one process)."""
    if dist.is_initialized():
        dist.destroy_process_group()


# torch 2.13 renamed the tensor collectives (the old names still work, with a warning).
_all_gather_rows = getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor
_reduce_scatter_rows = getattr(dist, "reduce_scatter_single", None) or dist.reduce_scatter_tensor


class _GatherRows(torch.autograd.Function):
    """All-gather along dim 0 whose backward sums every rank's gradient for a block of rows
    and hands it to the rank that owns those rows (a reduce-scatter)."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        out = x.new_empty((dist.get_world_size() * x.shape[0], *x.shape[1:]))
        _all_gather_rows(out, x.contiguous())
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        local = grad.new_empty((grad.shape[0] // dist.get_world_size(), *grad.shape[1:]))
        _reduce_scatter_rows(local, grad.contiguous(), op=dist.ReduceOp.SUM)
        return local


def gather_with_grad(x: Tensor) -> tuple[Tensor, int]:
    """All ranks' x concatenated in rank order, differentiable, and where this rank's rows start.

    x: Tensor of shape (B, D), the same B on every rank → (world · B, D). The backward pass
    sums each rank's gradient with respect to the gathered tensor back onto its owner, so
    with DDP's gradient averaging the update equals that of one process on the global batch.
    """
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return x, 0
    return _GatherRows.apply(x), dist.get_rank() * x.shape[0]


def agree_flags(flags: list[bool], device: torch.device) -> list[bool]:
    """Element-wise OR of several flags over all ranks, in one all-reduce."""
    if not dist.is_initialized():
        return list(flags)
    value = torch.tensor([1.0 if f else 0.0 for f in flags], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in value.tolist()]


def broadcast_object(obj: object, src: int = 0) -> object:
    """Rank ``src``'s Python object on every rank (e.g. the run id rank 0 created)."""
    if not dist.is_initialized():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def barrier() -> None:
    """Wait for every rank (no-op on one process)."""
    if dist.is_initialized():
        dist.barrier()
