"""MediaPipe Pose's 33 landmarks -> the 18 OpenPose (COCO-18) keypoints the model is trained on."""

from __future__ import annotations

import numpy as np

from dnaf.data.keypoints import NUM_KEYPOINTS

MEDIAPIPE_LANDMARKS = 33
NECK = 1
MEDIAPIPE_SHOULDERS = (11, 12)
"""MediaPipe has no neck: OpenPose's neck is the midpoint of the two shoulders."""
COCO18_FROM_MEDIAPIPE: tuple[int | None, ...] = (
    0,  # nose
    None,  # neck: midpoint of the shoulders
    12, 14, 16,  # right shoulder, elbow, wrist
    11, 13, 15,  # left shoulder, elbow, wrist
    24, 26, 28,  # right hip, knee, ankle
    23, 25, 27,  # left hip, knee, ankle
    5, 2,  # right eye, left eye (MediaPipe's centre of each eye)
    8, 7,  # right ear, left ear
)  # fmt: skip


def mediapipe_to_coco18(landmarks: np.ndarray, min_visibility: float) -> tuple[np.ndarray, np.ndarray]:
    """(33, 3) normalised (x, y, visibility) -> (18, 2) normalised (x, y) with NaN for a missing
    joint, and (18,) confidence (0 when missing).

    A joint is missing when its visibility is below ``min_visibility`` or it lies outside the
    picture (MediaPipe also places joints it only guesses beyond the frame). The neck is present
    when both shoulders are, with the lower of their two visibilities.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (MEDIAPIPE_LANDMARKS, 3):
        raise ValueError(f"expected ({MEDIAPIPE_LANDMARKS}, 3) landmarks, got {landmarks.shape}")
    xy = np.full((NUM_KEYPOINTS, 2), np.nan)
    confidence = np.zeros(NUM_KEYPOINTS)
    for joint, source in enumerate(COCO18_FROM_MEDIAPIPE):
        if source is not None:
            xy[joint], confidence[joint] = landmarks[source, :2], landmarks[source, 2]
    shoulders = landmarks[list(MEDIAPIPE_SHOULDERS)]
    xy[NECK], confidence[NECK] = shoulders[:, :2].mean(axis=0), shoulders[:, 2].min()
    inside = ((xy >= 0) & (xy < 1)).all(axis=1)
    kept = inside & (confidence >= min_visibility)
    shoulders_kept = all(
        0 <= x < 1 and 0 <= y < 1 and v >= min_visibility for x, y, v in shoulders
    )  # the neck stands for both
    kept[NECK] &= shoulders_kept
    xy[~kept] = np.nan
    confidence[~kept] = 0.0
    return xy, confidence
