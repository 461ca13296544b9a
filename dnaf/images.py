"""Image files: encoding arrays to bytes (for atomic writes) and telling whether a file decodes."""

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
