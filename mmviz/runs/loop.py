"""The training process: :func:`train_run` trains the run a store holds, start to finish.

AdamW with linear warm-up and cosine decay, gradient clipping, in-memory batches whose
order is a pure function of (seed, step), so a resumed run continues exactly where a
checkpoint left it. Evaluation every ``eval_every`` steps on the held-out split; training
metrics every ``log_every`` steps; checkpoints every ``checkpoint_every`` steps, on SIGTERM
and at the end. A NaN/Inf loss, gradient or weight stops the run as ``failed`` and keeps
the last good checkpoint. Under ``torchrun`` every rank trains on its share of the global
batch (DDP); only rank 0 writes to the store.
"""

from __future__ import annotations

import importlib
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mmviz.data.embeddings_io import save_embeddings
from mmviz.data.registry import load, view_renderer
from mmviz.errors import MmvizError
from mmviz.models.registry import build_model, get_model_info
from mmviz.runs import distributed, runner
from mmviz.runs.checkpoint import load_checkpoint, save_checkpoint
from mmviz.runs.devices import pick_device
from mmviz.runs.distributed import DistInfo
from mmviz.runs.evaluate import evaluate, export_embeddings, prepare_eval_set
from mmviz.runs.files import EMBEDDINGS_FILE
from mmviz.runs.lineage import load_parent_weights
from mmviz.runs.store import RunStore
from mmviz.runs.train_config import TrainParams, resolve_config, resolve_stored_config, train_params

ONE_PROCESS = DistInfo()
"""A run on one process (no torchrun)."""

Progress = Callable[[int, int, dict[str, float]], None]
"""Called as ``progress(step, total_steps, latest_values)`` at every log and eval step."""


RENDER_STREAM = 0x7E5
"""Part of the seed of the random stream that draws fresh training views (apart from batch order)."""


class TrainingFailed(Exception):
    """Training cannot go on; the message is what the run's ``error`` says."""


# --- schedule and data order ---------------------------------------------------------------

def lr_at(step: int, params: TrainParams) -> float:
    """Learning rate for optimiser step ``step`` (0-based): linear warm-up from lr/warmup to
    lr over ``warmup_steps`` (at most half the steps), then cosine decay to 0 at ``steps``."""
    warmup = min(params.warmup_steps, params.steps // 2)  # always leave half the run to decay
    if step < warmup:
        return params.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, params.steps - warmup)
    return params.lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@lru_cache(maxsize=4)
def _epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


