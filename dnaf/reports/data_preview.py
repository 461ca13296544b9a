"""A contact sheet of dataset images with their skeletons drawn over them.

The quickest way to see that keypoints and images agree (a wrong ``keypoint_frame`` or layout
shows at once as skeletons off the people).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from dnaf.core.errors import DataError
from dnaf.data.index import DatasetIndex
from dnaf.pose.render import render_skeleton


def overlay_skeleton(image: np.ndarray, keypoints: np.ndarray, opacity: float = 0.75) -> np.ndarray:
    """(H, W, 3) uint8 image -> the same with its skeleton blended over it where it is drawn."""
    skeleton = render_skeleton(keypoints, image.shape[:2])
    drawn = skeleton.any(axis=2, keepdims=True)
    blended = (1 - opacity) * image + opacity * skeleton
    return np.where(drawn, blended, image).astype(np.uint8)


def preview_grid(
    index: DatasetIndex, root: Path, names: list[str], tile_height: int = 256, columns: int = 8
) -> np.ndarray:
    """(rows * tile_height, columns * tile_width, 3) uint8: each image (resized) with its skeleton."""
    tiles = []
    for name in names:
        with Image.open(root / index.images.at[name, "path"]) as image:
            width = round(image.width * tile_height / image.height)
            picture = np.asarray(image.convert("RGB").resize((width, tile_height), Image.Resampling.BICUBIC))
        tiles.append(overlay_skeleton(picture, index.keypoints(name)))
    tile_width = max(tile.shape[1] for tile in tiles)
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * tile_height, columns * tile_width, 3), 255, dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * tile_height : (r + 1) * tile_height, c * tile_width : c * tile_width + tile.shape[1]] = tile
    return sheet


def sample_names(index: DatasetIndex, count: int, split: str, seed: int = 0) -> list[str]:
    """``count`` image names of ``split`` drawn with a seed (all of them when there are fewer)."""
    names = index.images.index[index.images["split"] == split]
    if len(names) == 0:
        raise DataError(f"the index has no '{split}' images")
    chosen = np.random.default_rng(seed).choice(len(names), size=min(count, len(names)), replace=False)
    return [names[i] for i in sorted(chosen)]
