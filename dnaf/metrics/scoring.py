"""Per-image scores of generated images against their ground truth, at the evaluation size."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from dnaf.data.index import DatasetIndex
from dnaf.metrics.config import EvaluateConfig
from dnaf.metrics.perceptual import MetricUnavailable, load_lpips, lpips_distance
from dnaf.metrics.pixel import psnr, ssim, ssim_256

logger = logging.getLogger(__name__)
RESAMPLING = {"bicubic-antialias": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def load_at(path: Path, size: tuple[int, int], method: str) -> np.ndarray:
    """(H, W, 3) uint8 at ``size``; PIL's bicubic resize filters (antialiases) when shrinking."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        if (image.height, image.width) != tuple(size):
            image = image.resize((size[1], size[0]), RESAMPLING[method])
        return np.asarray(image)


def score_images(
    index: DatasetIndex,
    root: Path,
    samples: Path,
    manifest: pd.DataFrame,
    size: tuple[int, int],
    config: EvaluateConfig,
) -> tuple[pd.DataFrame, str | None]:
    """manifest rows (source, target, file) -> one row per image with ssim, ssim_256, psnr, lpips;
    lpips is NaN when it is unavailable, and the reason is returned."""
    try:
        lpips_model = load_lpips(config.lpips_weights, config.allow_download)
        lpips_reason = None
    except MetricUnavailable as error:
        lpips_model, lpips_reason = None, str(error)
        logger.warning("%s", error)
    rows = []
    for start in range(0, len(manifest), config.batch_size):
        chunk = manifest.iloc[start : start + config.batch_size]
        truth = [load_at(root / index.images.at[t, "path"], size, config.resize) for t in chunk["target"]]
        made = [load_at(samples / f, size, config.resize) for f in chunk["file"]]
        lpips_values = [float("nan")] * len(chunk)
        if lpips_model is not None:
            to_signed = lambda images: torch.stack(  # noqa: E731
                [torch.from_numpy(i.copy()).permute(2, 0, 1).float() / 127.5 - 1 for i in images]
            )
            lpips_values = lpips_distance(lpips_model, to_signed(truth), to_signed(made)).tolist()
        for (_, row), t, m, lp in zip(chunk.iterrows(), truth, made, lpips_values, strict=True):
            rows.append(
                {"file": row["file"], "source": row["source"], "target": row["target"], "ssim": ssim(t, m),
                 "ssim_256": ssim_256(t, m), "psnr": psnr(t, m), "lpips": lp}
            )  # fmt: skip
    return pd.DataFrame(rows), lpips_reason
