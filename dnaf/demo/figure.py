"""Geometry of a synthetic person: a sampled pose -> the 18 OpenPose joints in image pixels.

Positions are fractions of the figure height ``h`` below the top of the head. Front view: the
person's right side is on the image's left, as in a photograph; back view mirrors it. Side views
compress widths and swing the limbs forwards and backwards instead of outwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from dnaf.data.keypoints import KEYPOINT_NAMES
from dnaf.demo.appearance import Look

View = Literal["front", "back", "left", "right"]
FILE_VIEW = {"front": "front", "back": "back", "left": "side", "right": "side"}
"""DeepFashion's view word for each view (used in file names)."""

# Vertical landmarks (fraction of h from the top of the head) and sizes (fraction of h).
# The head is drawn larger than a person's (cartoon proportions): at the demo's 64x44 training
# size the face and hair must be a few pixels across for their colours to be measurable.
NOSE_Y, EYE_Y, EAR_Y, NECK_Y, SHOULDER_Y, HIP_Y = (
    0.1,
    0.082,
    0.09,
    0.17,
    0.2,
    0.52,
)
HEAD_RX, HEAD_RY = 0.066, 0.082
SHOULDER_HALF, HIP_HALF = 0.105, 0.075
UPPER_ARM, FOREARM, THIGH, SHIN = 0.165, 0.15, 0.215, 0.215
SIDE_COMPRESSION = 0.3


@dataclass(frozen=True)
class Pose:
    """One picture's pose: view, limb angles (degrees), placement."""

    view: View
    arm_raise: tuple[float, float]  # (right, left): 0 = hanging down, 90 = horizontal, 170 = up
    elbow_bend: tuple[float, float]  # added to the forearm's angle
    leg_spread: tuple[float, float]  # thigh angle from vertical
    knee_bend: tuple[float, float]
    scale: float  # multiplies the identity's height
    centre_x: float  # fraction of the image width
    top_y: float  # fraction of the image height


def sample_pose(rng: np.random.Generator) -> Pose:
    view = ("front", "back", "left", "right")[rng.choice(4, p=[0.4, 0.2, 0.2, 0.2])]
    style = rng.choice(["down", "out", "up", "one_up", "hips"], p=[0.35, 0.2, 0.15, 0.15, 0.15])
    if style == "down":
        raise_, bend = rng.uniform(5, 25, 2), rng.uniform(0, 35, 2)
    elif style == "out":
        raise_, bend = rng.uniform(70, 100, 2), rng.uniform(-20, 40, 2)
    elif style == "up":
        raise_, bend = rng.uniform(140, 170, 2), rng.uniform(-15, 15, 2)
    elif style == "one_up":
        raise_ = np.array([rng.uniform(130, 165), rng.uniform(5, 30)])
        bend = rng.uniform(-10, 30, 2)
        if rng.uniform() < 0.5:
            raise_ = raise_[::-1]
    else:  # hands on hips
        raise_, bend = rng.uniform(35, 50, 2), rng.uniform(-110, -90, 2)
    if view in ("left", "right"):  # walking: one leg forwards, one back
        stride = rng.uniform(5, 25)
        spread = np.array([stride, -stride])
        knees = np.array([rng.uniform(-15, 0), 0.0])
    else:
        spread = rng.uniform(2, 14, 2)
        knees = rng.uniform(-6, 6, 2)
    return Pose(
        view=view,
        arm_raise=tuple(float(v) for v in raise_),
        elbow_bend=tuple(float(v) for v in bend),
        leg_spread=tuple(float(v) for v in spread),
        knee_bend=tuple(float(v) for v in knees),
        scale=float(rng.uniform(0.9, 1.05)),
        centre_x=float(rng.uniform(0.42, 0.58)),
        top_y=float(rng.uniform(0.03, 0.09)),
    )


@dataclass(frozen=True)
class Figure:
    """Joint positions in image pixels (x, y), the figure height, and which joints are hidden."""

    joints: dict[str, np.ndarray]
    height: float
    width_scale: float  # lateral compression applied to the body (1 front/back)
    hidden: frozenset[str]
    far_side: str | None  # "right" / "left" limbs drawn behind the body in side views


