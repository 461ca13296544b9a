"""Where tensors run when the caller does not say: the one place that chooses CUDA or the CPU."""

from __future__ import annotations

import torch


def has_cuda() -> bool:
    """Whether a CUDA device can be used (accelerate's `cpu=` switch reads this too)."""
    return torch.cuda.is_available()


def default_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` when given, else the first CUDA device, else the CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if has_cuda() else "cpu")
