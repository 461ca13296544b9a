"""The paper-style comparison figure: target pose | source | ground truth | generated (one or more
methods), one test pair per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dnaf.data.index import DatasetIndex
from dnaf.io.grid import image_grid
from dnaf.io.images import load_rgb, resize_rgb
from dnaf.pose.cache import SkeletonCache


def spread_rows(manifest: pd.DataFrame, count: int) -> pd.DataFrame:
    """``count`` pairs spread evenly over the manifest sorted by file name (the same pairs for
    every method, whatever order its manifest has)."""
    ordered = manifest.sort_values("file").reset_index(drop=True)
    if len(ordered) <= count:
        return ordered
    return ordered.iloc[np.linspace(0, len(ordered) - 1, count).round().astype(int)].reset_index(drop=True)


def comparison_grid(
    index: DatasetIndex,
    root: Path,
    skeletons: SkeletonCache,
    manifest: pd.DataFrame,
    methods: dict[str, Path],
    size: tuple[int, int],
    count: int = 8,
) -> np.ndarray:
    """One row per chosen pair; ``methods`` maps a column label to its folder of images named as
    in ``manifest['file']``."""
    rows = []
    for _, pair in spread_rows(manifest, count).iterrows():
        row = [
            resize_rgb(skeletons[pair["target"]], size, "bilinear"),
            load_rgb(root / index.images.at[pair["source"], "path"], size),
            load_rgb(root / index.images.at[pair["target"], "path"], size),
        ]
        row += [load_rgb(folder / pair["file"], size) for folder in methods.values()]
        rows.append(row)
    return image_grid(rows, labels=["pose", "source", "truth", *methods])
