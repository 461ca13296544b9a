"""Background noise: how grainy a generated picture is where the ground truth is plain background.

The standard deviation of the luminance (ITU-R 601 weights, 0-255) of the generated picture inside
the ground truth's background mask, eroded by ERODE pixels so that no outline of the person (nor
its resampling) counts. The same on the ground truth gives the floor: the studio background's own
shading and JPEG noise. A pair's value is NaN when fewer than MIN_PIXELS pixels remain.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import binary_erosion

from dnaf.data.parts import PART_LABELS

ERODE = 2
MIN_PIXELS = 64
LUMA = np.array([0.299, 0.587, 0.114])


def background_mask(labels: np.ndarray) -> np.ndarray:
    """(H, W) part labels -> the background, eroded by ERODE pixels (the picture's border is
    background beyond: the frame edge does not erode it)."""
    square = np.ones((3, 3), bool)  # every pixel within ERODE in x and y, corners included
    return binary_erosion(labels == PART_LABELS["background"], square, iterations=ERODE, border_value=1)


def background_std(image: np.ndarray, mask: np.ndarray) -> float:
    """(H, W, 3) uint8 and a boolean mask -> the luminance's standard deviation there (0-255)."""
    if mask.sum() < MIN_PIXELS:
        return math.nan
    return float((image[mask].astype(np.float64) @ LUMA).std())
