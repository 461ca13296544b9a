"""Building a DNAF model: from the real checkpoints on disk, or tiny and random from the config."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

import torch
from diffusers import AutoencoderKL, DDPMScheduler, T2IAdapter, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer, SwinBackbone, SwinConfig

from dnaf.models.appearance import AppearanceEncoder
from dnaf.models.checkpoints import check_pretrained_folders
from dnaf.models.config import ModelConfig, TinyConfig
from dnaf.models.dnaf_model import DNAFModel
from dnaf.models.injectors import AppearanceInjectors
from dnaf.models.prompt import PromptEmbedding

logger = logging.getLogger(__name__)
SWIN_OUT_FEATURES = ("stage1", "stage2", "stage3", "stage4")


@torch.no_grad()
def encode_prompt(
    prompt: str, tokenizer: CLIPTokenizer, text_encoder: CLIPTextModel, max_length: int
) -> PromptEmbedding:
    """-> the (1, max_length, D) last hidden state of the CLIP text encoder, as SD1.5 uses it."""
    ids = tokenizer(prompt, padding="max_length", max_length=max_length, truncation=True, return_tensors="pt")
    return PromptEmbedding.holding(text_encoder(ids.input_ids.to(text_encoder.device)).last_hidden_state)


def make_adapter(config: ModelConfig, unet: UNet2DConditionModel, latent_factor: int) -> T2IAdapter:
    """A T2I-Adapter whose residuals match the UNet's down blocks (one per level)."""
    return T2IAdapter(
        in_channels=3,
        channels=list(unet.config.block_out_channels),
        num_res_blocks=config.adapter_res_blocks,
        downscale_factor=latent_factor,
        adapter_type=config.adapter_type,
    )


def make_injectors(config: ModelConfig, unet, appearance: AppearanceEncoder, latent_factor: int) -> AppearanceInjectors:
    return AppearanceInjectors.for_unet(unet, appearance.stage_channels, latent_factor, config.injector_stages)


def tiny_tokenizer(max_length: int) -> CLIPTokenizer:
    """A byte-level CLIP tokenizer over printable ASCII without merges, built offline."""
    characters = [chr(c) for c in range(33, 127)]
    tokens = characters + [c + "</w>" for c in characters] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(tokens)}
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=max_length)


def tiny_unet(tiny: TinyConfig, channels: int) -> UNet2DConditionModel:
    down = tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in tiny.attention_levels)
    up = tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(tiny.attention_levels))
    return UNet2DConditionModel(
        in_channels=channels,
        out_channels=channels,
        block_out_channels=tiny.unet_channels,
        down_block_types=down,
        up_block_types=up,
        mid_block_type="UNetMidBlock2DCrossAttn" if tiny.attention_levels[-1] else None,
        layers_per_block=tiny.layers_per_block,
        cross_attention_dim=tiny.text_dim,
        attention_head_dim=tiny.attention_heads,  # diffusers' name for the number of heads
        norm_num_groups=tiny.norm_num_groups,
    )


def tiny_swin(tiny: TinyConfig, image_size: tuple[int, int]) -> SwinBackbone:
    config = SwinConfig(
        image_size=list(image_size),
        patch_size=4,
        embed_dim=tiny.swin_embed_dim,
        depths=list(tiny.swin_depths),
        num_heads=list(tiny.swin_heads),
        window_size=tiny.swin_window,
        use_absolute_embeddings=tiny.swin_absolute_positions,
        out_features=list(SWIN_OUT_FEATURES[: len(tiny.swin_depths)]),
    )
    return SwinBackbone(config)


def tiny_text_encoder(tiny: TinyConfig, tokenizer: CLIPTokenizer) -> CLIPTextModel:
    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=tiny.text_dim,
        intermediate_size=2 * tiny.text_dim,
        num_hidden_layers=tiny.text_layers,
        num_attention_heads=max(1, tiny.text_dim // 16),
        max_position_embeddings=tiny.text_max_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return CLIPTextModel(config)


def tiny_vae(tiny: TinyConfig) -> AutoencoderKL:
    levels = len(tiny.vae_channels)
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels,
        block_out_channels=tiny.vae_channels,
        latent_channels=4,
        norm_num_groups=min(tiny.norm_num_groups, min(tiny.vae_channels)),
    )