def batch_indices(n: int, batch_size: int, seed: int, step: int) -> np.ndarray:
    """Sample indices of the global batch of step ``step``: (batch_size,) int64.

    Epoch e is the permutation drawn from (seed, e), cut into ``n // batch_size`` batches
    (the remainder is skipped), so any step's batch is known without replaying earlier ones.
    """
    per_epoch = n // batch_size
    epoch, position = divmod(step, per_epoch)
    return _epoch_order(n, seed, epoch)[position * batch_size:(position + 1) * batch_size]


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: weight decay on matrices and kernels only, not on biases, norm gains
    or learned scalars (temperature, curvature, α)."""
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.ndim >= 2 else no_decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def cpu_threads(requested: int, other_trainers: int) -> int:
    """Threads for training on the CPU: ``requested`` if > 0, else every core unless other
    trainers or the load average say the cores are taken, then 1.

    Two-thread OpenMP kernels wait for both threads at every op; on cores shared with other
    busy processes that wait dominates (measured: 230 vs 790 images/s at load 6 on 2 cores).
    """
    if requested > 0:
        return requested
    cores = torch.get_num_threads()
    if other_trainers > 0 or os.getloadavg()[0] > cores - 0.5:
        return 1
    return cores


def weights_finite(model: nn.Module) -> bool:
    """Whether every parameter is finite (one device sync)."""
    flags = [torch.isfinite(p).all() for p in model.parameters()]
    return bool(torch.stack(flags).all()) if flags else True


# --- the trainer ---------------------------------------------------------------------------

class Trainer:
    """One training process for one run (one rank under torchrun)."""

    def __init__(self, store: RunStore, run_id: str, config: dict[str, Any], device: torch.device,
                 info: DistInfo = ONE_PROCESS, progress: Progress | None = None,
                 stop: threading.Event | None = None) -> None:
        self.store, self.run_id, self.config = store, run_id, config
        self.params = train_params(config)
        self.device, self.info, self.progress = device, info, progress
        self.stop = stop if stop is not None else threading.Event()
        self.step = 0
        self.last_checkpoint: int | None = None
        self.latest: dict[str, float] = {}
        self.run_dir = store.run_dir(run_id)

    # --- setup ---------------------------------------------------------------------------

    def _load_data(self) -> None:
        name, data_params = self.config["dataset"], self.config["dataset_params"]
        self.train_data = load(name, "train", **data_params)
        # the modalities a step hands the model: the pair, or more for models that align more
        self.aligned = tuple(self.train_data.modalities)[:get_model_info(self.config["model"]).modalities]
        n, batch = len(self.train_data), self.params.batch_size
        if batch > n:
            raise TrainingFailed(f"batch size {batch} is larger than the training set ({n} pairs)")
        if batch % self.info.world_size:
            raise TrainingFailed(f"batch size {batch} does not split over {self.info.world_size} processes")
        tensors = self.train_data.torch_dataset().tensors
        on_device = self.device.type != "cpu"  # copy once: indexing on the GPU beats a copy per step
        self.train_tensors = [tensors[m].to(self.device) if on_device else tensors[m] for m in self.aligned]
        self.eval_set = None
        if self.info.is_main:
            self.eval_set = prepare_eval_set(load(name, "test", **data_params), self.params.eval_size)

    def _build(self) -> None:
        torch.manual_seed(self.params.seed)
        self.model = build_model(self.config["model"], self.train_data,
                                 **self.config["model_params"]).to(self.device)
        self.model.see_training_data(self.train_tensors)
        # CLIP's AdamW settings: β2 = 0.98 and eps = 1e-6 keep updates bounded when a
        # gradient's second moment is tiny (the learned scalars), where eps = 1e-8 spikes.
        self.optimizer = torch.optim.AdamW(parameter_groups(self.model, self.params.weight_decay),
                                           lr=self.params.lr, betas=(0.9, 0.98), eps=1e-6)
        self.start_step = 0
        if self.config.get("parent"):
            load_parent_weights(self.model, self.store, self.config["parent"])
        if self.config.get("resume"):
            loaded = load_checkpoint(self.run_dir, device=self.device)
            if loaded is not None:
                state, meta = loaded
                self.model.load_state_dict(state)
                self.optimizer.load_state_dict(meta["optimizer"])
                self.start_step = self.last_checkpoint = int(meta["step"])
            if self.info.is_main:
                self.store.truncate_metrics(self.run_id, self.start_step)
        self._fresh_views = getattr(self.model, "rendered_views", 0)
        self._render_views = view_renderer(self.config["dataset"]) if self._fresh_views else None
        self.forward_model: nn.Module = self.model
        if self.info.enabled:
            self.model.gather = distributed.gather_with_grad
            if self.device.type == "cuda":
                # BatchNorm (the CoMM models' CNNs) over the global batch, as on one process;
                # SyncBatchNorm needs CUDA, so on CPU ranks each normalises its own share
                self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.forward_model = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        use_amp = self.params.amp and self.device.type == "cuda"
        self.autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext

    # --- steps ---------------------------------------------------------------------------

    def _batch(self, step: int) -> list[torch.Tensor]:
        """This rank's share of step ``step``'s global batch, one tensor per modality: the stored
        items, or (B, V, ...) fresh renders of them when the model asks for V rendered views and
        the dataset can draw them (rendered on the CPU, a function of seed, step and rank)."""
        idx = batch_indices(len(self.train_data), self.params.batch_size, self.params.seed, step)
        share = self.params.batch_size // self.info.world_size
        idx = idx[self.info.rank * share:(self.info.rank + 1) * share]
        if self._render_views is not None:
            rng = np.random.default_rng([self.params.seed, step, self.info.rank, RENDER_STREAM])
            fresh = self._render_views(self.train_data, idx, self._fresh_views, rng)
            return [torch.from_numpy(fresh[m]).to(self.device) for m in self.aligned]
        idx = torch.as_tensor(idx)
        if self.device.type != "cpu":
            idx = idx.to(self.device)
        return [t[idx] for t in self.train_tensors]

    def _step(self, step: int) -> dict[str, float]:
        """One optimiser step; returns the loss terms, lr and gradient norm."""
        lr = lr_at(step, self.params)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with self.autocast():
            out = self._loss(*self._batch(step))
        loss = out["loss"]
        values = {f"train/{k}": float(v.detach()) for k, v in out.items()}
        if distributed.agree_flags([not math.isfinite(values["train/loss"])], self.device)[0]:
            raise TrainingFailed(self._nan_message("loss", step, lr))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip = self.params.grad_clip if self.params.grad_clip > 0 else float("inf")
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip))
        if not math.isfinite(grad_norm):
            raise TrainingFailed(self._nan_message("the gradient", step, lr))
        self.optimizer.step()
        self.model.constrain_()
        values.update({"train/lr": lr, "train/grad_norm": grad_norm})
        return values

    def _loss(self, *batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """The step's loss terms for a batch, one tensor per aligned modality (``loss`` is
        optimised): the model's own."""
        return self.forward_model(*batch)

    def _nan_message(self, what: str, step: int, lr: float) -> str:
        kept = (f"last good checkpoint kept at step {self.last_checkpoint}" if self.last_checkpoint is not None
                else "no checkpoint was written before it")
        return f"{what} became NaN/Inf at step {step + 1} (lr={lr:.3g}); {kept}"

    # --- bookkeeping ---------------------------------------------------------------------

    def _log(self, step: int, values: dict[str, float]) -> None:
        self.latest.update(values)
        if self.info.is_main:
            self.store.log_metrics(self.run_id, step, values)
        if self.progress is not None and self.info.is_main:
            self.progress(step, self.params.steps, dict(self.latest))

    def _evaluate(self, step: int) -> None:
        if self.info.is_main:
            values = evaluate(self.model, self.eval_set, self.device, self.params.batch_size)
            self._log(step, {f"eval/{k}": v for k, v in values.items()})
        distributed.barrier()

    def _checkpoint(self, step: int) -> None:
        if not weights_finite(self.model):
            raise TrainingFailed(self._nan_message("a weight", step - 1, lr_at(step - 1, self.params)))
        if self.info.is_main:
            meta = {"step": step, "optimizer": self.optimizer.state_dict(),
                    "model": self.config["model"], "dataset": self.config["dataset"]}
            save_checkpoint(self.run_dir, self.model.state_dict(), meta)
        self.last_checkpoint = step
        distributed.barrier()

    def _export(self) -> None:
        if self.info.is_main:
            save_embeddings(self.run_dir / EMBEDDINGS_FILE, export_embeddings(self.model, self.eval_set, self.device))

    def _stop_flag(self, step: int) -> bool:
        """SIGTERM here, or a stop requested through the store (checked at log steps), on any rank."""
        requested = self.stop.is_set()
        if not requested and self.info.is_main and step % self.params.log_every == 0:
            requested = bool(self.store.get_run(self.run_id).get("stop_requested"))
        return distributed.agree_flags([requested], self.device)[0]

    # --- re-evaluation of a saved run (the gallery's verify) ------------------------------

    @classmethod
    def evaluate_checkpoint(cls, config: dict[str, Any], run_dir: Path,
                            device: torch.device | str = "cpu") -> tuple[dict[str, float], Any]:
        """The final held-out metrics (names without ``eval/``) and exported embeddings of the
        checkpoint in ``run_dir``, recomputed from scratch. Trainers of other kinds of model
        override this with their own evaluation."""

        config = resolve_config(config)
        device = torch.device(device)
        model = model_from_checkpoint(config, run_dir, device)
        eval_set = prepare_eval_set(load(config["dataset"], "test", **config["dataset_params"]),
                                    config["eval_size"])
        torch.manual_seed(config["seed"])
        metrics = evaluate(model, eval_set, device, config["batch_size"])
        return metrics, export_embeddings(model, eval_set, device)

    # --- the loop ------------------------------------------------------------------------

    def fit(self) -> str:
        """Train from the start (or the checkpoint) to ``steps``; returns the final status."""
        self._load_data()
        self._build()
        p = self.params
        step = self.step = self.start_step
        window_start, window_steps = time.perf_counter(), 0
        while step < p.steps:
            values = self._step(step)
            step = self.step = step + 1
            window_steps += 1
            if step % p.log_every == 0 or step == p.steps:
                if not weights_finite(self.model):
                    raise TrainingFailed(self._nan_message("a weight", step - 1, values["train/lr"]))
                elapsed = time.perf_counter() - window_start
                rate = window_steps / elapsed if elapsed > 0 else float("nan")
                self._log(step, {**values, **self.model.scalars(), "steps_per_s": rate,
                                 "samples_per_s": rate * p.batch_size, "threads": torch.get_num_threads()})
                window_start, window_steps = time.perf_counter(), 0
            paused = time.perf_counter()
            if step % p.eval_every == 0 and step < p.steps:
                self._evaluate(step)
            if step < p.steps and self._stop_flag(step):
                self._checkpoint(step)
                return "stopped"
            if step % p.checkpoint_every == 0 and step < p.steps:
                self._checkpoint(step)
            window_start += time.perf_counter() - paused  # steps/s counts training time only
        if self.start_step < p.steps or self.last_checkpoint != p.steps:
            self._evaluate(p.steps)
            self._checkpoint(p.steps)
        self._export()
        return "finished"


