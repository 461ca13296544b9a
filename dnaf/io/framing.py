"""Bringing any picture to a frame (height, width): the model's, or a dataset's; recording how, so
that keypoints follow."""

from __future__ import annotations

from typing import Literal

import numpy as np
from PIL import Image

Fit = Literal["pad", "resize", "crop"]
PAD_COLOUR = (255, 255, 255)  # the datasets' studio background


def fit_image(
    image: np.ndarray,
    size: tuple[int, int],
    fit: Fit = "pad",
    pad_colour: tuple[int, int, int] = PAD_COLOUR,
    resample: Image.Resampling = Image.Resampling.BICUBIC,
) -> tuple[np.ndarray, dict]:
    """(h, w, 3) uint8 -> (H, W, 3) uint8 at ``size`` and the record of the operation: ``pad``
    keeps the aspect ratio and pads (white by default), ``crop`` keeps it and cuts the centre,
    ``resize`` stretches. Unchanged when the image already has ``size``."""
    height, width = size
    h, w = image.shape[:2]
    record = {"fit": fit, "input_size": [h, w], "size": [height, width]}
    if (h, w) == (height, width):
        return image, record
    picture = Image.fromarray(image)
    if fit == "resize":
        return np.asarray(picture.resize((width, height), resample)), record
    scale = min(height / h, width / w) if fit == "pad" else max(height / h, width / w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    scaled = picture.resize((new_w, new_h), resample)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    if fit == "pad":
        canvas = Image.new("RGB", (width, height), pad_colour)
        canvas.paste(scaled, (left, top))
    else:
        canvas = scaled.crop((-left, -top, -left + width, -top + height))
    record.update(scale=scale, offset=[top, left])
    return np.asarray(canvas), record


def fit_keypoints(keypoints: np.ndarray, record: dict) -> np.ndarray:
    """(18, 2) normalised (x, y) of the input picture -> those of the fitted one (``record`` from
    :func:`fit_image`); a joint that falls outside the frame (cropped away) becomes missing."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if "scale" not in record:  # unchanged, or stretched: normalised coordinates stay
        return keypoints.copy()
    (h, w), (height, width) = record["input_size"], record["size"]
    top, left = record["offset"]
    scale = record["scale"]
    fitted = np.stack([(keypoints[:, 0] * w * scale + left) / width, (keypoints[:, 1] * h * scale + top) / height], 1)
    fitted[~((fitted >= 0) & (fitted < 1)).all(axis=1)] = np.nan
    return fitted
