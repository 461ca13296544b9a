"""Pictures <-> tensors: the one place that fixes the value ranges the models see.

Images are (H, W, 3) uint8 on disk and in numpy; models see (3, H, W) float in [-1, 1] (pictures)
or [0, 1] (skeletons)."""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(image: np.ndarray, signed: bool) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, H, W) float in [-1, 1] (signed) or [0, 1]."""
    tensor = torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255.0  # a writable copy
    return tensor * 2 - 1 if signed else tensor


def to_uint8(images: torch.Tensor) -> list[np.ndarray]:
    """(B, 3, H, W) tensor in [-1, 1] -> list of (H, W, 3) uint8 (rounded, clamped)."""
    array = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte()
    return list(array.permute(0, 2, 3, 1).numpy())
