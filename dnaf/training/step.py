"""One DNAF training step: noise target and source to the same timestep, drop conditions, one
UNet call on [main | reference] rows, MSE on the main rows only."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import DDPMScheduler
from torch import nn

from dnaf.models.dnaf_model import DNAFModel
from dnaf.training.config import TrainConfig


def drop_conditions(batch: int, config: TrainConfig, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """-> (ref_index (B,) long, -1 where the appearance is dropped; pose_keep (B,) bool).

    One uniform draw per row: [0, style) drops the appearance, [style, style + pose) the pose,
    the next ``both_dropout`` both; the text is never dropped.
    """
    u = torch.rand(batch, device=device)
    style_only = u < config.style_dropout
    pose_only = (u >= config.style_dropout) & (u < config.style_dropout + config.pose_dropout)
    both = (u >= config.style_dropout + config.pose_dropout) & (
        u < config.style_dropout + config.pose_dropout + config.both_dropout
    )
    ref_index = torch.arange(batch, device=device)
    ref_index = torch.where(style_only | both, torch.full_like(ref_index, -1), ref_index)
    return ref_index, ~(pose_only | both)


def sample_timesteps(size: int, num_train_timesteps: int, power: float, device: torch.device) -> torch.Tensor:
    """(size,) long timesteps floor(T u^power) with u uniform on [0, 1): power 1 = uniform."""
    u = torch.rand(size, device=device)
    return (num_train_timesteps * u.pow(power)).long().clamp_(max=num_train_timesteps - 1)


def regression_target(
    scheduler: DDPMScheduler, clean: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor
) -> torch.Tensor:
    prediction_type = scheduler.config.prediction_type
    if prediction_type == "epsilon":
        return noise
    if prediction_type == "sample":
        return clean
    if prediction_type == "v_prediction":
        return scheduler.get_velocity(clean, noise, timesteps)
    raise ValueError(f"unsupported prediction_type {prediction_type!r}")


class DiffusionLoss(nn.Module):
    """The whole training step as one module, so that under DDP every trainable part (adapter,
    injectors, and the UNet / Swin when trained) runs inside the wrapped forward and has its
    gradients synchronised."""

    def __init__(self, model: DNAFModel, scheduler: DDPMScheduler, config: TrainConfig) -> None:
        super().__init__()
        self.model, self.scheduler, self.config = model, scheduler, config

    def forward(self, batch: dict, latents: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """batch: source, target (B, 3, H, W) in [-1, 1], skeleton and source_skeleton (B, 3, H, W) in [0, 1];
        latents: cached (target, source) diffusion-space samples, else encoded here."""
        model, scheduler = self.model, self.scheduler
        sources = batch["source"]
        if latents is None:
            latents = (model.encode(batch["target"]), model.encode(sources))
        clean, clean_source = (x.float() for x in latents)
        with torch.set_grad_enabled(torch.is_grad_enabled() and model.config.train_swin):
            tokens = model.appearance_tokens(sources)
        size = clean.shape[0]
        timesteps = sample_timesteps(
            size, scheduler.config.num_train_timesteps, self.config.timestep_power, clean.device
        )
        noise, source_noise = torch.randn_like(clean), torch.randn_like(clean_source)
        noisy = scheduler.add_noise(clean, noise, timesteps)
        # the source noised to the SAME timestep (or clean, model.reference_timestep)
        references, ref_timesteps = model.reference_rows(clean_source, source_noise, timesteps, scheduler)
        ref_index, pose_keep = drop_conditions(size, self.config, clean.device)
        residuals = model.pose_residuals(batch["skeleton"], pose_keep)
        ref_residuals = model.reference_pose(batch.get("source_skeleton"))
        prediction = model(noisy, timesteps, residuals, ref_index, references, ref_timesteps, tokens, ref_residuals)
        target = regression_target(scheduler, clean, noise, timesteps)
        return F.mse_loss(prediction.float(), target.float())
