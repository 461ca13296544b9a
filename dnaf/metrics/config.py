"""Typed configuration of evaluation (the ``evaluate:`` part of an experiment)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, PositiveInt


class EvaluateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    size: tuple[PositiveInt, PositiveInt] | None = None
    """(height, width) images are scored at; null = the dataset's image_size."""
    resize: Literal["bicubic-antialias", "bilinear"] = "bicubic-antialias"
    """How generated images of another size are brought to `size` (CFLD: bicubic with antialias;
    PIDM: bilinear)."""
    fid_protocol: Literal["community", "clean"] = "community"
    lpips_weights: Path | None = None
    """AlexNet (torchvision state dict) as safetensors; null = torchvision's download/cache."""
    inception_weights: Path | None = None
    """Inception-v3 (torchvision state dict) as safetensors, community protocol; null = download/cache."""
    allow_download: bool = True
    """May the weights be downloaded when no file is given (they are cached after the first time)."""
    batch_size: PositiveInt = 32
