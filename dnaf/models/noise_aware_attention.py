"""Noise-aware self-attention: denoising rows also attend to the noised source's keys and values.

One UNet call carries the batch as [main rows | reference rows]. The reference rows (the source
latent noised to the same timestep) run ordinary self-attention; each main row attends over
``cat(K_main, K_ref[i])`` and ``cat(V_main, V_ref[i])``, projected by the layer's own (shared)
``to_k``/``to_v``. ``i < 0`` means "no style" (condition dropped, or the unconditional branch of
guidance): that row runs ordinary self-attention. Routing is set on a shared :class:`RowRouting`
before the UNet call, not passed through ``cross_attention_kwargs`` (which reach attn2 as well).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0


@dataclass
class RowRouting:
    """Which rows are main rows and which reference row each one reads (-1: none).

    Keep it unchanged until backward has run when gradient checkpointing recomputes the forward.
    """

    num_main: int = 0
    ref_index: torch.Tensor | None = None  # (num_main,) long; None = no reference rows at all

    def set(self, num_main: int, ref_index: torch.Tensor | None) -> None:
        if ref_index is not None and ref_index.shape != (num_main,):
            raise ValueError(f"ref_index must have shape ({num_main},), got {tuple(ref_index.shape)}")
        self.num_main = num_main
        self.ref_index = ref_index


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, L, heads * d) -> (B, heads, L, d)"""
    return x.unflatten(-1, (heads, -1)).transpose(1, 2)


class NoiseAwareAttnProcessor:
    """Processor for the attn1 (self-attention) layers of the UNet's transformer blocks."""

    def __init__(self, routing: RowRouting) -> None:
        self.routing = routing

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        **kwargs,
    ) -> torch.Tensor:
        ref_index = self.routing.ref_index
        if ref_index is None:
            return AttnProcessor2_0()(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        if encoder_hidden_states is not None or attention_mask is not None or hidden_states.ndim != 3:
            raise ValueError("NoiseAwareAttnProcessor handles unmasked self-attention on (B, L, C) inputs only")
        if attn.spatial_norm is not None or attn.group_norm is not None or attn.residual_connection:
            raise ValueError("NoiseAwareAttnProcessor does not support spatial/group norm or residual attention")
        num_main = self.routing.num_main
        heads = attn.heads
        query, key, value = (_heads(proj(hidden_states), heads) for proj in (attn.to_q, attn.to_k, attn.to_v))
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)
        # (B, heads, L, d) each; rows [0, num_main) are main rows, the rest reference rows
        out = torch.empty_like(query)
        ref_q, ref_k, ref_v = query[num_main:], key[num_main:], value[num_main:]
        if len(ref_q):
            out[num_main:] = F.scaled_dot_product_attention(ref_q, ref_k, ref_v)
        styled = ref_index >= 0
        if styled.any():
            rows = styled.nonzero().squeeze(1)
            refs = ref_index[rows]
            k = torch.cat([key[rows], ref_k[refs]], dim=2)  # (n, heads, 2L, d)
            v = torch.cat([value[rows], ref_v[refs]], dim=2)
            out[rows] = F.scaled_dot_product_attention(query[rows], k, v)
        if not styled.all():
            rows = (~styled).nonzero().squeeze(1)
            out[rows] = F.scaled_dot_product_attention(query[rows], key[rows], value[rows])
        out = out.transpose(1, 2).flatten(2).to(query.dtype)  # (B, L, heads * d)
        out = attn.to_out[1](attn.to_out[0](out))
        return out / attn.rescale_output_factor


def install_noise_aware_attention(unet: torch.nn.Module, routing: RowRouting) -> list[str]:
    """Route every attn1 of ``unet`` through one shared :class:`RowRouting`; attn2 keeps SDPA.

    Call it after anything that resets processors (xformers, ``set_default_attn_processor``).
    Returns the names of the attn1 layers.
    """
    processor = NoiseAwareAttnProcessor(routing)
    processors = {
        name: processor if name.endswith("attn1.processor") else AttnProcessor2_0() for name in unet.attn_processors
    }
    unet.set_attn_processor(processors)
    return [name for name in processors if name.endswith("attn1.processor")]
