"""Typed configuration of sampling the test set (the ``sample:`` part of an experiment)."""

from __future__ import annotations

from typing import Literal

from pydantic import PositiveInt

from dnaf.core.settings import StrictModel


class SampleConfig(StrictModel):
    sampler: Literal["ddim", "dpmsolver++"] = "ddim"
    steps: PositiveInt = 50
    guidance: Literal["none", "appearance", "disentangled"] = "disentangled"
    pose_scale: float = 1.0
    appearance_scale: float = 2.0
    batch_size: PositiveInt = 8
    """Pairs per batch. Batches, not pairs, are dealt to shards, so the shard count never changes
    which pairs share a batch, and no image changes with it."""
    seed: int = 0
    """Base seed; each pair's seed derives from it and the pair's names."""
    precision: Literal["float32", "bfloat16", "float16"] = "float32"
    """The denoiser's compute precision (autocast over the saved weights; the sampler's arithmetic
    stays float32). Half precision is faster on GPUs; its images differ slightly (docs/model.md)."""
    shards: PositiveInt = 4
    """Number of sampling jobs the workflow scatters the test pairs over."""
