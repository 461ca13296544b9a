"""Part label maps: one PNG of label values per image in ``<root>/parts/`` (the synthetic datasets
write them). The one owner of their labels and their location."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

PART_LABELS = {"background": 0, "skin": 1, "hair": 2, "upper": 3, "lower": 4, "shoes": 5}
"""Values of the part label maps."""
FOREGROUND_PARTS = {name: PART_LABELS[name] for name in ("skin", "hair", "upper", "lower")}
"""The parts appearance is measured on. Background is left out, and so are the shoes: near-black
for every identity, they carry no appearance to transfer."""


def part_maps(root: Path) -> Path:
    """The folder of part label maps of the dataset at ``root``."""
    return root / "parts"


def part_map_file(parts: Path, image_name: str) -> Path:
    """The label map of ``image_name`` in the folder ``parts``."""
    return parts / f"{Path(image_name).stem}.png"


def load_part_map(path: Path, size: tuple[int, int]) -> np.ndarray:
    """A part label map at ``size`` (height, width), nearest-neighbour: (H, W) uint8 labels."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no part label map for this image (the synthetic data writes one per image)")
    with Image.open(path) as image:
        if image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.Resampling.NEAREST)
        return np.asarray(image)