# --- entry point ---------------------------------------------------------------------------

def train_run(store: RunStore, run_id: str, *, progress: Progress | None = None) -> str:
    """Train run ``run_id`` of ``store``; returns its final status.

    Sets the run ``running`` (pid, device, start time), trains, and ends it ``finished``,
    ``stopped`` (SIGTERM/SIGINT or a stop request: the current step completes and is
    checkpointed) or ``failed`` (the error is one readable line; the traceback goes to
    stderr, i.e. the run's log.txt). Under torchrun every rank calls this; rank 0 writes.
    Finally asks the runner to start the next queued run.
    """
    info = distributed.env_info()
    trainer: Trainer | None = None
    status, error = "failed", None
    stop = threading.Event()
    restore = _install_stop_handlers(stop.set)
    threads_before = torch.get_num_threads()
    try:
        config = resolve_stored_config(store.get_run(run_id)["config"])
        device = pick_device(config["device"])
        if info.enabled and device.type == "cuda":
            device = torch.device("cuda", info.local_rank)
        distributed.setup(info, device)
        if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:  # torchrun sets it
            others = [r for r in store.list_runs("running") if r["id"] != run_id]
            torch.set_num_threads(cpu_threads(config["threads"], len(others)))
        if info.is_main:
            store.update_run(run_id, status="running", pid=os.getpid(), device=str(device),
                             started=time.time(), error=None, finished=None)

        trainer = trainer_for(config)(store, run_id, config, device, info, progress, stop)
        status = trainer.fit()
    except (TrainingFailed, MmvizError) as err:
        error = str(err)
    except Exception as err:  # noqa: BLE001 - any crash ends the run as failed, with one line
        traceback.print_exc(file=sys.stderr)
        error = f"{type(err).__name__}: {err}".splitlines()[0]
    finally:
        restore()
        torch.set_num_threads(threads_before)  # an in-process caller gets its setting back
    if info.is_main:
        fields: dict[str, Any] = {"status": status, "finished": time.time(), "error": error}
        if trainer is not None and trainer.step:
            fields["step"] = trainer.step
        store.update_run(run_id, **fields)
        if error:
            print(f"error: {error}", file=sys.stderr)
        _start_next(store)
    distributed.cleanup()
    return status


