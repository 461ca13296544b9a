"""Drawing a synthetic person: a part label map drawn at 4x, coloured, then box-downsampled.

Drawing labels first and colouring afterwards keeps the picture and its part map exactly
consistent (the part map is what the appearance metric measures against).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from dnaf.data.parts import PART_LABELS
from dnaf.demo.appearance import LOGO_SIZE, Look
from dnaf.demo.figure import (
    EYE_Y,
    HEAD_RX,
    HEAD_RY,
    HIP_HALF,
    HIP_Y,
    SHOULDER_Y,
    Figure,
)

_EYE = 6  # drawn label for the eyes; coloured dark, counted as skin in the part map
_LOGO = 7  # drawn label for the rich look's logo; counted as the upper garment in the part map
SUPERSAMPLE = 4


class _Canvas:
    """Draws labels on a supersampled canvas with coordinates given in output pixels."""

    def __init__(self, size: tuple[int, int]) -> None:
        height, width = size
        self.image = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
        self.draw = ImageDraw.Draw(self.image)

    @staticmethod
    def _xy(point: np.ndarray) -> tuple[float, float]:
        return float(point[0]) * SUPERSAMPLE, float(point[1]) * SUPERSAMPLE

    def disc(self, centre: np.ndarray, rx: float, ry: float, label: int) -> None:
        x, y = self._xy(centre)
        rx, ry = rx * SUPERSAMPLE, ry * SUPERSAMPLE
        self.draw.ellipse([x - rx, y - ry, x + rx, y + ry], fill=label)

    def capsule(self, start: np.ndarray, end: np.ndarray, width: float, label: int) -> None:
        self.draw.line(
            [self._xy(start), self._xy(end)],
            fill=label,
            width=max(1, round(width * SUPERSAMPLE)),
        )
        for point in (start, end):
            self.disc(point, width / 2, width / 2, label)

    def cap(self, centre: np.ndarray, rx: float, ry: float, depth: float, label: int) -> None:
        """The top ``depth`` (fraction of the height) of an ellipse."""
        x, y = self._xy(centre)
        rx, ry = rx * SUPERSAMPLE, ry * SUPERSAMPLE
        half = math.degrees(math.asin(1 - 2 * depth))  # chord angle below the horizontal
        self.draw.chord([x - rx, y - ry, x + rx, y + ry], 180 + half, 360 - half, fill=label)

    def polygon(self, points: list[np.ndarray], label: int) -> None:
        self.draw.polygon([self._xy(p) for p in points], fill=label)

    def logo(self, centre: np.ndarray, half: float, shape: str, over: int) -> None:
        """A logo of ``shape`` drawn only over the pixels labelled ``over`` so far."""
        shapes = Image.new("L", self.image.size, 0)
        x, y = self._xy(centre)
        r = half * SUPERSAMPLE
        draw = ImageDraw.Draw(shapes)
        if shape == "disc":
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
        elif shape == "diamond":
            draw.polygon([(x, y - r), (x + r, y), (x, y + r), (x - r, y)], fill=255)
        else:
            draw.rectangle([x - r * 0.8, y - r * 0.8, x + r * 0.8, y + r * 0.8], fill=255)
        inside = (np.asarray(shapes) > 0) & (np.asarray(self.image) == over)
        self.image.paste(_LOGO, mask=Image.fromarray((inside * 255).astype(np.uint8)))


def _draw_labels(look: Look, figure: Figure, size: tuple[int, int]) -> np.ndarray:
    canvas = _Canvas(size)
    j, h = figure.joints, figure.height
    neck = j["neck"]
    top = neck - np.array([0.0, (0.165) * h])
    side = figure.far_side is not None
    facing = np.sign(j["nose"][0] - neck[0]) if side else 0.0
    head = top + np.array([facing * 0.25 * HEAD_RX * h, HEAD_RY * h])
    back_view = "nose" in figure.hidden and not side
    upper, lower, skin, hair, shoes = (PART_LABELS[k] for k in ("upper", "lower", "skin", "hair", "shoes"))

    def long_hair() -> None:
        behind = head + np.array([-facing * 0.35 * HEAD_RX * h, 0.06 * h])
        canvas.disc(behind, HEAD_RX * 1.15 * h, 0.11 * h, hair)

    def arm(name: str) -> None:
        canvas.capsule(j[f"{name}_shoulder"], j[f"{name}_elbow"], 0.075 * h, upper)
        canvas.capsule(
            j[f"{name}_elbow"],
            j[f"{name}_wrist"],
            0.064 * h,
            upper if look.long_sleeves else skin,
        )
        canvas.disc(j[f"{name}_wrist"], 0.038 * h, 0.038 * h, skin)

    def leg(name: str) -> None:
        canvas.capsule(j[f"{name}_hip"], j[f"{name}_knee"], 0.1 * h, lower)
        canvas.capsule(j[f"{name}_knee"], j[f"{name}_ankle"], 0.085 * h, lower)
        toe = np.array([facing * 0.025 * h, 0.01 * h])
        canvas.disc(j[f"{name}_ankle"] + toe, 0.045 * h if side else 0.035 * h, 0.022 * h, shoes)

    if look.long_hair and not back_view:
        long_hair()
    near = ("right", "left")
    if side:
        far = figure.far_side
        near = ("left",) if far == "right" else ("right",)
        arm(far)
        leg(far)
    for name in near:
        leg(name)
    half_width = max(figure.width_scale, 0.45)
    centre_x = (j["left_shoulder"][0] + j["right_shoulder"][0]) / 2
    hip_x = (j["left_hip"][0] + j["right_hip"][0]) / 2
    shoulder_y, hip_y = top[1] + (SHOULDER_Y - 0.015) * h, top[1] + HIP_Y * h
    sw, hw = (0.14 * half_width * h, (HIP_HALF + 0.035) * half_width * h)
    canvas.polygon(
        [np.array([hip_x - hw, hip_y - 0.03 * h]), np.array([hip_x + hw, hip_y - 0.03 * h]),
         np.array([hip_x + hw * 1.05, hip_y + 0.07 * h]), np.array([hip_x - hw * 1.05, hip_y + 0.07 * h])],
        lower,
    )  # fmt: skip
    canvas.polygon(
        [np.array([centre_x - sw, shoulder_y]), np.array([centre_x + sw, shoulder_y]),
         np.array([hip_x + hw, hip_y]), np.array([hip_x - hw, hip_y])],
        upper,
    )  # fmt: skip
    if look.print is not None and not back_view:  # on the shirt's front, under the near arms
        across, down = look.print.logo_at
        width = 2 * (sw + down * (hw - sw)) * (figure.width_scale if side else 1.0)
        centre = np.array([centre_x + down * (hip_x - centre_x) + across * width,
                           shoulder_y + down * (hip_y - shoulder_y)])  # fmt: skip
        canvas.logo(centre, LOGO_SIZE * h, look.print.logo_shape, upper)
    canvas.capsule(
        top + np.array([0.0, 0.13 * h]),
        top + np.array([0.0, 0.19 * h]),
        0.06 * h,
        skin,
    )
    for name in near:
        arm(name)
    if not back_view:  # hair behind and above the face
        canvas.disc(
            head + np.array([-facing * 0.2 * HEAD_RX * h, -0.02 * h]),
            HEAD_RX * 1.15 * h,
            HEAD_RY * 0.98 * h,
            hair,
        )
    canvas.disc(head, HEAD_RX * h, HEAD_RY * h, skin)
    if not back_view:  # a fringe over the top of the face
        canvas.cap(head, HEAD_RX * h, HEAD_RY * h, 0.3, hair)
    if back_view:
        canvas.disc(
            head + np.array([0.0, -0.008 * h]),
            HEAD_RX * 1.08 * h,
            HEAD_RY * 1.0 * h,
            hair,
        )
        if look.long_hair:
            long_hair()
    for name in ("right_eye", "left_eye"):
        if name not in figure.hidden:
            eye = j[name].copy()
            eye[1] = top[1] + EYE_Y * h
            canvas.disc(eye, 0.011 * h, 0.011 * h, _EYE)
    return np.asarray(canvas.image)


def _pattern(look: Look, figure: Figure, shape: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 garment texture at the supersampled size, anchored to the body."""
    height, width = shape
    period = max(2.0, look.pattern_period * figure.height * SUPERSAMPLE)
    anchor = figure.joints["neck"] * SUPERSAMPLE
    if look.print is not None:
        return _rich_pattern(look, anchor, period, shape)
    rows = np.floor((np.arange(height) - anchor[1]) / (period / 2)).astype(int) % 2
    cols = np.floor((np.arange(width) - anchor[0]) / (period / 2)).astype(int) % 2
    if look.pattern == "solid":
        second = np.zeros((height, width), dtype=bool)
    elif look.pattern == "stripes":
        second = np.broadcast_to(rows[:, None] == 1, (height, width))
    else:
        second = (rows[:, None] ^ cols[None, :]) == 1
    return np.where(
        second[..., None],
        np.array(look.upper_second, np.uint8),
        np.array(look.upper, np.uint8),
    )


