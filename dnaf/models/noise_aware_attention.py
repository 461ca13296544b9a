"""Noise-aware self-attention: denoising rows also attend to the noised source's keys and values.

Joint form: one UNet call carries the batch as [main rows | reference rows]. The reference rows
(the source latent noised to the same timestep) run ordinary self-attention; each main row
attends over ``cat(K_main, K_ref[i])`` and ``cat(V_main, V_ref[i])``, projected by the layer's own
(shared) ``to_k``/``to_v``. ``i < 0`` means "no style" (condition dropped, or the unconditional
branch of guidance): that row runs ordinary self-attention.

Detached form (``model.reference_grad: false``): a first call, without a graph, carries only the
reference rows and records each layer's keys and values; the second call carries only the main
rows, which read them. The values are the joint form's; no gradient flows through the reference.

Routing is set on a shared :class:`RowRouting` before each UNet call, not passed through
``cross_attention_kwargs`` (which reach attn2 as well). The row indices are computed once per
call there: the processor itself never reads a tensor's value on the host (no device sync).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

Mode = Literal["off", "joint", "record", "read"]


@dataclass
class RowRouting:
    """Which rows are main rows and which reference row each one reads.

    Keep it unchanged until backward has run when gradient checkpointing recomputes the forward.
    """

    mode: Mode = "off"
    num_main: int = 0
    styled: torch.Tensor | None = None
    """(n,) long: the main rows that read a reference."""
    refs: torch.Tensor | None = None
    """(n,) long: the reference row each of them reads."""
    plain: torch.Tensor | None = None
    """(m,) long: the main rows without a reference (ordinary self-attention)."""
    cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    """Layer name -> the reference rows' (keys, values), (R, heads, L, d) each: written by a
    "record" call, read by the following "read" call."""

    def off(self) -> None:
        self.mode, self.num_main, self.styled, self.refs, self.plain = "off", 0, None, None, None
        self.cache = {}

    def set(self, num_main: int, ref_index: torch.Tensor | None, mode: Mode = "joint") -> None:
        """Route a call: ``ref_index`` (num_main,) long, -1 = no reference. ``joint``: the call
        carries the reference rows after the main rows; ``read``: it carries main rows only and
        reads the keys and values a ``record`` call stored."""
        if ref_index is None:
            self.off()
            return
        if ref_index.shape != (num_main,):
            raise ValueError(f"ref_index must have shape ({num_main},), got {tuple(ref_index.shape)}")
        styled = ref_index >= 0
        # one host sync per UNet call, instead of one per attention layer
        self.styled = styled.nonzero().squeeze(1)
        self.refs = ref_index[self.styled]
        self.plain = (~styled).nonzero().squeeze(1)
        self.mode, self.num_main = mode, num_main
        if mode == "joint":
            self.cache = {}

    def record(self) -> None:
        """The next call carries only reference rows: ordinary self-attention, keys and values kept."""
        self.off()
        self.mode = "record"


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, L, heads * d) -> (B, heads, L, d)"""
    return x.unflatten(-1, (heads, -1)).transpose(1, 2)


class NoiseAwareAttnProcessor:
    """Processor of one attn1 (self-attention) layer of the UNet's transformer blocks."""

    def __init__(self, routing: RowRouting, name: str) -> None:
        self.routing = routing
        self.name = name

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        **kwargs,
    ) -> torch.Tensor:
        routing = self.routing
        if routing.mode == "off":
            return AttnProcessor2_0()(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        if encoder_hidden_states is not None or attention_mask is not None or hidden_states.ndim != 3:
            raise ValueError("NoiseAwareAttnProcessor handles unmasked self-attention on (B, L, C) inputs only")
        if attn.spatial_norm is not None or attn.group_norm is not None or attn.residual_connection:
            raise ValueError("NoiseAwareAttnProcessor does not support spatial/group norm or residual attention")
        heads = attn.heads
        query, key, value = (_heads(proj(hidden_states), heads) for proj in (attn.to_q, attn.to_k, attn.to_v))
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)
        # (B, heads, L, d) each
        if routing.mode == "record":
            routing.cache[self.name] = (key, value)
            out = F.scaled_dot_product_attention(query, key, value)
        else:
            out = self._main_rows(query, key, value)
        out = out.transpose(1, 2).flatten(2).to(query.dtype)  # (B, L, heads * d)
        out = attn.to_out[1](attn.to_out[0](out))
        return out / attn.rescale_output_factor

    def _main_rows(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        routing = self.routing
        num_main = routing.num_main
        out = torch.empty_like(query)
        if routing.mode == "joint":  # rows [0, num_main) are main rows, the rest reference rows
            ref_k, ref_v = key[num_main:], value[num_main:]
            if len(ref_k):
                out[num_main:] = F.scaled_dot_product_attention(query[num_main:], ref_k, ref_v)
        else:  # read: the reference rows ran in the record call
            ref_k, ref_v = routing.cache[self.name]
        rows, refs, plain = routing.styled, routing.refs, routing.plain
        if len(rows):  # shapes are known on the host: no sync
            k = torch.cat([key[rows], ref_k[refs].to(key.dtype)], dim=2)  # (n, heads, 2L, d)
            v = torch.cat([value[rows], ref_v[refs].to(value.dtype)], dim=2)
            out[rows] = F.scaled_dot_product_attention(query[rows], k, v)
        if len(plain):
            out[plain] = F.scaled_dot_product_attention(query[plain], key[plain], value[plain])
        return out


def installed_routing(unet: torch.nn.Module) -> RowRouting | None:
    """The one :class:`RowRouting` every attn1 of ``unet`` reads, or None when any attn1 has
    another processor (none installed yet, or replaced by ``set_default_attn_processor`` & co.)."""
    attn1 = [processor for name, processor in unet.attn_processors.items() if name.endswith("attn1.processor")]
    if not attn1 or not all(isinstance(processor, NoiseAwareAttnProcessor) for processor in attn1):
        return None
    if len({id(processor.routing) for processor in attn1}) != 1:
        return None
    return attn1[0].routing


def install_noise_aware_attention(unet: torch.nn.Module) -> RowRouting:
    """Route every attn1 of ``unet`` through one shared :class:`RowRouting`; attn2 keeps SDPA.
    Returns that routing.

    Idempotent: when the processors are already installed, their routing is returned and nothing
    changes, so that every model or pipeline composed over one UNet drives the same routing.
    """
    routing = installed_routing(unet)
    if routing is not None:
        return routing
    routing = RowRouting()
    processors = {
        name: NoiseAwareAttnProcessor(routing, name) if name.endswith("attn1.processor") else AttnProcessor2_0()
        for name in unet.attn_processors
    }
    unet.set_attn_processor(processors)
    return routing
