"""Skeleton images drawn with controlnet_aux's OpenPose body drawing (DNAF's pose condition)."""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image

from dnaf.data.keypoints import NUM_KEYPOINTS

with warnings.catch_warnings():
    # controlnet_aux's package import pulls in all its detectors, which warn about optional
    # dependencies (mediapipe) and timm deprecations that do not concern the pose drawing.
    warnings.simplefilter("ignore")
    from controlnet_aux.open_pose import Keypoint
    from controlnet_aux.open_pose.util import draw_bodypose


def render_skeleton(keypoints: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(18, 2) normalised (x, y), NaN for a missing joint -> (H, W, 3) uint8 RGB skeleton on black.

    Limbs whose end is missing are not drawn; joints outside [0, 1] draw off the canvas.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.shape != (NUM_KEYPOINTS, 2):
        raise ValueError(f"expected keypoints of shape ({NUM_KEYPOINTS}, 2), got {keypoints.shape}")
    height, width = size
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    points = [None if np.isnan(p).any() else Keypoint(float(p[0]), float(p[1])) for p in keypoints]
    return draw_bodypose(canvas, points)


def skeleton_at(skeleton: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A skeleton picture in the model's frame ``size`` (height, width): box-filtered, so limbs
    drawn at the skeleton size survive as lighter lines; unchanged when it has that size."""
    if skeleton.shape[:2] == tuple(size):
        return skeleton
    return np.asarray(Image.fromarray(skeleton).resize((size[1], size[0]), Image.Resampling.BOX))
