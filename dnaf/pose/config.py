"""How keypoints are extracted from photos (``dnaf extract-poses``, ``make-dataset``, the
applications' ``--pose-image``): the pose layer's own configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt

from dnaf.core.settings import StrictModel


class PoseExtractionConfig(StrictModel):
    detector: Literal["mediapipe", "openpose"] = "mediapipe"
    """mediapipe: MediaPipe Pose, offline, one person per photo; openpose: OpenPose's body model
    through controlnet_aux, several people, weights from ``weights``."""
    weights: Path | None = None
    """Folder holding body_pose_model.pth (or .safetensors) for openpose; not used by mediapipe."""
    min_visibility: float = Field(0.5, ge=0.0, le=1.0)
    """MediaPipe: a joint whose visibility is lower is missing (docs/own-data.md: how it was chosen)."""
    min_joints: PositiveInt = 8
    """make-dataset leaves out a picture whose person has fewer joints (of 18)."""
