"""Tiny DNAF models and inputs shared by the model tests."""

from __future__ import annotations

import torch
from diffusers import UNet2DConditionModel

from dnaf.models.build import build_tiny
from dnaf.models.config import ModelConfig

SIZE = (32, 24)


def tiny_model(space: str = "pixel", **overrides):
    config = ModelConfig(base="tiny", space=space, **overrides)
    model, scheduler = build_tiny(config, SIZE, seed=0)
    return model.eval(), scheduler


def inputs(model, batch: int = 2, seed: int = 0):
    """Random sources, skeletons, noisy samples and timesteps for ``batch`` images."""
    g = torch.Generator().manual_seed(seed)
    sources = torch.rand(batch, 3, *SIZE, generator=g) * 2 - 1
    skeletons = torch.rand(batch, 3, *SIZE, generator=g)
    latent = model.encode(sources)
    sample = torch.randn(latent.shape, generator=g)
    reference = torch.randn(latent.shape, generator=g)
    timesteps = torch.randint(0, 1000, (batch,), generator=g)
    return sources, skeletons, sample, reference, timesteps


def plain_unet(model) -> UNet2DConditionModel:
    """The same UNet weights with diffusers' default processors and no injector hooks."""
    unet = UNet2DConditionModel.from_config(model.unet.config)
    unet.load_state_dict(model.unet.state_dict())
    return unet.eval()


def randomise_injectors(model, seed: int = 1) -> None:
    """Give the zero-initialised injector outputs random weights, so they act."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for injector in model.injectors.injectors.values():
            out = injector.attention.to_out[0]
            out.weight.copy_(torch.randn(out.weight.shape, generator=g) * 0.2)