UNLEARN_TRAINER = "mmviz.runs.unlearn:UnlearnTrainer"
"""The trainer of unlearning runs, by name (it subclasses :class:`Trainer`, so it imports this module)."""


def trainer_for(config: dict[str, Any]) -> type[Trainer]:
    """The trainer class of a config: the unlearning trainer for an ``unlearn`` section, else the
    model's own trainer, else :class:`Trainer`."""
    if config.get("unlearn"):
        module, _, attr = UNLEARN_TRAINER.partition(":")
        return getattr(importlib.import_module(module), attr)
    return get_model_info(config["model"]).trainer_class() or Trainer


def _install_stop_handlers(on_stop: Callable[[], None]) -> Callable[[], None]:
    """SIGTERM and SIGINT call ``on_stop`` (the loop finishes its step); returns the undo.
    Signal handlers can only be set from the main thread: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: on_stop())

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def _start_next(store: RunStore) -> None:
    """Let the runner start the oldest queued run now that this one is done."""
    try:
        runner.start_queued(store=store)
    except Exception as err:  # noqa: BLE001 - a runner problem must not change this run's status
        print(f"warning: could not start queued runs: {err}", file=sys.stderr)


# --- trained models --------------------------------------------------------------------------

def load_run_model(store: RunStore, run_id: str, device: torch.device | str = "cpu"):
    """The model of a run with its last checkpoint's weights, and the run's resolved config.

    Returns ``(model, config)``; MmvizError if the run has no checkpoint yet.
    """
    config = resolve_stored_config(store.get_run(run_id)["config"])
    if load_checkpoint(store.run_dir(run_id), device=device, weights_only=True) is None:
        raise MmvizError(f"run '{run_id}' has no checkpoint yet")
    return model_from_checkpoint(config, store.run_dir(run_id), device), config


def model_from_checkpoint(config: dict[str, Any], run_dir: Path, device: torch.device | str = "cpu"):
    """The model of a resolved ``config`` with the weights in ``run_dir``, in eval mode."""
    loaded = load_checkpoint(run_dir, device=device, weights_only=True)
    if loaded is None:
        raise MmvizError(f"no checkpoint in {run_dir}")
    # The held-out split has the same modalities (shapes, vocabulary) and is much smaller.
    test = load(config["dataset"], "test", **config["dataset_params"])
    model = build_model(config["model"], test, **config["model_params"]).to(device)
    model.load_state_dict(loaded[0])
    return model.eval()
