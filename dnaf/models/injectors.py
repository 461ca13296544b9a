"""Appearance injectors ("TRM"): one trainable cross-attention per UNet transformer block.

Each injector runs after the frozen resnet and before the frozen transformer block: a forward
pre-hook on the ``Transformer2DModel`` adds ``gate * CrossAttn(LayerNorm(h), swin_tokens)`` to
its input. The injectors live in their own module (saved separately), so the UNet's state_dict
stays the plain SD1.5 one; the output projections start at zero, so at initialisation the model
is exactly SD + adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.attention_processor import Attention
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.transformers.transformer_2d import Transformer2DModel
from torch import nn


@dataclass
class InjectionState:
    """Per-call inputs of the injectors, set before the UNet call.

    ``rows``: (n,) long, the UNet rows that read a reference image; ``tokens[s]``: (n, L_s, C_s)
    the Swin tokens of stage s (1-based) each of those rows reads. Gathered once per call here, so
    that the hooks never read a tensor's value on the host (no device sync per block).
    """

    rows: torch.Tensor | None = None
    tokens: dict[int, torch.Tensor] = field(default_factory=dict)

    def set(self, tokens: dict[int, torch.Tensor], row_ref: torch.Tensor | None) -> None:
        """``tokens[s]``: (R, L_s, C_s) for the R reference images; ``row_ref``: (B,) long, which
        reference image each UNet row reads, -1 = none (no injection); None = no injection at all."""
        if row_ref is None:
            self.rows, self.tokens = None, {}
            return
        self.rows = (row_ref >= 0).nonzero().squeeze(1)  # one host sync per UNet call
        refs = row_ref[self.rows]
        self.tokens = {stage: stage_tokens[refs] for stage, stage_tokens in tokens.items()}


class AppearanceInjector(nn.Module):
    """(B, C, H, W) features + (B, L, C_swin) tokens -> features + cross-attention output."""

    def __init__(self, channels: int, context_channels: int, heads: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)
        self.attention = Attention(
            query_dim=channels, cross_attention_dim=context_channels, heads=heads, dim_head=channels // heads
        )
        nn.init.zeros_(self.attention.to_out[0].weight)
        nn.init.zeros_(self.attention.to_out[0].bias)

    def forward(self, hidden: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = hidden.shape
        x = hidden.flatten(2).transpose(1, 2)  # (B, HW, C)
        update = self.attention(self.norm(x), encoder_hidden_states=tokens)
        return update.transpose(1, 2).reshape(batch, channels, height, width)


def transformer_blocks(unet: nn.Module) -> list[tuple[str, Transformer2DModel, int]]:
    """(name, module, level) of every Transformer2DModel in the UNet, level = resolution level
    (0 = full resolution); the mid block gets the deepest level."""
    deepest = len(unet.config.block_out_channels) - 1
    found = []
    for name, module in unet.named_modules():
        if not isinstance(module, Transformer2DModel):
            continue
        kind, index = name.split(".")[0], name.split(".")[1]
        if kind == "down_blocks":
            level = int(index)
        elif kind == "up_blocks":
            level = deepest - int(index)
        else:  # mid_block
            level = deepest
        found.append((name, module, level))
    return found


def stage_for_level(level: int, pixel_factor: int, num_stages: int) -> int:
    """Swin stage (1-based; stage s is at 1/2^(s+1) of the image) closest to UNet ``level``, whose
    features are at 1/(pixel_factor * 2^level) of the image."""
    unet_log2 = (pixel_factor.bit_length() - 1) + level
    return min(max(unet_log2 - 1, 1), num_stages)


class AppearanceInjectors(ModelMixin, ConfigMixin):
    """All injectors of a UNet, keyed by the transformer block's name ('.' -> '__')."""

    @register_to_config
    def __init__(
        self,
        block_names: tuple[str, ...] = (),
        block_channels: tuple[int, ...] = (),
        block_stages: tuple[int, ...] = (),
        block_heads: tuple[int, ...] = (),
        stage_channels: tuple[int, ...] = (),
    ) -> None:
        super().__init__()
        if not len(block_names) == len(block_channels) == len(block_stages) == len(block_heads):
            raise ValueError("block_names, block_channels, block_stages and block_heads need the same length")
        self.injectors = nn.ModuleDict(
            {
                name.replace(".", "__"): AppearanceInjector(channels, stage_channels[stage - 1], heads)
                for name, channels, stage, heads in zip(
                    block_names, block_channels, block_stages, block_heads, strict=True
                )
            }
        )
        self.state = InjectionState()
        self._handles: list = []

    @classmethod
    def for_unet(
        cls, unet: nn.Module, stage_channels: tuple[int, ...], pixel_factor: int, stages_per_level=None
    ) -> AppearanceInjectors:
        blocks = transformer_blocks(unet)
        if stages_per_level is not None:
            stages = [stages_per_level[level] for _, _, level in blocks]
        else:
            stages = [stage_for_level(level, pixel_factor, len(stage_channels)) for _, _, level in blocks]
        return cls(  # each injector has as many heads as the transformer block it feeds
            block_names=tuple(name for name, _, _ in blocks),
            block_channels=tuple(module.config.in_channels for _, module, _ in blocks),
            block_stages=tuple(stages),
            block_heads=tuple(module.config.num_attention_heads for _, module, _ in blocks),
            stage_channels=tuple(stage_channels),
        )

    def attach(self, unet: nn.Module) -> None:
        """Register the pre-hooks on ``unet``'s transformer blocks (once)."""
        self.detach()
        modules = dict(unet.named_modules())
        for name, stage in zip(self.config.block_names, self.config.block_stages, strict=True):
            injector = self.injectors[name.replace(".", "__")]
            self._handles.append(modules[name].register_forward_pre_hook(self._hook(injector, stage), with_kwargs=True))

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _hook(self, injector: AppearanceInjector, stage: int):
        def hook(module, args, kwargs):
            rows = self.state.rows
            if rows is None or len(rows) == 0:
                return None
            hidden = args[0] if args else kwargs["hidden_states"]
            tokens = self.state.tokens[stage]  # (n, L, C_swin)
            update = injector(hidden[rows], tokens.to(hidden.dtype))
            hidden = hidden.index_add(0, rows, update)
            if args:
                return (hidden, *args[1:]), kwargs
            return args, {**kwargs, "hidden_states": hidden}

        return hook
