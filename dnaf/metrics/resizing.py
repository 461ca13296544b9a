"""Bringing an image to the evaluation size exactly as a peer's evaluation script does.

Every function returns (H, W, 3) float64 images on the [0, 1] scale ("unit" images). The cv2
routes resize float32 0-255 images and divide afterwards, so bicubic overshoot is kept (values a
little outside [0, 1]), as in PIDM's and PCDMs' scripts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from dnaf.core.errors import DataError
from dnaf.io.images import load_rgb, resize_rgb
from dnaf.metrics.protocols import Resize


class SizeMismatch(DataError):
    """An image that a protocol without resizing cannot use."""


def resize_unit(pixels: np.ndarray, size: tuple[int, int], method: Resize) -> np.ndarray:
    """(H, W, 3) uint8 -> (height, width, 3) float64 unit image, resized with ``method``.

    An image that already has the size is only rescaled: every method is then the identity
    (cv2 copies, bicubic weights at the pixel centres are 0, 1, 0, 0)."""
    height, width = size
    if pixels.shape[:2] == (height, width):
        return pixels / 255.0
    if method == "none":
        raise SizeMismatch(
            f"is {pixels.shape[0]}x{pixels.shape[1]}, not {height}x{width} (this protocol does not resize)"
        )
    if method == "pil-bicubic":
        return resize_rgb(pixels, size, "bicubic-antialias") / 255.0
    if method == "torch-bicubic-antialias":
        tensor = torch.from_numpy(pixels.copy()).permute(2, 0, 1)[None].float() / 255.0
        resized = F.interpolate(tensor, size=(height, width), mode="bicubic", antialias=True)
        quantised = (resized * 255.0).clamp(0, 255).to(torch.uint8)  # truncates, as CFLD's script does
        return quantised[0].permute(1, 2, 0).numpy() / 255.0
    if method in ("cv2-bilinear", "cv2-cubic"):
        import cv2

        interpolation = cv2.INTER_LINEAR if method == "cv2-bilinear" else cv2.INTER_CUBIC
        resized = cv2.resize(pixels.astype(np.float32), (width, height), interpolation=interpolation)
        return (resized / np.float32(255)).astype(np.float64)
    raise ValueError(f"unknown resize method {method!r}")


def load_unit(path: Path, size: tuple[int, int], method: Resize) -> np.ndarray:
    """An image file as a unit image at ``size``; SizeMismatch names the file."""
    try:
        return resize_unit(load_rgb(path), size, method)
    except SizeMismatch as error:
        raise SizeMismatch(f"{path}: {error}") from None


def pad_to_width(image: np.ndarray, width: int) -> np.ndarray:
    """White-pad a unit image, centred, to ``width`` columns (DPTN's pad_256: 176 -> 256)."""
    if image.shape[1] >= width:
        return image
    left = (width - image.shape[1]) // 2
    padded = np.ones((image.shape[0], width, image.shape[2]), dtype=image.dtype)
    padded[:, left : left + image.shape[1]] = image
    return padded


def wrong_sizes(files: list[Path], size: tuple[int, int], shown: int = 5) -> list[str]:
    """Problems for the files that are not (height, width) = ``size`` (read from their headers)."""
    wrong = []
    for path in files:
        try:
            with Image.open(path) as image:
                if (image.height, image.width) != tuple(size):
                    wrong.append(f"{path} is {image.height}x{image.width}")
        except (OSError, SyntaxError, ValueError) as error:
            wrong.append(f"{path} does not open ({error})")
    if not wrong:
        return []
    more = f" (and {len(wrong) - shown} more)" if len(wrong) > shown else ""
    return [f"{len(wrong)} image(s) are not readable {size[0]}x{size[1]} images, and this protocol does not resize: "
            + "; ".join(wrong[:shown]) + more]  # fmt: skip
