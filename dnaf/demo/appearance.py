"""The fixed look of a synthetic identity: colours, garment pattern, hair, build, file category."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Literal

import numpy as np

RGB = tuple[int, int, int]

SKIN_TONES: tuple[RGB, ...] = (
    (255, 224, 196), (241, 194, 160), (224, 172, 128), (198, 134, 90), (150, 98, 62), (96, 62, 40),
)  # fmt: skip
HAIR_COLOURS: tuple[RGB, ...] = (
    (25, 20, 18), (70, 45, 25), (120, 80, 40), (200, 160, 90), (150, 60, 30), (160, 160, 160),
)  # fmt: skip
CATEGORIES = {
    "MEN": (
        "Denim",
        "Jackets_Vests",
        "Pants",
        "Shirts_Polos",
        "Sweaters",
        "Tees_Tanks",
    ),
    "WOMEN": (
        "Blouses_Shirts",
        "Cardigans",
        "Graphic_Tees",
        "Pants",
        "Sweaters",
        "Tees_Tanks",
    ),
}
Pattern = Literal["solid", "stripes", "checks"]


@dataclass(frozen=True)
class Look:
    """Everything about a person that stays the same across their images."""

    gender: Literal["MEN", "WOMEN"]
    category: str
    skin: RGB
    hair: RGB
    long_hair: bool
    upper: RGB
    upper_second: RGB
    pattern: Pattern
    pattern_period: float  # fraction of the figure height
    long_sleeves: bool
    lower: RGB
    shoes: RGB
    height: float  # figure height as a fraction of the image height
    build: float  # width multiplier


def _garment_colour(rng: np.random.Generator) -> RGB:
    hue = rng.uniform()
    saturation = rng.uniform(0.45, 0.95)
    value = rng.uniform(0.35, 0.95)
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(hue, saturation, value))


def _distinct_colour(rng: np.random.Generator, other: RGB, min_distance: float = 120.0) -> RGB:
    for _ in range(100):
        colour = _garment_colour(rng)
        if np.linalg.norm(np.subtract(colour, other)) >= min_distance:
            return colour
    return tuple(255 - c for c in other)


def sample_look(rng: np.random.Generator) -> Look:
    gender = "MEN" if rng.uniform() < 0.5 else "WOMEN"
    upper = _garment_colour(rng)
    return Look(
        gender=gender,
        category=str(rng.choice(CATEGORIES[gender])),
        skin=SKIN_TONES[rng.integers(len(SKIN_TONES))],
        hair=HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))],
        long_hair=bool(rng.uniform() < (0.7 if gender == "WOMEN" else 0.15)),
        upper=upper,
        upper_second=_distinct_colour(rng, upper),
        pattern=("solid", "stripes", "checks")[rng.integers(3)],
        pattern_period=float(rng.uniform(0.05, 0.09)),
        long_sleeves=bool(rng.uniform() < 0.5),
        lower=_distinct_colour(rng, upper, 90.0),
        shoes=tuple(int(v) for v in rng.integers(10, 90, size=3)),
        height=float(rng.uniform(0.78, 0.9)),
        build=float(rng.uniform(0.88, 1.15)),
    )
