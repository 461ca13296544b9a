"""The dominant stripe of a garment: the highest peak of its spectrum, with its period and orientation.

A stripe is a frequency f = (fy, fx) in cycles per pixel. Its period is 1 / |f| pixels; its
orientation is the direction in which the pattern repeats (across the stripes), atan2(fy, fx) in
degrees modulo 180, x to the right and y downwards: vertical stripes are at 0, horizontal ones at
90. Peaks are searched from ``Spectrum.lowest`` (two periods across the garment's box) up.

A garment has a dominant stripe when the peak's prominence (its amplitude over the median
amplitude of the same band, both floored at 8-bit rounding) reaches PROMINENCE. A flat garment
has none: its period and orientation errors are NaN and left out of every mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from skimage.feature import peak_local_max

from dnaf.metrics.spectrum import Spectrum

PROMINENCE = 8.0
"""The least peak / median amplitude of a dominant stripe. White noise's highest peak stays below 5
on garments of 100 to 7,000 pixels (tests/test_texture_metrics.py). On the demo generator's JPEG
pictures (benchmarks/texture_thresholds.py) flat garments reach 6.1 at most, and 110 of 112 striped
or checked ones pass 8 (the two below are small garments holding few periods)."""
CO_DOMINANT = 0.8
"""Peaks of the ground truth at least this fraction of its highest are stripes too: a checked
pattern has two equal peaks (one per diagonal) and the generated may peak on either."""


@dataclass(frozen=True)
class Stripe:
    fy: float
    fx: float
    prominence: float

    @property
    def period(self) -> float:
        """Pixels per period."""
        return 1 / math.hypot(self.fy, self.fx)

    @property
    def orientation(self) -> float:
        """Degrees in [0, 180): the direction the pattern repeats in."""
        return math.degrees(math.atan2(self.fy, self.fx)) % 180


def _band(spectrum: Spectrum) -> np.ndarray:
    """Floored amplitudes of the stripe band, 0 outside it, (P, P)."""
    inside = spectrum.radius >= spectrum.lowest
    return np.where(inside, np.maximum(spectrum.amplitude, spectrum.floor), 0.0)


def _stripe(spectrum: Spectrum, band: np.ndarray, at: tuple[int, int], median: float) -> Stripe:
    fy, fx = spectrum.frequencies
    return Stripe(float(fy[at]), float(fx[at]), float(band[at] / median))


def dominant_stripe(spectrum: Spectrum) -> Stripe | None:
    """The highest peak of the band, prominent or not; None when the band is empty (a garment box
    too narrow for two periods of any stripe)."""
    band = _band(spectrum)
    if not band.any():
        return None
    at = np.unravel_index(np.argmax(band), band.shape)
    return _stripe(spectrum, band, at, float(np.median(band[band > 0])))


def stripes(spectrum: Spectrum) -> list[Stripe]:
    """The garment's stripes: the peaks within CO_DOMINANT of the highest when that one is
    prominent, else none (a flat garment). Each stripe appears twice, at f and -f."""
    highest = dominant_stripe(spectrum)
    if highest is None or highest.prominence < PROMINENCE:
        return []
    band = _band(spectrum)
    median = float(np.median(band[band > 0]))
    peaks = peak_local_max(band, min_distance=1, threshold_abs=CO_DOMINANT * band.max(), exclude_border=False)
    return [_stripe(spectrum, band, tuple(at), median) for at in peaks]


def orientation_gap(first: float, second: float) -> float:
    """Signed degrees from ``second`` to ``first`` modulo 180, in [-90, 90)."""
    return (first - second + 90) % 180 - 90


def stripe_deviation(truth: Spectrum, made: Spectrum) -> tuple[float, float]:
    """(signed relative period deviation, signed orientation gap in degrees) of the generated
    garment's highest peak from the nearest of the ground truth's stripes; (NaN, NaN) when the truth
    has none. The generated peak needs no prominence: a lost stripe leaves some other peak, far off."""
    candidates = stripes(truth)
    found = dominant_stripe(made)
    if not candidates or found is None:
        return math.nan, math.nan

    def gap(stripe: Stripe) -> float:  # f and -f are one stripe
        return min(math.hypot(stripe.fy - found.fy, stripe.fx - found.fx),
                   math.hypot(stripe.fy + found.fy, stripe.fx + found.fx))  # fmt: skip

    match = min(candidates, key=gap)
    return (found.period - match.period) / match.period, orientation_gap(found.orientation, match.orientation)


def stripe_errors(truth: Spectrum, made: Spectrum) -> tuple[float, float]:
    """(relative period error |P_gen - P_true| / P_true, orientation error in degrees in [0, 90]);
    (NaN, NaN) when the truth has no dominant stripe."""
    period, orientation = stripe_deviation(truth, made)
    return abs(period), abs(orientation)
