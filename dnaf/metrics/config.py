"""Typed configuration of evaluation (the ``evaluate:`` part of an experiment)."""

from __future__ import annotations

from pathlib import Path

from pydantic import PositiveInt

from dnaf.core.settings import StrictModel
from dnaf.metrics.protocols import ProtocolName


class EvaluateConfig(StrictModel):
    size: tuple[PositiveInt, PositiveInt] | None = None
    """(height, width) images are scored at; null = the dataset's image_size."""
    protocol: ProtocolName = "cfld"
    """Evaluation preset: the resizing, FID batches, SSIM_256 sigma and LPIPS input of one peer's
    script (dnaf/metrics/protocols.py; docs: the evaluation page)."""
    lpips_weights: Path | None = None
    """AlexNet (torchvision state dict) as safetensors; null = torchvision's download/cache."""
    inception_weights: Path | None = None
    """Inception-v3 (torchvision state dict) as safetensors; null = download/cache (not for `clean`)."""
    allow_download: bool = True
    """May the weights be downloaded when no file is given (they are cached after the first time)."""
    batch_size: PositiveInt = 32
    """Images per batch when computing features and scores (the protocol's own FID and LPIPS
    batches decide only which images are dropped)."""
