"""Person detectors that give COCO-18 keypoints of a photo: MediaPipe Pose (offline, the default)
and OpenPose's body model through controlnet_aux (weights from a local folder)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from dnaf.core.errors import UsageError
from dnaf.data.keypoints import NUM_KEYPOINTS, present
from dnaf.pose.config import PoseExtractionConfig
from dnaf.pose.landmarks import mediapipe_to_coco18

OPENPOSE_BODY_FILES = ("body_pose_model.safetensors", "body_pose_model.pth")
"""The body model of lllyasviel/Annotators, in the form a local weights folder may hold it."""


class DetectorUnavailable(UsageError):
    """The configured detector cannot run here (not installed, weights missing)."""


@dataclass(frozen=True)
class Person:
    """One detected person: (18, 2) normalised (x, y) with NaN for a missing joint, (18,) confidence."""

    keypoints: np.ndarray
    confidence: np.ndarray

    @property
    def joints(self) -> int:
        return int(present(self.keypoints).sum())

    def area(self) -> float:
        """Normalised area of the box around the present joints: what "the largest person" compares."""
        joints = self.keypoints[present(self.keypoints)]
        if len(joints) < 2:
            return 0.0
        extent = joints.max(axis=0) - joints.min(axis=0)
        return float(extent[0] * extent[1])


class Detector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[Person]:
        """(H, W, 3) uint8 RGB -> the people found, in any order."""


class MediaPipeDetector:
    """MediaPipe Pose (``solutions.pose``): one person per photo; its landmark model ships inside
    the 0.10.21 wheel, so it runs offline. ``model_complexity=1`` is the only model the wheel
    carries (0 and 2 are downloaded on first use)."""

    name = "mediapipe"

    def __init__(self, min_visibility: float) -> None:
        # MediaPipe's C++ core logs every graph it builds; only its errors concern a user.
        os.environ.setdefault("GLOG_minloglevel", "2")
        try:
            from mediapipe.python.solutions import pose
        except ImportError as error:
            raise DetectorUnavailable(
                f"pose extraction with MediaPipe needs the mediapipe package ({error}): `make install` "
                "installs it, or by hand `pip install --no-deps -r envs/requirements-pose.txt` "
                "(--no-deps: its metadata asks for numpy<2, which it does not need)"
            ) from None
        self.min_visibility = min_visibility
        self._pose = pose.Pose(static_image_mode=True, model_complexity=1)

    def detect(self, image: np.ndarray) -> list[Person]:
        result = self._pose.process(np.ascontiguousarray(image))
        if result.pose_landmarks is None:
            return []
        landmarks = np.array([(m.x, m.y, m.visibility) for m in result.pose_landmarks.landmark])
        return [Person(*mediapipe_to_coco18(landmarks, self.min_visibility))]


def _openpose_state(weights: Path) -> dict:
    """The body model's tensors: safetensors, or a .pth read as tensors only (no code unpickled)."""
    import torch
    from safetensors.torch import load_file

    for name in OPENPOSE_BODY_FILES:
        path = weights / name
        if path.is_file():
            return load_file(path) if path.suffix == ".safetensors" else torch.load(path, weights_only=True)
    raise DetectorUnavailable(
        f"{weights}: no OpenPose body model ({' or '.join(OPENPOSE_BODY_FILES)}); download "
        "body_pose_model.pth of lllyasviel/Annotators into this folder on a machine that is online"
    )


class OpenPoseDetector:
    """OpenPose's body model (controlnet_aux's port): several people per photo."""

    name = "openpose"

    def __init__(self, weights: Path, device: str = "cpu") -> None:
        from controlnet_aux.open_pose.body import Body, bodypose_model

        state = _openpose_state(weights)
        model = bodypose_model()
        try:
            # the checkpoint names its tensors without the module prefix of bodypose_model's keys
            model.load_state_dict({key: state[key.split(".", 1)[1]] for key in model.state_dict()})
        except (KeyError, RuntimeError) as error:
            raise DetectorUnavailable(f"{weights}: not OpenPose's body model ({error})") from None
        self._body = Body.__new__(Body)  # Body's own constructor would torch.load the file unrestricted
        self._body.model = model.to(device).eval()

    def detect(self, image: np.ndarray) -> list[Person]:
        import torch

        height, width = image.shape[:2]
        with torch.no_grad():
            candidate, subset = self._body(np.ascontiguousarray(image[:, :, ::-1]))  # it reads BGR
        people = []
        for body in self._body.format_body_result(candidate, subset):
            xy = np.full((NUM_KEYPOINTS, 2), np.nan)
            confidence = np.zeros(NUM_KEYPOINTS)
            for joint, point in enumerate(body.keypoints):
                if point is not None:
                    xy[joint] = (point.x / width, point.y / height)
                    confidence[joint] = point.score
            people.append(Person(xy, confidence))
        return people


def make_detector(config: PoseExtractionConfig) -> Detector:
    if config.detector == "openpose":
        if config.weights is None:
            raise DetectorUnavailable("pose_extraction.detector is openpose: set pose_extraction.weights to its folder")
        return OpenPoseDetector(config.weights)
    return MediaPipeDetector(config.min_visibility)
