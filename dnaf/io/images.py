"""Image files: encoding arrays to bytes (for atomic writes), telling whether a file decodes,
loading at a given size."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image


def encode_image(array: np.ndarray, format: str = "PNG", **options) -> bytes:
    """(H, W, 3) or (H, W) uint8 -> the encoded file's bytes."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=format, **options)
    return buffer.getvalue()


def decoded_size(path: Path) -> tuple[int, int] | None:
    """(height, width) of an image file that decodes completely; None when it is missing,
    truncated or corrupt (as a crashed writer could leave it)."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.height, image.width
    except (OSError, SyntaxError, ValueError):
        return None


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
"""Per-channel statistics of ImageNet that Swin and Inception inputs are normalised with."""

RESAMPLING = {"bicubic-antialias": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def resize_rgb(array: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """(H, W, 3) uint8 at ``size`` = (height, width); PIL's bicubic filters (antialiases) when
    shrinking. Unchanged when it already has that size."""
    if array.shape[:2] == tuple(size):
        return array
    return np.asarray(Image.fromarray(array).resize((size[1], size[0]), RESAMPLING[method]))


def load_rgb(path: Path, size: tuple[int, int] | None = None, method: str = "bicubic-antialias") -> np.ndarray:
    """An image file as (H, W, 3) uint8, brought to ``size`` with ``method`` when given."""
    with Image.open(path) as image:
        array = np.asarray(image.convert("RGB"))
    return array if size is None else resize_rgb(array, size, method)
