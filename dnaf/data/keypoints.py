"""The 18 OpenPose (COCO-18) keypoints and conversions between pixel and normalised frames."""

from __future__ import annotations

import numpy as np

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
MISSING = -1
"""How annotation files mark a joint that was not detected."""


def present(keypoints: np.ndarray) -> np.ndarray:
    """(18, 2) keypoints, NaN for a missing joint -> (18,) bool: which joints are there."""
    return ~np.isnan(keypoints).any(axis=1)


def pixel_to_normalised(yx: np.ndarray, frame: tuple[int, int]) -> np.ndarray:
    """(18, 2) pixel (y, x) with MISSING -> (18, 2) normalised (x, y) in [0, 1], NaN for missing.

    A pixel index p in a frame of n pixels maps to p / n, the convention of OpenPose drawing code
    (controlnet_aux multiplies normalised coordinates by the canvas size).
    """
    yx = np.asarray(yx, dtype=np.float64)
    if yx.shape != (NUM_KEYPOINTS, 2):
        raise ValueError(f"expected keypoints of shape ({NUM_KEYPOINTS}, 2), got {yx.shape}")
    height, width = frame
    missing = (yx[:, 0] == MISSING) | (yx[:, 1] == MISSING)
    xy = np.stack([yx[:, 1] / width, yx[:, 0] / height], axis=1)
    xy[missing] = np.nan
    return xy


MIRROR = (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16)
"""Joint order of the mirrored image: each right joint becomes the left one and vice versa."""


def mirror_keypoints(xy: np.ndarray) -> np.ndarray:
    """(18, 2) normalised (x, y) of an image -> those of the image flipped left-right."""
    mirrored = np.asarray(xy, dtype=np.float64)[list(MIRROR)].copy()
    mirrored[:, 0] = 1.0 - mirrored[:, 0]
    return mirrored
