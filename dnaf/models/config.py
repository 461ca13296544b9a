"""Typed configuration of the DNAF model (the ``model:`` section of the config)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt, model_validator

from dnaf.core.settings import StrictModel


class TinyConfig(StrictModel):
    """Sizes of the randomly initialised base models used by the tests and the CPU demo."""

    unet_channels: tuple[PositiveInt, ...] = (32, 64)
    """UNet block_out_channels, one per resolution level."""
    attention_levels: tuple[bool, ...] = (True, True)
    """Whether each level has transformer blocks (CrossAttn blocks)."""
    layers_per_block: PositiveInt = 1
    attention_heads: PositiveInt = 2
    """Heads of every attention layer (diffusers calls this attention_head_dim)."""
    norm_num_groups: PositiveInt = 8
    text_dim: PositiveInt = 32
    """CLIP text hidden size = the UNet's cross_attention_dim."""
    text_layers: PositiveInt = 1
    text_max_length: PositiveInt = 32
    swin_embed_dim: PositiveInt = 16
    swin_depths: tuple[PositiveInt, ...] = (1, 1, 1, 1)
    swin_heads: tuple[PositiveInt, ...] = (1, 2, 2, 4)
    swin_window: PositiveInt = 2
    swin_absolute_positions: bool = False
    """Learned absolute position embeddings in the Swin patch embedding (Swin-B has none; a
    shallow Swin trained from scratch otherwise cannot tell where a token sits in the picture)."""
    vae_channels: tuple[PositiveInt, ...] = (16, 32)
    """Tiny AutoencoderKL block_out_channels (latent space only)."""

    @model_validator(mode="after")
    def _lengths(self) -> TinyConfig:
        if len(self.attention_levels) != len(self.unet_channels):
            raise ValueError("attention_levels needs one entry per unet_channels entry")
        if not all(self.attention_levels[:-1]):
            # diffusers adds a T2I-Adapter residual to an attention-free down block only after its
            # downsampler, where it no longer matches the adapter level (only the last level, which
            # has no downsampler, may go without attention, as in SD1.5)
            raise ValueError("every level but the last needs attention (attention_levels)")
        if len(self.swin_depths) != len(self.swin_heads):
            raise ValueError("swin_depths and swin_heads need the same length")
        return self


class ModelConfig(StrictModel):
    """The DNAF model: frozen base models, the trainable additions, and the method's switches."""

    base: Literal["pretrained", "tiny"] = "pretrained"
    """pretrained: SD1.5 and Swin-B from local folders; tiny: random small models built from `tiny`."""
    stable_diffusion: Path = Path("checkpoints/stable-diffusion-v1-5")
    """SD1.5 in diffusers format (unet/, vae/, text_encoder/, tokenizer/, scheduler/)."""
    swin: Path = Path("checkpoints/swin-base-patch4-window7-224")
    """Swin-B in transformers format (config.json + weights)."""
    space: Literal["latent", "pixel"] = "latent"
    """latent: diffusion on VAE latents (SD1.5); pixel: on the image itself (tiny demo, no VAE)."""
    pixel_patch: PositiveInt = 1
    """Pixel space: the diffused sample is the image folded into p x p patches (pixel_unshuffle),
    exactly invertible, so the UNet starts at 1/p of the image size."""
    prompt: str = "person, white background"
    """The constant text prompt, encoded once by the frozen CLIP text encoder."""
    adapter_type: Literal["full_adapter", "light_adapter"] = "full_adapter"
    adapter_res_blocks: PositiveInt = 2
    noise_aware: bool = True
    """Self-attention of the denoising rows also attends to the noised source's keys/values."""
    reference_grad: bool = True
    """Training: gradients flow through the noised source's pass (the paper's form). false = the
    detached reference: that pass runs first without a graph and the main rows read its keys and
    values (the same values, cheaper steps; docs/model.md). Sampling is the same either way."""
    reference_timestep: Literal["same", "clean"] = "same"
    """same: the reference rows are the source noised to the main rows' timestep (the paper's
    noise-aware feature); clean: the clean source at t = 0 (a deviation, for the texture study)."""
    reference_until: PositiveInt | None = None
    """Main rows at timesteps >= this read no reference (the late-steps-only form, e.g. 300: the
    reference then serves only where detail is decided); null = every timestep."""
    reference_pose: Literal["none", "source"] = "none"
    """What the adapter gives the reference rows: none (zero residuals, the paper's form) or the
    source's own skeleton, so that the reference's features know where its body parts are."""
    injectors: bool = True
    """Trainable cross-attention to the Swin pyramid before every UNet transformer block."""
    injector_stages: tuple[PositiveInt, ...] | None = None
    """Swin stage (1-based) per UNet level, mid block last; null = matched by resolution."""
    train_unet: bool = False
    """Train the UNet too (the tiny demo, which has no pretrained weights)."""
    train_swin: bool = False
    """Train the Swin encoder too (tiny demo)."""
    tiny: TinyConfig = Field(default_factory=TinyConfig)

    @model_validator(mode="after")
    def _space(self) -> ModelConfig:
        if self.base == "pretrained" and self.space != "latent":
            raise ValueError("the pretrained SD1.5 base works in latent space; space: pixel needs base: tiny")
        return self
