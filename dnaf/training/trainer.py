"""``dnaf train``: accelerate training loop with resume, EMA, checkpoints, logs and grids.

Steps count optimiser updates. Re-running the same command resumes from the newest complete
checkpoint in ``out/checkpoints``; the result then equals an uninterrupted run with the same seed
(the data order, augmentations and random states are all restored). A checkpoint goes on on
another process count with the same global batch (dnaf.training.order), and SIGTERM or SIGUSR1
stop the run after its current step with a checkpoint (dnaf.training.stopping).
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import DistributedDataParallelKwargs, InitProcessGroupKwargs, send_to_device, set_seed
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from PIL import Image
from tqdm import tqdm

from dnaf.core.device import has_cuda
from dnaf.core.errors import DataError, UsageError
from dnaf.data.index import DatasetIndex
from dnaf.io.atomic import atomic_write
from dnaf.io.grid import image_grid
from dnaf.io.tensors import to_uint8
from dnaf.models.build import build_tiny, load_pretrained
from dnaf.models.dnaf_model import DNAFModel
from dnaf.pairs.dataset import PairDataset, ordered_pairs
from dnaf.pipeline import DNAFPipeline, Guidance, make_sampler
from dnaf.pose.cache import SkeletonCache
from dnaf.training import checkpoints, history
from dnaf.training.checkpoints import Progress
from dnaf.training.config import TrainSetup
from dnaf.training.latents import LatentCache
from dnaf.training.order import GlobalOrder, elastic_accumulation
from dnaf.training.plots import plot_loss, write_log_csv
from dnaf.training.step import DiffusionLoss
from dnaf.training.stopping import StopRequest, TrainingStopped
from dnaf.training.streams import RandomStreams

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainPaths:
    """Where training reads and writes; everything is derived from ``out``."""

    index: Path
    root: Path
    poses: Path
    out: Path
    resume_from: Path | None = None
    """A checkpoint folder (of this run or another) to start from when ``out`` has none."""

    @property
    def model(self) -> Path:
        return self.out / "model"

    @property
    def checkpoints(self) -> Path:
        return self.out / "checkpoints"

    @property
    def log(self) -> Path:
        return self.out / "train_log.jsonl"

    @property
    def starts(self) -> Path:
        return self.out / "starts.jsonl"

    def write_log_views(self) -> None:
        """loss.png and train_log.csv (for `dvc plots`) from the log as it stands."""
        plot_loss(self.log, self.out / "loss.png")
        write_log_csv(self.log, self.out / "train_log.csv")


def build_model(setup: TrainSetup) -> tuple[DNAFModel, object]:
    if setup.model.base == "tiny":
        return build_tiny(setup.model, setup.resolution, seed=setup.train.seed)
    return load_pretrained(setup.model)


class Trainer:
    def __init__(self, setup: TrainSetup, paths: TrainPaths) -> None:
        self.setup, self.paths = setup, paths
        self.dataset_config = setup.dataset
        self.train_config = tc = setup.train
        if tc.threads:
            torch.set_num_threads(tc.threads)
        self.resolution = setup.resolution
        self.accelerator = Accelerator(
            cpu=not has_cuda(),  # without it, ranks on a CPU machine never join (gloo)
            mixed_precision=tc.mixed_precision,
            gradient_accumulation_steps=tc.gradient_accumulation,
            kwargs_handlers=[
                DistributedDataParallelKwargs(find_unused_parameters=True),
                # a process that died or hangs ends the others' wait at a collective after this long
                InitProcessGroupKwargs(timeout=timedelta(seconds=tc.collective_timeout)),
            ],
        )
        set_seed(tc.seed)  # the same initial weights on every process
        self.model, scheduler = build_model(setup)
        # then each process its own timesteps, noises and dropout masks (seed + process index;
        # one process: seed): with one seed everywhere, N ranks would train on N copies of one
        # batch's randomness. Checkpoints keep each slot's stream (dnaf.training.streams), so a
        # resume stays bit-exact.
        set_seed(tc.seed, device_specific=True)
        # a new scheduler, not register_to_config: from_config copies ignore the latter
        self.scheduler = type(scheduler).from_config(scheduler.config, prediction_type=tc.prediction_type)
        if tc.gradient_checkpointing:
            self.model.unet.enable_gradient_checkpointing()
        self._cast_frozen_parts()
        self.parameters = [p for module in self.model.trainable_modules() for p in module.parameters()]
        self.index = DatasetIndex.load(paths.index)
        skeletons = SkeletonCache(self.index, paths.poses, self.dataset_config.skeleton_size)
        pairs = ordered_pairs(self.index, "train", tc.both_directions)
        self.dataset = PairDataset(self.index, paths.root, skeletons, pairs, self.resolution, tc.hflip, tc.seed)
        self.validation = PairDataset(
            self.index, paths.root, skeletons, ordered_pairs(self.index, "test", False)[: tc.validation_pairs],
            self.resolution,
        )  # fmt: skip

    def _cast_frozen_parts(self) -> None:
        """Frozen parts run in the mixed-precision dtype; trainable ones stay float32."""
        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(self.train_config.mixed_precision)
        if dtype is None:
            return
        for module in self.model.frozen_modules():
            module.to(dtype)

    # -- the loop -----------------------------------------------------------------------------
    def run(self, stop: StopRequest | None = None) -> Path:
        """Train to max_steps; -> the model folder. ``stop``: an active StopRequest of the caller
        (else the run catches the stop signals while it trains)."""
        with ExitStack() as stack:
            return self._run(stop or stack.enter_context(StopRequest()))

    def _run(self, stop: StopRequest) -> Path:
        tc, accelerator = self.train_config, self.accelerator
        optimizer = torch.optim.AdamW(self.parameters, lr=tc.learning_rate, weight_decay=tc.weight_decay)
        # stepped once per optimizer step here (accelerate's wrapper would step it once per
        # process, which ties its state to the process count)
        lr_scheduler = get_scheduler(
            tc.lr_schedule, optimizer, num_warmup_steps=tc.warmup_steps, num_training_steps=tc.max_steps
        )
        ema = EMAModel(self.parameters, decay=tc.ema_decay) if tc.ema_decay else None
        self.model.train()  # the trainable modules; the frozen ones stay in eval mode
        loss_module = DiffusionLoss(self.model, self.scheduler, tc)
        loss_module, optimizer = accelerator.prepare(loss_module, optimizer)
        self.model.to(accelerator.device)
        if ema is not None:
            ema.to(accelerator.device)
        latents = LatentCache.prepare(self, accelerator) if tc.cache_latents else None

        progress = self._resume(optimizer, lr_scheduler, ema)
        layout = progress.layout
        accelerator.gradient_accumulation_steps = layout.accumulation
        if layout.steps_per_epoch(len(self.dataset)) == 0:
            raise DataError(
                f"{self.paths.index / 'pairs.csv'}: {len(self.dataset)} training pairs, fewer than one step's "
                f"{layout.global_batch} (train.batch_size x processes x gradient_accumulation)"
            )
        order = GlobalOrder(len(self.dataset), tc.seed, layout, accelerator.process_index)
        # its own generator: making an iterator must not draw from the random state checkpoints keep
        loader = torch.utils.data.DataLoader(
            self.dataset, batch_sampler=order, num_workers=tc.num_workers,
            generator=torch.Generator().manual_seed(tc.seed),
        )  # fmt: skip
        step, epoch, position = progress.step, progress.epoch, progress.position
        history.record_start(self.paths.starts, accelerator, step, epoch, layout.accumulation)
        bar = tqdm(total=tc.max_steps, initial=step, desc="training", disable=not accelerator.is_local_main_process)
        started, seen, forward = time.perf_counter(), 0, 0
        losses: list[torch.Tensor] = []
        while step < tc.max_steps:
            self.dataset.set_epoch(epoch)
            order.start(epoch, position)
            for batch in loader:
                batch = send_to_device(batch, accelerator.device)
                with self.streams.use(forward), accelerator.accumulate(loss_module):
                    cached = latents.lookup(batch, accelerator.device) if latents is not None else None
                    loss = loss_module(batch, cached)
                    accelerator.backward(loss)
                    if accelerator.sync_gradients:
                        accelerator.clip_grad_norm_(self.parameters, tc.max_grad_norm)
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
                losses.append(loss.detach())  # gathered at log time, not synchronised every batch
                seen += batch["source"].shape[0] * layout.processes
                position += layout.forward_pairs
                forward = (forward + 1) % layout.accumulation
                if not accelerator.sync_gradients:
                    continue
                if not optimizer.step_was_skipped:  # fp16's scaler skips steps with inf gradients
                    lr_scheduler.step()
                step += 1
                bar.update(1)
                if ema is not None:
                    ema.step(self.parameters)
                if step % tc.log_every == 0 or step == tc.max_steps:
                    rate = seen / (time.perf_counter() - started)
                    mean_loss = accelerator.gather(torch.stack(losses)).mean().item()
                    self._log(step, epoch, mean_loss, lr_scheduler.get_last_lr()[0], rate)
                    losses, seen, started = [], 0, time.perf_counter()
                if step % tc.validate_every == 0 or step == tc.max_steps:
                    self._validate(step, ema)
                stopping = self._stop_agreed(stop) and step < tc.max_steps
                if step % tc.checkpoint_every == 0 or step == tc.max_steps or stopping:
                    done = Progress(step, epoch, position, layout.processes, layout.batch_size, layout.accumulation)
                    self._checkpoint(done, optimizer, lr_scheduler, ema)
                if stopping:
                    bar.close()
                    by = stop.received.name if stop.received else "a signal to another process"
                    history.record_end(self.paths.starts, accelerator, step, by)
                    raise TrainingStopped(
                        f"stopped on {by} after step {step} of {tc.max_steps} with a checkpoint in "
                        f"{self.paths.checkpoints}: run the same command again to resume"
                    )
                if step >= tc.max_steps:
                    break
            epoch, position = epoch + 1, 0
        bar.close()
        self._finish(ema)
        history.record_end(self.paths.starts, accelerator, step, None)
        return self.paths.model

    def _stop_agreed(self, stop: StopRequest) -> bool:
        """Whether any process received a stop signal: all of them stop after the same step (one
        small all-reduce per step; a signal reaches the processes of a job at different times)."""
        if self.accelerator.num_processes == 1:
            return stop.received is not None
        if stop.received is not None:
            self.accelerator.set_trigger()
        return self.accelerator.check_trigger()

    # -- pieces ---------------------------------------------------------------------------------
    def _log(self, step: int, epoch: int, loss: float, lr: float, rate: float) -> None:
        if not self.accelerator.is_main_process:
            return
        record = {"step": step, "epoch": epoch, "loss": loss, "lr": lr, "samples_per_s": rate}
        with self.paths.log.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        logger.info("step %d: loss %.4f, lr %.2e, %.1f samples/s", step, loss, lr, rate)

    def _checkpoint(self, progress: Progress, optimizer, lr_scheduler, ema) -> None:
        accelerator, directory = self.accelerator, self.paths.checkpoints
        staging = checkpoints.staging_folder(directory, progress.step)
        if accelerator.is_main_process:
            staging.mkdir(parents=True, exist_ok=True)
        accelerator.wait_for_everyone()
        self.streams.save(staging)
        if accelerator.is_main_process:
            checkpoints.save_state_dict(checkpoints.trainable_weights(self.model), staging / "trainable")
            checkpoints.save_state_dict(optimizer.state_dict(), staging / "optimizer")
            checkpoints.save_state_dict(lr_scheduler.state_dict(), staging / "lr_scheduler")
            if ema is not None:
                checkpoints.save_state_dict(ema.state_dict(), staging / "ema")
            if accelerator.scaler is not None:
                checkpoints.save_state_dict(accelerator.scaler.state_dict(), staging / "grad_scaler")
            progress.save(staging)
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            final = checkpoints.publish(directory, progress.step, self.train_config.keep_checkpoints)
            self.paths.write_log_views()
            logger.info("checkpoint %s", final)
        accelerator.wait_for_everyone()

    def _resume(self, optimizer, lr_scheduler, ema) -> Progress:
        """Load the newest checkpoint into the run and say where it stood; a new run's progress
        when there is none. Sets up the random streams for the layout the run goes on with."""
        tc, accelerator = self.train_config, self.accelerator
        available = checkpoints.list_checkpoints(self.paths.checkpoints)
        if accelerator.is_main_process:  # the config of this (possibly resumed) run
            self.paths.out.mkdir(parents=True, exist_ok=True)
            with atomic_write(self.paths.out / "config.resolved.yaml") as handle:
                handle.write(self.setup.resolved_config)
        if available and self.paths.resume_from is not None:
            logger.warning("%s has checkpoints: resuming from its newest, not from %s", self.paths.checkpoints,
                           self.paths.resume_from)  # fmt: skip
        if not available and self.paths.resume_from is not None:
            if not (self.paths.resume_from / "progress.json").is_file():
                raise UsageError(f"{self.paths.resume_from} is not a complete checkpoint (no progress.json)")
            available = [self.paths.resume_from]
        processes, index = accelerator.num_processes, accelerator.process_index
        if not available:
            if accelerator.is_main_process:
                self.paths.log.unlink(missing_ok=True)
            progress = Progress(0, 0, 0, processes, tc.batch_size, tc.gradient_accumulation)
            self.streams = RandomStreams(progress.layout, index)
            self.streams.start(tc.seed)
            return progress
        latest = available[-1]
        saved = Progress.load(latest)
        accumulation = elastic_accumulation(saved.layout.global_batch, tc.batch_size, processes, latest)
        if (processes, tc.batch_size) != (saved.processes, saved.batch_size):
            logger.warning(
                "%s was written by %d process(es) of batch %d with gradient accumulation %d; going on with %d of "
                "batch %d and accumulation %d (the same %d pairs per step)",
                *(latest, saved.processes, saved.batch_size, saved.gradient_accumulation),
                *(processes, tc.batch_size, accumulation, saved.layout.global_batch),
            )
        progress = Progress(saved.step, saved.epoch, saved.position, processes, tc.batch_size, accumulation)
        checkpoints.load_trainable(latest, self.model)
        optimizer.load_state_dict(checkpoints.load_state_dict(latest / "optimizer"))
        lr_scheduler.load_state_dict(checkpoints.load_state_dict(latest / "lr_scheduler"))
        if ema is not None:
            ema.load_state_dict(checkpoints.load_state_dict(latest / "ema"))
        if accelerator.scaler is not None and (latest / "grad_scaler.json").is_file():
            accelerator.scaler.load_state_dict(checkpoints.load_state_dict(latest / "grad_scaler"))
        self.streams = RandomStreams(progress.layout, index)
        self.streams.load(latest, tc.seed, saved.step)
        if accelerator.is_main_process:  # drop log lines written after the checkpoint
            lines = self.paths.log.read_text().splitlines() if self.paths.log.exists() else []
            kept = [line for line in lines if json.loads(line)["step"] <= saved.step]
            with atomic_write(self.paths.log) as handle:
                handle.write("".join(line + "\n" for line in kept))
        logger.info("resumed from %s (step %d, epoch %d, %d pairs into it)", latest, saved.step, saved.epoch,
                    saved.position)  # fmt: skip
        return progress

    @torch.no_grad()
    def _validate(self, step: int, ema) -> None:
        if not self.accelerator.is_main_process or len(self.validation) == 0:
            return
        if ema is not None:
            ema.store(self.parameters)
            ema.copy_to(self.parameters)
        items = [self.validation[i] for i in range(len(self.validation))]
        device = self.accelerator.device
        sources = torch.stack([item["source"] for item in items]).to(device)
        skeletons = torch.stack([item["skeleton"] for item in items]).to(device)
        generators = [torch.Generator(device).manual_seed(i) for i in range(len(items))]
        pipeline = DNAFPipeline.from_model(
            self.model.eval(), make_sampler("ddim", self.scheduler, self.model.config.space), self.resolution
        )
        pipeline.set_progress_bar_config(disable=True)
        with self.accelerator.autocast():
            steps = self.train_config.validation_steps
            generated = pipeline(
                sources, skeletons, steps, Guidance("none"), generators,
                source_pose=torch.stack([item["source_skeleton"] for item in items]).to(device),
            ).images  # fmt: skip
        self.model.train()
        if ema is not None:
            ema.restore(self.parameters)
        columns = (
            to_uint8(skeletons * 2 - 1),
            to_uint8(sources),
            to_uint8(torch.stack([i["target"] for i in items])),
            [np.asarray(image) for image in generated],
        )
        rows = [list(row) for row in zip(*columns, strict=True)]
        grid = image_grid(rows, ["pose", "source", "target", "generated"])
        path = self.paths.out / "validation" / f"{checkpoints.checkpoint_name(step)}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(grid).save(path)

    def _finish(self, ema) -> None:
        self.accelerator.wait_for_everyone()
        if not self.accelerator.is_main_process:
            return
        if ema is not None:
            ema.copy_to(self.parameters)
        self._published().save_pretrained(self.paths.model)
        self.paths.write_log_views()
        logger.info("saved the trained model (EMA weights) to %s", self.paths.model)

    def _published(self) -> DNAFPipeline:
        """The trained model as a self-contained pipeline, sampling with DDIM. Under mixed precision
        the frozen parts were cast for speed; they are the base's weights, never trained, so they
        are built again at full precision (as the run first built them) instead of saved rounded.
        The injectors' hooks then move to the rebuilt UNet: this comes last in a run."""
        model = self.model
        if any(p.dtype != torch.float32 for module in model.frozen_modules() for p in module.parameters()):
            fresh, _ = build_model(self.setup)
            frozen = {id(module) for module in model.frozen_modules()}
            unet, vae, appearance = (
                again if mine is not None and id(mine) in frozen else mine
                for mine, again in (
                    (model.unet, fresh.unet),
                    (model.vae, fresh.vae),
                    (model.appearance, fresh.appearance),
                )
            )
            model = DNAFModel(model.config, unet, model.adapter, model.prompt, vae, appearance, model.injectors)
        sampler = make_sampler("ddim", self.scheduler, model.config.space)
        return DNAFPipeline.from_model(model, sampler, self.resolution, self.setup.dataset.skeleton_size)
