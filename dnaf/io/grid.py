"""Labelled image grids (validation during training, comparison figures)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

LABEL_HEIGHT = 14


def image_grid(rows: list[list[np.ndarray]], labels: list[str] | None = None, pad: int = 2) -> np.ndarray:
    """rows of (H, W, 3) uint8 tiles (same size) -> one (R*H + ..., C*W + ..., 3) uint8 picture,
    white padding, ``labels`` written above the columns."""
    height, width = rows[0][0].shape[:2]
    columns = max(len(row) for row in rows)
    top = LABEL_HEIGHT if labels else 0
    canvas = Image.new("RGB", (columns * (width + pad) + pad, top + len(rows) * (height + pad) + pad), "white")
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            canvas.paste(Image.fromarray(tile), (pad + c * (width + pad), top + pad + r * (height + pad)))
    if labels:
        draw = ImageDraw.Draw(canvas)
        for c, label in enumerate(labels):
            draw.text((pad + c * (width + pad) + 1, 1), label, fill=(0, 0, 0))
    return np.asarray(canvas)
