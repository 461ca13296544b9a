"""The fixed look of a synthetic identity: colours, garment pattern, hair, build, file category.

Two kinds of look: the demo's (``patterns: demo``: solid, horizontal stripes or checks finer than
the demo's 4x4-pixel patches at 64x44) and the texture study's (``patterns: rich``: every upper
garment striped or checked at a random period, orientation and phase, coarse enough to be
representable at 64x44, with a small logo at a random place).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, replace
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
Patterns = Literal["demo", "rich"]
LogoShape = Literal["disc", "diamond", "square"]

RICH_PERIOD = (0.11, 0.22)
"""Period of the rich patterns, as a fraction of the figure height: 6-12 pixels at the study's
64x44 (a figure about 54 pixels tall), 1.5 to 3 of its 4x4-pixel patches."""
LOGO_SIZE = 0.09
"""Logo half-size as a fraction of the figure height (about 5 pixels across at 64x44)."""


@dataclass(frozen=True)
class Print:
    """The texture study's upper-garment print: its pattern's geometry and a logo."""

    angle: float  # degrees in [0, 180): the direction the stripes run, 0 = horizontal
    phase: float  # fraction of a period, where the pattern starts at the neck
    logo: RGB
    logo_shape: LogoShape
    logo_at: tuple[float, float]  # (across, down): across the torso in [-0.5, 0.5] of its width,
    # down from the shoulders to the hips in [0, 1]


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
    print: Print | None = None  # the rich patterns' geometry and logo; None for the demo's look


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


def sample_rich_look(rng: np.random.Generator) -> Look:
    """A look of the texture study: the demo's draws, then an upper garment striped or checked at
    a random period (RICH_PERIOD), orientation and phase, in two distinct colours, and a logo of a
    third colour."""
    look = sample_look(rng)
    logo = _distinct_colour(rng, look.upper)
    for _ in range(100):  # far from both garment colours, so that the logo stands out
        if np.linalg.norm(np.subtract(logo, look.upper_second)) >= 80:
            break
        logo = _distinct_colour(rng, look.upper)
    return replace(
        look,
        pattern=("stripes", "checks")[rng.integers(2)],
        pattern_period=float(rng.uniform(*RICH_PERIOD)),
        print=Print(
            angle=float(rng.uniform(0, 180)),
            phase=float(rng.uniform()),
            logo=logo,
            logo_shape=("disc", "diamond", "square")[rng.integers(3)],
            logo_at=(float(rng.uniform(-0.25, 0.25)), float(rng.uniform(0.2, 0.6))),
        ),
    )


def sample_identity_look(rng: np.random.Generator, patterns: Patterns) -> Look:
    return sample_rich_look(rng) if patterns == "rich" else sample_look(rng)