def tiny_scheduler() -> DDPMScheduler:
    """SD1.5's noise schedule (scaled_linear, 1000 steps)."""
    return DDPMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False)


def build_tiny(config: ModelConfig, image_size: tuple[int, int], seed: int = 0) -> tuple[DNAFModel, DDPMScheduler]:
    """A randomly initialised DNAF of the sizes in ``config.tiny`` (tests, CPU demo)."""
    if config.base != "tiny":
        raise ValueError("build_tiny needs model.base: tiny")
    tiny = config.tiny
    torch.manual_seed(seed)
    vae = tiny_vae(tiny) if config.space == "latent" else None
    latent_factor = 2 ** (len(tiny.vae_channels) - 1) if vae is not None else config.pixel_patch
    unet = tiny_unet(tiny, 4 if vae is not None else 3 * config.pixel_patch**2)
    tokenizer = tiny_tokenizer(tiny.text_max_length)
    prompt = encode_prompt(config.prompt, tokenizer, tiny_text_encoder(tiny, tokenizer), tiny.text_max_length)
    appearance = injectors = None
    if config.injectors:
        appearance = AppearanceEncoder(backbone=tiny_swin(tiny, image_size))
        injectors = make_injectors(config, unet, appearance, latent_factor)
    adapter = make_adapter(config, unet, latent_factor)
    return DNAFModel(config, unet, adapter, prompt, vae, appearance, injectors), tiny_scheduler()


class PretrainedBase(NamedTuple):
    unet: UNet2DConditionModel
    vae: AutoencoderKL
    appearance: AppearanceEncoder | None
    prompt: PromptEmbedding
    scheduler: DDPMScheduler


def load_pretrained_base(config: ModelConfig) -> PretrainedBase:
    """SD1.5 (diffusers format) and Swin-B (transformers format) from the local folders named in
    ``config``, read from safetensors only; the prompt is encoded once and CLIP let go."""
    check_pretrained_folders(config.stable_diffusion, config.swin if config.injectors else None)
    sd = Path(config.stable_diffusion)
    unet = UNet2DConditionModel.from_pretrained(sd, subfolder="unet", use_safetensors=True)
    vae = AutoencoderKL.from_pretrained(sd, subfolder="vae", use_safetensors=True)
    tokenizer = CLIPTokenizer.from_pretrained(sd, subfolder="tokenizer")
    text_encoder = CLIPTextModel.from_pretrained(sd, subfolder="text_encoder", use_safetensors=True)
    prompt = encode_prompt(config.prompt, tokenizer, text_encoder, tokenizer.model_max_length)
    scheduler = DDPMScheduler.from_pretrained(sd, subfolder="scheduler")
    appearance = None
    if config.injectors:
        swin = SwinBackbone.from_pretrained(config.swin, out_features=list(SWIN_OUT_FEATURES), use_safetensors=True)
        appearance = AppearanceEncoder(backbone=swin)
    logger.info("loaded SD1.5 from %s%s", sd, f" and Swin from {config.swin}" if config.injectors else "")
    return PretrainedBase(unet, vae, appearance, prompt, scheduler)


def load_pretrained(config: ModelConfig) -> tuple[DNAFModel, DDPMScheduler]:
    """A new DNAF on the pretrained base: fresh adapter and (zero-initialised) injectors."""
    base = load_pretrained_base(config)
    latent_factor = 2 ** (len(base.vae.config.block_out_channels) - 1)
    injectors = None
    if config.injectors:
        injectors = make_injectors(config, base.unet, base.appearance, latent_factor)
    adapter = make_adapter(config, base.unet, latent_factor)
    model = DNAFModel(config, base.unet, adapter, base.prompt, base.vae, base.appearance, injectors)
    return model, base.scheduler