def _limb(start: np.ndarray, angle_deg: float, length: float, lateral: float) -> np.ndarray:
    """End point of a limb of ``length`` at ``angle_deg`` from straight down; ``lateral`` (+-1)
    says towards which image side a positive angle opens."""
    a = math.radians(angle_deg)
    return start + np.array([lateral * math.sin(a), math.cos(a)]) * length


def build_figure(look: Look, pose: Pose, size: tuple[int, int]) -> Figure:
    """Place the person of ``look`` in ``pose`` on an image of ``size`` (height, width)."""
    height_px, width_px = size
    h = look.height * pose.scale * height_px
    top = np.array([pose.centre_x * width_px, pose.top_y * height_px])
    side = pose.view in ("left", "right")
    facing = 1.0 if pose.view == "right" else -1.0
    compress = SIDE_COMPRESSION if side else 1.0
    # image-x direction of the person's left side (front: left is on the image's right)
    left_dir = {"front": 1.0, "back": -1.0, "left": facing, "right": facing}[pose.view]

    def at(dx: float, y: float) -> np.ndarray:
        return top + np.array([dx * h, y * h])

    j: dict[str, np.ndarray] = {}
    j["neck"] = at(0.0, NECK_Y)
    for sign, name in ((-1.0, "right"), (1.0, "left")):
        lateral = sign * left_dir * look.build * compress
        j[f"{name}_shoulder"] = at(lateral * SHOULDER_HALF, SHOULDER_Y)
        j[f"{name}_hip"] = at(lateral * HIP_HALF, HIP_Y)
        k = 0 if name == "right" else 1
        arm_dir = facing if side else sign * left_dir  # side views swing limbs front/back
        raise_ = pose.arm_raise[k]
        j[f"{name}_elbow"] = _limb(j[f"{name}_shoulder"], raise_, UPPER_ARM * h, arm_dir)
        j[f"{name}_wrist"] = _limb(j[f"{name}_elbow"], raise_ + pose.elbow_bend[k], FOREARM * h, arm_dir)
        leg_dir = facing if side else sign * left_dir
        j[f"{name}_knee"] = _limb(j[f"{name}_hip"], pose.leg_spread[k], THIGH * h, leg_dir)
        j[f"{name}_ankle"] = _limb(j[f"{name}_knee"], pose.leg_spread[k] + pose.knee_bend[k], SHIN * h, leg_dir)
    face_dx = facing * HEAD_RX * 0.85 if side else 0.0
    j["nose"] = at(face_dx, NOSE_Y)
    for sign, name in ((-1.0, "right"), (1.0, "left")):
        if side:
            j[f"{name}_eye"] = at(facing * HEAD_RX * 0.5, EYE_Y)
            j[f"{name}_ear"] = at(-facing * HEAD_RX * 0.15, EAR_Y)
        else:
            j[f"{name}_eye"] = at(sign * left_dir * HEAD_RX * 0.42, EYE_Y)
            j[f"{name}_ear"] = at(sign * left_dir * HEAD_RX * 0.8, EAR_Y)

    hidden: set[str] = set()
    far_side = None
    if pose.view == "back":
        hidden |= {"nose", "right_eye", "left_eye"}
    elif side:
        far_side = "left" if pose.view == "right" else "right"
        hidden |= {f"{far_side}_eye", f"{far_side}_ear"}
    for name, (x, y) in j.items():
        if not (0 <= x < width_px and 0 <= y < height_px):
            hidden.add(name)
    return Figure(j, h, look.build * compress, frozenset(hidden), far_side)


def figure_keypoints(figure: Figure) -> np.ndarray:
    """(18, 2) pixel (x, y) in OpenPose order, NaN for hidden joints."""
    points = np.array([figure.joints[name] for name in KEYPOINT_NAMES], dtype=np.float64)
    for k, name in enumerate(KEYPOINT_NAMES):
        if name in figure.hidden:
            points[k] = np.nan
    return points
