"""The constant text condition: CLIP's encoding of the one prompt, kept instead of CLIP itself."""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin


class PromptEmbedding(ModelMixin, ConfigMixin):
    """(1, T, D) last hidden state of the frozen CLIP text encoder for the configured prompt.

    A persistent buffer, not a parameter: it is saved in safetensors and follows ``.to()`` with the
    other components, and no optimiser ever sees it.
    """

    @register_to_config
    def __init__(self, length: int = 77, dim: int = 768) -> None:
        super().__init__()
        self.register_buffer("embedding", torch.zeros(1, length, dim))

    @classmethod
    def holding(cls, embedding: torch.Tensor) -> PromptEmbedding:
        """A module holding ``embedding`` (1, T, D)."""
        if embedding.ndim != 3 or embedding.shape[0] != 1:
            raise ValueError(f"expected a prompt embedding of shape (1, T, D), got {tuple(embedding.shape)}")
        module = cls(length=embedding.shape[1], dim=embedding.shape[2])
        module.embedding.copy_(embedding)
        return module

    def forward(self, rows: int, dtype: torch.dtype) -> torch.Tensor:
        """-> (rows, T, D) in ``dtype``: the same prompt for every UNet row."""
        return self.embedding.to(dtype).expand(rows, -1, -1)
