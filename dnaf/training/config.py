"""Typed configuration of training (the ``train:`` part of an experiment), and what one training
run is given of the whole configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

from dnaf.core.settings import StrictModel
from dnaf.data.config import DatasetConfig
from dnaf.models.config import ModelConfig


class TrainConfig(StrictModel):
    seed: int = 0
    resolution: tuple[PositiveInt, PositiveInt] | None = None
    """(height, width) the model is trained and samples at; null = the dataset's image_size."""
    batch_size: PositiveInt = 8
    """Pairs per process per forward pass."""
    gradient_accumulation: PositiveInt = 1
    """Forward passes per process per optimiser step. A resume on another process count keeps the
    global batch (batch_size x processes x gradient_accumulation) and sets this to fit."""
    max_steps: PositiveInt = 100_000
    """Optimiser updates (not forward passes)."""
    learning_rate: PositiveFloat = 1e-4
    lr_schedule: Literal["constant", "constant_with_warmup", "cosine", "linear"] = "constant_with_warmup"
    warmup_steps: int = Field(1000, ge=0)
    weight_decay: NonNegativeFloat = 0.01
    max_grad_norm: PositiveFloat = 1.0
    ema_decay: float | None = Field(0.9999, gt=0, lt=1)
    """Decay of the exponential moving average of the trainable weights; null = no EMA."""
    mixed_precision: Literal["no", "fp16", "bf16"] = "bf16"
    gradient_checkpointing: bool = False
    prediction_type: Literal["epsilon", "sample", "v_prediction"] = "epsilon"
    timestep_power: PositiveFloat = 1.0
    """Training timesteps t = floor(T u^power), u uniform: 1 = uniform (SD1.5); below 1 favours the
    noisy steps, where the layout and colours are decided (0.5: density growing linearly with t)."""
    style_dropout: float = Field(0.1, ge=0, le=1)
    """Probability of dropping only the appearance (no reference, injector gate 0)."""
    pose_dropout: float = Field(0.1, ge=0, le=1)
    """Probability of dropping only the pose (zero adapter residuals)."""
    both_dropout: float = Field(0.05, ge=0, le=1)
    """Probability of dropping both (the e(0,0) branch of disentangled guidance)."""
    both_directions: bool = True
    """Use every pair in both directions (source <-> target)."""
    hflip: float = Field(0.0, ge=0, le=1)
    """Probability of mirroring a pair (images and keypoints, left/right joints swapped)."""
    cache_latents: bool = False
    """Encode every training image with the VAE once, before training (latent space only)."""
    collective_timeout: PositiveInt = 900
    """Seconds a process waits at a collective (gradients, checkpoints, validation on the main
    process) for the others before the run fails: a node that died or hangs ends the job after at
    most this long instead of at its time limit. Longer than the slowest validation or checkpoint."""
    num_workers: int = Field(4, ge=0)
    threads: int = Field(0, ge=0)
    """CPU threads of a training process (torch) and the workflow's `threads` of the training job;
    0 = all cores. The CPU demo trains its models side by side at one thread each."""
    log_every: PositiveInt = 50
    checkpoint_every: PositiveInt = 2000
    keep_checkpoints: PositiveInt = 3
    validate_every: PositiveInt = 2000
    validation_pairs: PositiveInt = 8
    validation_steps: PositiveInt = 25
    """Sampler steps of the validation grids."""

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.style_dropout + self.pose_dropout + self.both_dropout > 1:
            raise ValueError("style_dropout + pose_dropout + both_dropout must not exceed 1")
        if self.cache_latents and self.hflip > 0:
            raise ValueError("cache_latents stores unflipped latents: set hflip to 0 to use it")
        return self


@dataclass(frozen=True)
class TrainSetup:
    """What one training run is given from the configuration (``dnaf.config.train_setup`` builds
    it). Here, not beside the trainer, so that reading the configuration imports no torch."""

    model: ModelConfig
    train: TrainConfig
    dataset: DatasetConfig
    resolved_config: str
    """The whole resolved configuration as YAML, saved beside the run."""

    @property
    def resolution(self) -> tuple[int, int]:
        """(height, width) the model trains and samples at."""
        return tuple(self.train.resolution or self.dataset.image_size)
