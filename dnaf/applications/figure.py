"""The applications figure of the demo: pose transfer, try-on of the upper garment inside its part
mask, and an artwork as the appearance reference, each on unseen test identities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from dnaf.data.index import DatasetIndex
from dnaf.data.parts import load_part_map, part_map_file, part_maps
from dnaf.io.grid import image_grid
from dnaf.io.images import load_rgb
from dnaf.pipeline import Guidance
from dnaf.reports.comparison_grid import spread_rows
from dnaf.sampling.shards import pairs_to_sample

UPPER_GARMENT = 3  # dnaf.demo.draw.PART_LABELS["upper"]
LABELS = ["source", "pose", "transfer", "garment", "mask", "try-on", "artwork", "posed art"]


def artwork(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A non-person picture: bold overlapping colour strokes, like an abstract painting."""
    g = np.random.default_rng(seed)
    height, width = size
    canvas = Image.new("RGB", (width, height), tuple(int(v) for v in g.integers(0, 256, 3)))
    draw = ImageDraw.Draw(canvas)
    for _ in range(12):
        x, y = g.integers(0, width), g.integers(0, height)
        rx, ry = g.integers(width // 8, width // 2), g.integers(height // 8, height // 3)
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=tuple(int(v) for v in g.integers(0, 256, 3)))
    return np.asarray(canvas)


def applications_figure(
    dnaf, index: DatasetIndex, root: Path, count: int, steps: int, guidance: Guidance, seed: int = 0
) -> np.ndarray:
    """``count`` test pairs spread over the demo test set; the garment comes from the next pair's
    source (another identity). Needs the demo's part maps (``parts/<stem>.png`` under ``root``)."""
    pairs = spread_rows(pairs_to_sample(index), count + 1)
    painting = artwork(dnaf.size, seed)
    rows = []
    for k in range(min(count, len(pairs) - 1)):
        source, target = pairs.at[k, "source"], pairs.at[k, "target"]
        garment_name = pairs.at[k + 1, "source"]
        keypoints = index.keypoints(target)
        source_image = load_rgb(root / index.images.at[source, "path"], dnaf.size)
        person = load_rgb(root / index.images.at[target, "path"], dnaf.size)
        garment = load_rgb(root / index.images.at[garment_name, "path"], dnaf.size)
        labels = load_part_map(part_map_file(part_maps(root), target), dnaf.size)
        mask = labels == UPPER_GARMENT
        moved, _ = dnaf.transfer(source_image, keypoints, seed, steps, guidance)
        dressed, _ = dnaf.try_on(person, garment, mask, keypoints, seed, steps, guidance)
        painted, _ = dnaf.transfer(painting, keypoints, seed, steps, guidance)
        mask_picture = np.repeat((mask * 255).astype(np.uint8)[..., None], 3, axis=2)
        rows.append([source_image, dnaf.skeleton(keypoints), moved, garment, mask_picture, dressed, painting, painted])
    return image_grid(rows, labels=LABELS)
