"""Saving and loading a DNAF model: safetensors per component, the config and the package version.

A folder holds what cannot be rebuilt from the base checkpoints: the adapter and injectors
always, the UNet / Swin when they were trained, every component of a tiny model (its random
base has no other home), the prompt embedding and the noise scheduler. Nothing is pickled.
The folder is written beside its final place and renamed into it, so it is complete or absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import AutoencoderKL, DDPMScheduler, T2IAdapter, UNet2DConditionModel
from safetensors.torch import load_file, save_file
from transformers import SwinBackbone

from dnaf.core.errors import DataError
from dnaf.core.version import __version__
from dnaf.io.atomic import atomic_folder
from dnaf.models.appearance import AppearanceEncoder
from dnaf.models.build import load_pretrained_base
from dnaf.models.config import ModelConfig
from dnaf.models.dnaf_model import DNAFModel
from dnaf.models.injectors import AppearanceInjectors

MODEL_FILE = "dnaf_model.json"


def _stored_parts(model: DNAFModel) -> dict[str, torch.nn.Module]:
    config = model.config
    tiny = config.base == "tiny"
    parts: dict[str, torch.nn.Module] = {"adapter": model.adapter}
    if model.injectors is not None:
        parts["injectors"] = model.injectors
    if tiny or config.train_unet:
        parts["unet"] = model.unet
    if model.appearance is not None and (tiny or config.train_swin):
        parts["swin"] = model.appearance.backbone
    if tiny and model.vae is not None:
        parts["vae"] = model.vae
    return parts


def save_model(model: DNAFModel, scheduler: DDPMScheduler, folder: Path, image_size: tuple[int, int]) -> None:
    with atomic_folder(folder) as staging:
        for name, module in _stored_parts(model).items():
            module.save_pretrained(staging / name, safe_serialization=True)
        save_file(
            {"prompt_embedding": model.prompt_embedding.contiguous().cpu()}, staging / "prompt_embedding.safetensors"
        )
        scheduler.save_pretrained(staging / "scheduler")
        record = {
            "dnaf_version": __version__,
            "image_size": list(image_size),
            "parts": sorted(_stored_parts(model)),
            "model": model.config.model_dump(mode="json"),
        }
        (staging / MODEL_FILE).write_text(json.dumps(record, indent=2) + "\n")


class NotAModelError(DataError, FileNotFoundError):
    """A folder that is not a model saved by ``dnaf train`` (no record, or no weights)."""


def read_model_record(folder: Path) -> dict:
    path = Path(folder) / MODEL_FILE
    if not path.is_file():
        raise NotAModelError(f"{folder} is not a saved DNAF model (no {MODEL_FILE})")
    return json.loads(path.read_text())


def model_image_size(folder: Path) -> tuple[int, int]:
    """(height, width) the saved model was trained at, and samples at."""
    return tuple(read_model_record(folder)["image_size"])


def load_model(folder: Path) -> tuple[DNAFModel, DDPMScheduler]:
    """Rebuild the model saved in ``folder`` (the base checkpoints too when it was pretrained)."""
    folder = Path(folder)
    record = read_model_record(folder)
    config = ModelConfig.model_validate(record["model"])
    parts = set(record["parts"])
    prompt = load_file(folder / "prompt_embedding.safetensors")["prompt_embedding"]
    scheduler = DDPMScheduler.from_pretrained(folder / "scheduler")
    unet = vae = appearance = None
    if config.base == "pretrained":
        base = load_pretrained_base(config)
        unet, vae, appearance = base.unet, base.vae, base.appearance
    if "unet" in parts:
        unet = UNet2DConditionModel.from_pretrained(folder / "unet", use_safetensors=True)
    if "vae" in parts:
        vae = AutoencoderKL.from_pretrained(folder / "vae", use_safetensors=True)
    if "swin" in parts:
        appearance = AppearanceEncoder(SwinBackbone.from_pretrained(folder / "swin", use_safetensors=True))
    adapter = T2IAdapter.from_pretrained(folder / "adapter", use_safetensors=True)
    injectors = None
    if "injectors" in parts:
        injectors = AppearanceInjectors.from_pretrained(folder / "injectors", use_safetensors=True)
    return DNAFModel(config, unet, adapter, prompt, vae, appearance, injectors), scheduler


def weight_differences(first: Path, second: Path) -> list[str]:
    """Every weights file and tensor in which two saved model folders differ (empty: identical).
    Raises NotAModelError for a folder that is not a saved model or holds no weights."""
    first, second = Path(first), Path(second)
    for folder in (first, second):
        read_model_record(folder)
        if not any(folder.rglob("*.safetensors")):
            raise NotAModelError(f"{folder} holds no weights (*.safetensors)")
    files = {p.relative_to(first) for p in first.rglob("*.safetensors")}
    other = {p.relative_to(second) for p in second.rglob("*.safetensors")}
    differences = [f"{name}: only in {first}" for name in sorted(files - other)]
    differences += [f"{name}: only in {second}" for name in sorted(other - files)]
    for name in sorted(files & other):
        a, b = load_file(first / name), load_file(second / name)
        differences += [f"{name}: {key} not in both" for key in sorted(a.keys() ^ b.keys())]
        differences += [f"{name}: {key}" for key in sorted(a.keys() & b.keys()) if not torch.equal(a[key], b[key])]
    return differences
