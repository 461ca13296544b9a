"""The constant multi-scale appearance feature: a Swin feature pyramid of the source image."""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from transformers import SwinBackbone, SwinConfig

from dnaf.io.images import IMAGENET_MEAN, IMAGENET_STD


class AppearanceEncoder(ModelMixin, ConfigMixin):
    """Source images -> Swin tokens per stage, computed once per image (constant over timesteps).

    A diffusers model (config.json + safetensors) around a transformers ``SwinBackbone``, so that a
    pipeline saves and loads it like its other components; its config is the Swin's.
    """

    ignore_for_config = ["backbone"]

    @register_to_config
    def __init__(self, swin_config: dict | None = None, backbone: SwinBackbone | None = None) -> None:
        """``swin_config``: a ``SwinConfig`` as a dict (what loading rebuilds the backbone from);
        ``backbone``: an already built one (its config is recorded instead)."""
        super().__init__()
        if backbone is None:
            if swin_config is None:
                raise ValueError("AppearanceEncoder needs swin_config or backbone")
            backbone = SwinBackbone(SwinConfig.from_dict(swin_config))
        else:
            self.register_to_config(swin_config=backbone.config.to_dict())
        self.backbone = backbone
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def stage_channels(self) -> tuple[int, ...]:
        """Channels of stages 1..n (Swin-B: 128, 256, 512, 1024)."""
        return tuple(self.backbone.num_features[1:])

    def forward(self, images: torch.Tensor) -> dict[int, torch.Tensor]:
        """(B, 3, H, W) in [-1, 1] at the generation size -> {stage: (B, h_s * w_s, C_s)}."""
        pixels = ((images + 1) / 2 - self.mean.to(images.dtype)) / self.std.to(images.dtype)
        maps = self.backbone(pixel_values=pixels).feature_maps  # stage1..n, each (B, C_s, h_s, w_s)
        return {stage: feature.flatten(2).transpose(1, 2) for stage, feature in enumerate(maps, start=1)}
