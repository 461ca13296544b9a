"""Per-image scores of generated images against their ground truth, at the evaluation size, each
image brought there as the configured protocol's script does."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from dnaf.core.device import default_device
from dnaf.data.index import DatasetIndex
from dnaf.data.parts import FOREGROUND_PARTS, load_part_map, part_map_file
from dnaf.io.images import load_rgb
from dnaf.metrics.background import background_mask, background_std
from dnaf.metrics.colour import colour_error, part_colour_errors, part_mean_colours
from dnaf.metrics.config import EvaluateConfig
from dnaf.metrics.inputs import EvaluationInputError
from dnaf.metrics.perceptual import MetricUnavailable, load_lpips, lpips_distance
from dnaf.metrics.pixel import psnr, ssim, ssim_256
from dnaf.metrics.protocols import Protocol, get_protocol
from dnaf.metrics.resizing import load_unit, pad_to_width, wrong_sizes
from dnaf.metrics.texture import texture_columns, texture_scores

logger = logging.getLogger(__name__)


def lpips_input(images: list[np.ndarray], protocol: Protocol) -> torch.Tensor:
    """Unit images -> the (B, 3, H, W) tensor the protocol hands LPIPS (``normalize=False``)."""
    tensor = torch.stack([torch.from_numpy(i).permute(2, 0, 1) for i in images]).float()
    return tensor * 2 - 1 if protocol.lpips_input == "[-1, 1]" else tensor


def pixel_scores(truth: np.ndarray, made: np.ndarray, protocol: Protocol) -> dict[str, float]:
    """SSIM, SSIM_256 and PSNR of two unit images under the protocol (padding, sigma)."""
    if protocol.pad_width is not None:
        truth, made = pad_to_width(truth, protocol.pad_width), pad_to_width(made, protocol.pad_width)
    return {
        "ssim": ssim(truth, made),
        "ssim_256": ssim_256(truth, made, protocol.ssim_sigma),
        "psnr": psnr(truth, made),
    }


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
    (``colour_error`` and one ``colour_<part>`` column per part) and the garments' texture metrics
    (``texture_columns``) and the background noise (``background_std``, the truth's beside it):
    our own metrics, whose images are always brought to the size with PIL's
    bicubic, whatever the protocol."""
    protocol = get_protocol(config.protocol)
    device = default_device()
    try:
        lpips_model = load_lpips(config.lpips_weights, config.allow_download, device)
        lpips_reason = None
    except MetricUnavailable as error:
        lpips_model, lpips_reason = None, str(error)
        logger.warning("%s", error)
    truth_files = [root / index.images.at[t, "path"] for t in manifest["target"]]
    problems = []  # a protocol that does not resize needs every image at the size: all listed at once
    if protocol.real_resize == "none":
        problems += [f"ground truth: {p}" for p in wrong_sizes(truth_files, size)]
    if protocol.generated_resize == "none":
        problems += [f"generated: {p}" for p in wrong_sizes([samples / f for f in manifest["file"]], size)]
    if problems:
        raise EvaluationInputError(f"protocol {protocol.name}", problems)
    rows = []
    starts = range(0, len(manifest), config.batch_size)
    for start in tqdm(starts, desc="scoring", unit="batch", disable=not progress):
        chunk = manifest.iloc[start : start + config.batch_size]
        truth = [load_unit(root / index.images.at[t, "path"], size, protocol.real_resize) for t in chunk["target"]]
        made = [load_unit(samples / f, size, protocol.generated_resize) for f in chunk["file"]]
        lpips_values = [float("nan")] * len(chunk)
        if lpips_model is not None:
            lpips_values = lpips_distance(
                lpips_model, lpips_input(truth, protocol).to(device), lpips_input(made, protocol).to(device)
            ).tolist()
        for (_, row), t, m, lp in zip(chunk.iterrows(), truth, made, lpips_values, strict=True):
            rows.append(
                {"file": row["file"], "source": row["source"], "target": row["target"]}
                | pixel_scores(t, m, protocol) | {"lpips": lp}
                | (_part_scores(root / index.images.at[row["target"], "path"], samples / row["file"],
                                part_map_file(parts, row["target"]), size) if parts else {})
            )  # fmt: skip
    columns = ["file", "source", "target", "ssim", "ssim_256", "psnr", "lpips"]
    if parts:
        columns += ["colour_error", *(f"colour_{name}" for name in FOREGROUND_PARTS), *texture_columns(),
                    "background_std", "background_std_truth"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns), lpips_reason


def _part_scores(truth_file: Path, made_file: Path, part_map: Path, size: tuple[int, int]) -> dict[str, float]:
    truth, made = load_rgb(truth_file, size), load_rgb(made_file, size)
    labels = load_part_map(part_map, size)
    errors = part_colour_errors(made, part_mean_colours(truth, labels), labels)
    background = background_mask(labels)
    return (
        {"colour_error": colour_error(errors)}
        | {f"colour_{k}": errors.get(k, float("nan")) for k in FOREGROUND_PARTS}
        | texture_scores(truth, made, labels)
        | {"background_std": background_std(made, background)}
        | {"background_std_truth": background_std(truth, background)}
    )
