"""The pose condition a pipeline is given: skeleton pictures, or keypoints it draws itself."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from dnaf.data.keypoints import NUM_KEYPOINTS
from dnaf.io.batches import PictureInput, picture_batch
from dnaf.pose.render import render_skeleton, skeleton_at

KeypointsInput = np.ndarray | Sequence[np.ndarray]
"""(18, 2) normalised (x, y), NaN for a missing joint; a list of them, or a (B, 18, 2) array."""


def is_keypoints(pose: object) -> bool:
    if isinstance(pose, np.ndarray):
        return pose.ndim in (2, 3) and pose.shape[-2:] == (NUM_KEYPOINTS, 2)
    return isinstance(pose, Sequence) and bool(pose) and all(is_keypoints(item) for item in pose)


def skeleton_batch(
    pose: PictureInput | KeypointsInput, size: tuple[int, int], skeleton_size: tuple[int, int]
) -> torch.Tensor:
    """-> (B, 3, H, W) skeleton pictures in [0, 1] at the model's ``size``. Keypoints are drawn at
    ``skeleton_size`` (the dataset's, as in training) and box-filtered to ``size``, as the skeleton
    cache does; pictures of another size are box-filtered too."""
    if is_keypoints(pose):
        keypoints = list(pose) if isinstance(pose, Sequence) or pose.ndim == 3 else [pose]
        pose = [skeleton_at(render_skeleton(points, skeleton_size), size) for points in keypoints]
    return picture_batch(pose, size, signed=False, resize=skeleton_at, what="pose")
