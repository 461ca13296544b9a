"""Tiny DNAF models and inputs shared by the model tests."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

from dnaf.models.build import build_tiny
from dnaf.models.config import ModelConfig
from dnaf.pipeline import DNAFPipeline, make_sampler

SIZE = (32, 24)


def tiny_model(space: str = "pixel", **overrides):
    config = ModelConfig(base="tiny", space=space, **overrides)
    model, scheduler = build_tiny(config, SIZE, seed=0)
    return model.eval(), scheduler


def save_tiny(model, scheduler, folder: Path) -> Path:
    """``model`` saved as a pipeline folder (DDIM sampler, frame SIZE), as training writes it."""
    DNAFPipeline.from_model(model, make_sampler("ddim", scheduler, model.config.space), SIZE).save_pretrained(folder)
    return folder


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


def write_old_format(model, scheduler, folder: Path, image_size: tuple[int, int]) -> None:
    """A model folder as dnaf wrote it before the diffusers pipeline (the last release's
    ``save_model``), spelled out here as the test's own record of that format."""
    config = model.config
    tiny = config.base == "tiny"
    parts = {"adapter": model.adapter}
    if model.injectors is not None:
        parts["injectors"] = model.injectors
    if tiny or config.train_unet:
        parts["unet"] = model.unet
    if model.appearance is not None and (tiny or config.train_swin):
        parts["swin"] = model.appearance.backbone
    if tiny and model.vae is not None:
        parts["vae"] = model.vae
    folder.mkdir(parents=True)
    for name, module in parts.items():
        module.save_pretrained(folder / name, safe_serialization=True)
    save_file({"prompt_embedding": model.prompt.embedding.contiguous()}, folder / "prompt_embedding.safetensors")
    scheduler.save_pretrained(folder / "scheduler")
    record = {"dnaf_version": "0.1.0", "image_size": list(image_size), "parts": sorted(parts),
              "model": config.model_dump(mode="json")}  # fmt: skip
    (folder / "dnaf_model.json").write_text(json.dumps(record, indent=2) + "\n")
