"""The swap check's figure and the appearance lines of the comparison table (the scores:
dnaf.metrics.swap)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dnaf.data.index import DatasetIndex
from dnaf.io.grid import image_grid
from dnaf.io.images import load_rgb, resize_rgb
from dnaf.metrics.sign_test import verdict_text
from dnaf.pose.cache import SkeletonCache
from dnaf.reports.comparison_grid import spread_rows
from dnaf.sampling.shards import output_name


def swap_grid(
    index: DatasetIndex,
    root: Path,
    skeletons: SkeletonCache,
    swapped: pd.DataFrame,
    swapped_samples: Path,
    size: tuple[int, int],
    samples: Path | None = None,
    count: int = 8,
) -> np.ndarray:
    """pose | source | output | swapped source | output with it (| ground truth), one pair per row;
    ``samples``: the folder of the outputs with the true source (omitted when None)."""
    rows = []
    for _, pair in spread_rows(swapped, count).iterrows():
        row = [
            resize_rgb(skeletons[pair["target"]], size, "bilinear"),
            load_rgb(root / index.images.at[pair["true_source"], "path"], size),
        ]
        if samples is not None:
            row.append(load_rgb(samples / output_name(pair["true_source"], pair["target"]), size))
        row += [
            load_rgb(root / index.images.at[pair["source"], "path"], size),
            load_rgb(swapped_samples / pair["file"], size),
            load_rgb(root / index.images.at[pair["target"], "path"], size),
        ]
        rows.append(row)
    labels = ["pose", "source", *(["output"] if samples is not None else []), "other source", "output", "truth"]
    return image_grid(rows, labels=labels)


def appearance_checks(main: dict, pose_only: dict | None, swap: dict | None) -> str:
    """Markdown lines: the main run's colour error against the pose-only model's, and the swap check
    (colours, and patterns where the swap check measured them)."""
    lines = []
    if pose_only is not None and main.get("colour_error") is not None and pose_only.get("colour_error"):
        ratio = main["colour_error"] / pose_only["colour_error"]
        lines.append(
            f"- colour error: {main['method']} {main['colour_error']:.4f} = {ratio:.2f} x the pose-only model's "
            f"({pose_only['colour_error']:.4f}); target at most 0.5 x: {'met' if ratio <= 0.5 else 'NOT met'}"
        )
    if swap is not None:
        lines.append(
            f"- swap check ({swap['pairs']} pairs sampled again with another identity's source): colour error "
            f"{swap['error_vs_swapped']:.4f} against the swapped identity, {swap['error_vs_truth']:.4f} against the "
            f"ground truth (the identities are {swap['identities_apart']:.4f} apart; "
            f"{100 * swap['share_closer_to_swapped']:.0f}% of pairs closer to the swapped identity): "
            f"{verdict_text(swap, 'outputs')}"
        )
    if swap is not None and swap.get("texture", {}).get("pairs"):
        lines.append(pattern_line(swap["texture"]))
    if not lines:
        return ""
    return "\n".join(["", "Appearance checks (synthetic part maps):", "", *lines]) + "\n"


def pattern_line(texture: dict) -> str:
    """The pattern swap check (dnaf.metrics.texture_swap.texture_swap_summary) as one Markdown line."""
    return (
        f"- pattern swap check ({texture['pairs']} pairs whose two sources' garments differ in texture): texture "
        f"distance {texture['texture_vs_swapped']:.3f} to the swapped source's garments, "
        f"{texture['texture_vs_true_source']:.3f} to the true source's (the sources are "
        f"{texture['textures_apart']:.3f} apart; {100 * texture['share_closer_to_swapped']:.0f}% of pairs closer to "
        f"the swapped source): {verdict_text(texture, 'patterns')}"
    )
