"""A contact sheet of photos with the skeletons extracted from them (``dnaf extract-poses``):
the quickest way to see what the detector made of each photo, and which gave no person."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from dnaf.io.framing import fit_image, fit_keypoints
from dnaf.reports.data_preview import overlay_skeleton

TILE = (256, 176)
CAPTION = 24
PROBLEM_COLOUR = (200, 0, 0)


def _caption(tile: np.ndarray, name: str, note: str | None) -> np.ndarray:
    canvas = Image.new("RGB", (tile.shape[1], tile.shape[0] + CAPTION), "white")
    canvas.paste(Image.fromarray(tile), (0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((2, tile.shape[0] + 1), name[-28:], fill=(0, 0, 0))
    if note:
        draw.text((2, tile.shape[0] + 12), note[:28], fill=PROBLEM_COLOUR)
    return np.asarray(canvas)


def pose_sheet(
    entries: list[tuple[np.ndarray | None, np.ndarray | None, str, str | None]], columns: int = 8
) -> np.ndarray:
    """(picture or None when unreadable, its keypoints or None, name, note) -> one RGB picture:
    each photo fitted into a 256x176 tile with its skeleton drawn over it, its name and note below."""
    tiles = []
    for picture, keypoints, name, note in entries:
        if picture is None:
            tile = np.full((*TILE, 3), 255, dtype=np.uint8)
        else:
            tile, record = fit_image(picture, TILE, "pad")
            if keypoints is not None:
                tile = overlay_skeleton(tile, fit_keypoints(keypoints, record))
        tiles.append(_caption(tile, name, note))
    height, width = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * height, min(columns, len(tiles)) * width, 3), 255, dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * height : (r + 1) * height, c * width : (c + 1) * width] = tile
    return sheet
