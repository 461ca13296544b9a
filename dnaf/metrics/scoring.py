"""Per-image scores of generated images against their ground truth, at the evaluation size."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from dnaf.data.index import DatasetIndex
from dnaf.images import load_rgb
from dnaf.metrics.colour import (
    FOREGROUND_PARTS,
    colour_error,
    load_part_map,
    part_colour_errors,
    part_mean_colours,
)
from dnaf.metrics.config import EvaluateConfig
from dnaf.metrics.perceptual import MetricUnavailable, load_lpips, lpips_distance
from dnaf.metrics.pixel import psnr, ssim, ssim_256

logger = logging.getLogger(__name__)


def _signed(images: list[np.ndarray]) -> torch.Tensor:
    return torch.stack([torch.from_numpy(i.copy()).permute(2, 0, 1).float() / 127.5 - 1 for i in images])


def score_images(
    index: DatasetIndex,
    root: Path,
    samples: Path,
    manifest: pd.DataFrame,
    size: tuple[int, int],
    config: EvaluateConfig,
    progress: bool = False,
    parts: Path | None = None,
) -> tuple[pd.DataFrame, str | None]:
    """manifest rows (source, target, file) -> one row per image with ssim, ssim_256, psnr, lpips;
    lpips is NaN when it is unavailable, and the reason is returned. With ``parts`` (a folder of
    part label maps ``<target stem>.png``, the synthetic demo's), also the per-part colour error
    (``colour_error`` and one ``colour_<part>`` column per part)."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        lpips_model = load_lpips(config.lpips_weights, config.allow_download, device)
        lpips_reason = None
    except MetricUnavailable as error:
        lpips_model, lpips_reason = None, str(error)
        logger.warning("%s", error)
    rows = []
    starts = range(0, len(manifest), config.batch_size)
    for start in tqdm(starts, desc="scoring", unit="batch", disable=not progress):
        chunk = manifest.iloc[start : start + config.batch_size]
        truth = [load_rgb(root / index.images.at[t, "path"], size, config.resize) for t in chunk["target"]]
        made = [load_rgb(samples / f, size, config.resize) for f in chunk["file"]]
        lpips_values = [float("nan")] * len(chunk)
        if lpips_model is not None:
            lpips_values = lpips_distance(lpips_model, _signed(truth).to(device), _signed(made).to(device)).tolist()
        for (_, row), t, m, lp in zip(chunk.iterrows(), truth, made, lpips_values, strict=True):
            rows.append(
                {"file": row["file"], "source": row["source"], "target": row["target"], "ssim": ssim(t, m),
                 "ssim_256": ssim_256(t, m), "psnr": psnr(t, m), "lpips": lp}
                | (_colour_scores(t, m, parts / f"{Path(row['target']).stem}.png", size) if parts else {})
            )  # fmt: skip
    columns = ["file", "source", "target", "ssim", "ssim_256", "psnr", "lpips"]
    if parts:
        columns += ["colour_error", *(f"colour_{name}" for name in FOREGROUND_PARTS)]
    return pd.DataFrame(rows, columns=columns), lpips_reason


def _colour_scores(truth: np.ndarray, made: np.ndarray, part_map: Path, size: tuple[int, int]) -> dict[str, float]:
    labels = load_part_map(part_map, size)
    errors = part_colour_errors(made, part_mean_colours(truth, labels), labels)
    return {"colour_error": colour_error(errors)} | {
        f"colour_{k}": errors.get(k, float("nan")) for k in FOREGROUND_PARTS
    }