def _rich_pattern(look: Look, anchor: np.ndarray, period: float, shape: tuple[int, int]) -> np.ndarray:
    """Stripes running at ``look.print.angle`` (or checks aligned with them), anchored at the
    neck with the print's phase: the pattern moves with the body, and keeps its orientation."""
    angle = math.radians(look.print.angle)
    y, x = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    x, y = x - anchor[0], y - anchor[1]
    across = (-x * math.sin(angle) + y * math.cos(angle)) / period + look.print.phase  # periods
    second = np.floor(2 * across).astype(int) % 2 == 1
    if look.pattern == "checks":
        along = (x * math.cos(angle) + y * math.sin(angle)) / period
        second ^= np.floor(2 * along).astype(int) % 2 == 1
    return np.where(second[..., None], np.array(look.upper_second, np.uint8), np.array(look.upper, np.uint8))


def draw_person(
    look: Look, figure: Figure, size: tuple[int, int], background: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """-> (H, W, 3) uint8 RGB picture and (H, W) uint8 part map (values of PART_LABELS)."""
    labels = _draw_labels(look, figure, size)
    palette = np.array(
        [
            background,
            look.skin,
            look.hair,
            look.upper,
            look.lower,
            look.shoes,
            (30, 25, 25),
            look.print.logo if look.print is not None else (0, 0, 0),
        ],
        dtype=np.uint8,
    )
    rgb = palette[labels]
    garment = labels == PART_LABELS["upper"]
    rgb[garment] = _pattern(look, figure, labels.shape)[garment]
    height, width = size
    picture = np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BOX))
    parts = np.where(labels == _EYE, PART_LABELS["skin"], labels)
    parts = np.where(parts == _LOGO, PART_LABELS["upper"], parts).astype(np.uint8)
    centre = SUPERSAMPLE // 2  # the label at each output pixel's centre
    return picture, parts[centre::SUPERSAMPLE, centre::SUPERSAMPLE]
