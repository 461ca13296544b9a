"""Base checkpoints for a rehearsal: SD1.5 and Swin-B folders written exactly in the formats of
the real downloads, with random weights of small widths (``model.tiny``), so that the paper
path (``base: pretrained``) loads, trains and samples end to end where the real weights cannot be
had. Nothing produced with them means anything; their outputs are marked so.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from diffusers import PNDMScheduler
from transformers import SwinConfig, SwinForImageClassification

from dnaf.io.atomic import atomic_folder
from dnaf.models.build import tiny_text_encoder, tiny_tokenizer, tiny_unet, tiny_vae
from dnaf.models.config import TinyConfig

SD15_PROMPT_LENGTH = 77
SWIN_PATCH, SWIN_WINDOW, SWIN_IMAGE_SIZE = 4, 7, 224
"""Swin-B's patch size, attention window and pre-training size (microsoft/swin-base-patch4-window7-224)."""


def sd15_scheduler() -> PNDMScheduler:
    """The scheduler stable-diffusion-v1-5 ships (scheduler/scheduler_config.json)."""
    return PNDMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
        set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1,
    )  # fmt: skip


def write_stable_diffusion(tiny: TinyConfig, folder: Path, seed: int = 0) -> None:
    """unet/, vae/, text_encoder/, tokenizer/ (vocab.json, merges.txt), scheduler/ and
    model_index.json, as in the Hub's stable-diffusion-v1-5, with the widths of ``tiny``."""
    with atomic_folder(Path(folder)) as staging:
        torch.manual_seed(seed)
        tiny_unet(tiny, 4).save_pretrained(staging / "unet", safe_serialization=True)
        tiny_vae(tiny).save_pretrained(staging / "vae", safe_serialization=True)
        tokenizer = tiny_tokenizer(tiny.text_max_length)
        (staging / "tokenizer").mkdir()
        (staging / "tokenizer" / "vocab.json").write_text(json.dumps(tokenizer.get_vocab()))
        (staging / "tokenizer" / "merges.txt").write_text("#version: 0.2\n")
        (staging / "tokenizer" / "tokenizer_config.json").write_text(
            json.dumps({"model_max_length": tiny.text_max_length, "tokenizer_class": "CLIPTokenizer"})
        )
        tiny_text_encoder(tiny, tokenizer).save_pretrained(staging / "text_encoder", safe_serialization=True)
        sd15_scheduler().save_pretrained(staging / "scheduler")
        index = {
            "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.6.0",
            "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
            "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
            "vae": ["diffusers", "AutoencoderKL"],
        }  # fmt: skip
        (staging / "model_index.json").write_text(json.dumps(index, indent=2) + "\n")


def write_swin(tiny: TinyConfig, folder: Path, seed: int = 0) -> None:
    """config.json + model.safetensors of a SwinForImageClassification, as the Hub's
    microsoft/swin-base-patch4-window7-224 (patch 4, window 7, 224 pre-training size)."""
    config = SwinConfig(
        image_size=SWIN_IMAGE_SIZE, patch_size=SWIN_PATCH, window_size=SWIN_WINDOW, embed_dim=tiny.swin_embed_dim,
        depths=list(tiny.swin_depths), num_heads=list(tiny.swin_heads), num_labels=1000,
    )  # fmt: skip
    with atomic_folder(Path(folder)) as staging:
        torch.manual_seed(seed)
        SwinForImageClassification(config).save_pretrained(staging, safe_serialization=True)
