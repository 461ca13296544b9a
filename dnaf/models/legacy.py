"""Reading a model folder of the format before the diffusers pipeline, to convert it
(``dnaf convert-model``): ``dnaf_model.json`` + the stored parts' subfolders + the prompt
embedding + the training noise scheduler. The frozen base of a pretrained model was not stored:
it is loaded from the checkpoint folders its config names, as that format did.
"""

from __future__ import annotations

import json
from pathlib import Path

from diffusers import AutoencoderKL, DDPMScheduler, T2IAdapter, UNet2DConditionModel
from safetensors.torch import load_file
from transformers import SwinBackbone

from dnaf.models.appearance import AppearanceEncoder
from dnaf.models.build import load_pretrained_base
from dnaf.models.config import ModelConfig
from dnaf.models.dnaf_model import DNAFModel
from dnaf.models.injectors import AppearanceInjectors
from dnaf.models.prompt import PromptEmbedding
from dnaf.models.saving import OLD_RECORD, NotAModelError


def load_old_model(folder: Path) -> tuple[DNAFModel, DDPMScheduler, tuple[int, int]]:
    """-> (the model, its training noise scheduler, the (height, width) it samples at)."""
    folder = Path(folder)
    if not (folder / OLD_RECORD).is_file():
        raise NotAModelError(f"{folder} is not a model in the old format (no {OLD_RECORD})")
    record = json.loads((folder / OLD_RECORD).read_text())
    config = ModelConfig.model_validate(record["model"])
    parts = set(record["parts"])
    prompt = PromptEmbedding.holding(load_file(folder / "prompt_embedding.safetensors")["prompt_embedding"])
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
        appearance = AppearanceEncoder(backbone=SwinBackbone.from_pretrained(folder / "swin", use_safetensors=True))
    adapter = T2IAdapter.from_pretrained(folder / "adapter", use_safetensors=True)
    injectors = None
    if "injectors" in parts:
        injectors = AppearanceInjectors.from_pretrained(folder / "injectors", use_safetensors=True)
    model = DNAFModel(config, unet, adapter, prompt, vae, appearance, injectors)
    return model, scheduler, tuple(record["image_size"])
