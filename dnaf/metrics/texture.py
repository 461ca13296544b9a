"""Texture metrics of the garments: does a generated person wear the ground truth's patterns?

Each garment ('upper', 'lower') of the ground truth's part map is compared in the two images
through its amplitude spectrum (dnaf.metrics.spectrum: luminance, the truth's mask eroded by one
pixel, mean-filled, windowed, padded; both images on one grid):

- ``texture_distance``: the mean over the frequency grid of |ln A_generated - ln A_true|, every
  amplitude floored at 8-bit rounding noise, each frequency weighted by its mean power
  (A_generated^2 + A_true^2) / 2 (nats; 0 for a copy, ln 2 when every amplitude is off by a factor
  of 2). Weighting by power keeps the many frequencies that hold nothing but rounding noise in
  either image from diluting a sparse spectrum (one stripe), and the distance nearly independent
  of the grid's padding. The amplitude ignores where the pattern lies (the phase), so a pattern a few
  pixels off still matches; position is SSIM's business.
- ``stripe_period_error``, ``stripe_orientation_error``: the generated garment's highest spectral
  peak against the nearest of the truth's stripes (dnaf.metrics.stripes): |P_gen - P_true| / P_true,
  and the angle between the orientations modulo 180 degrees, in [0, 90]. NaN when the truth has no
  dominant stripe (a flat garment).
- ``hf_energy_ratio``: the energy (sum of squared amplitudes) at |f| >= HIGH_FREQUENCY, generated
  over true: below 1 for blur and lost detail, above 1 for noise and invented detail. The
  generated energy is floored at that of 8-bit rounding, so that a ratio is never 0. NaN when the
  truth holds less than HF_TEXTURE times the rounding noise's energy there (no fine detail to lose).

A pair's value of a metric is over its garments that have one: the mean, and for the ratio the
geometric mean (a ratio of 2 and one of 1/2 average to 1). Over pairs likewise.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import gmean

from dnaf.data.parts import PART_LABELS
from dnaf.metrics.spectrum import Spectrum, garment, garment_mask, garment_spectrum, log_amplitude, spectrum_side
from dnaf.metrics.stripes import stripe_errors

GARMENTS = ("upper", "lower")
"""The parts whose texture is measured: the clothes (skin and hair carry no pattern to transfer)."""
TEXTURE_METRICS = ("texture_distance", "stripe_period_error", "stripe_orientation_error", "hf_energy_ratio")
RATIOS = ("hf_energy_ratio",)
"""Metrics averaged geometrically."""
HIGH_FREQUENCY = 0.25
"""Cycles per pixel at the scoring size: periods of 4 pixels and less (edges, fine detail)."""
HF_TEXTURE = 100.0
"""The truth's high-frequency energy must reach this many times that of 8-bit rounding noise (an rms
10 times rounding's, about 3 grey levels): JPEG's own artefacts on a flat garment stay below it.
Measured on the demo generator's JPEG pictures (benchmarks/texture_thresholds.py): 4 of 216 flat
garments reach it, 102 of 112 striped or checked ones do."""


def texture_columns() -> list[str]:
    """The per-image columns: each metric for the pair, then per garment (``<metric>_<garment>``)."""
    return [*TEXTURE_METRICS, *(f"{metric}_{name}" for name in GARMENTS for metric in TEXTURE_METRICS)]


def average(metric: str, values: list[float] | np.ndarray) -> float:
    """The mean of a metric's values, geometric for ratios; NaN values left out (NaN when none is left)."""
    kept = np.asarray(values, dtype=np.float64)
    kept = kept[~np.isnan(kept)]
    if not len(kept):
        return math.nan
    return float(gmean(kept) if metric in RATIOS else kept.mean())


def spectral_distance(first: Spectrum, second: Spectrum) -> float:
    """Power-weighted mean |ln A1 - ln A2| over the grid, amplitudes floored at the larger of the two
    rounding floors, each bin weighted by (A1^2 + A2^2) / 2; 0 for two flat garments."""
    if first.amplitude.shape != second.amplitude.shape:
        raise ValueError(f"spectra on different grids: {first.amplitude.shape} and {second.amplitude.shape}")
    floor = max(first.floor, second.floor)
    weights = (first.amplitude**2 + second.amplitude**2) / 2
    if weights.sum() == 0:
        return 0.0
    gap = np.abs(log_amplitude(first, floor) - log_amplitude(second, floor))
    return float((weights * gap).sum() / weights.sum())


def high_frequency_energy(spectrum: Spectrum) -> tuple[float, float]:
    """(energy at |f| >= HIGH_FREQUENCY, what 8-bit rounding noise alone would put there)."""
    high = spectrum.radius >= HIGH_FREQUENCY
    return float((spectrum.amplitude[high] ** 2).sum()), float(high.sum() * spectrum.floor**2)


def hf_energy_ratio(truth: Spectrum, made: Spectrum) -> float:
    true_energy, noise = high_frequency_energy(truth)
    if true_energy < HF_TEXTURE * noise:
        return math.nan
    return max(high_frequency_energy(made)[0], noise) / true_energy


def garment_texture(truth: np.ndarray, made: np.ndarray, mask: np.ndarray) -> dict[str, float] | None:
    """The four metrics of one garment of two (H, W, 3) images inside the (H, W) bool ``mask`` (from
    a part map: ``garment_mask``, eroded); None when the garment is too small."""
    region = garment(mask)
    if region is None:
        return None
    side = spectrum_side(region)
    true_spectrum, made_spectrum = garment_spectrum(truth, region, side), garment_spectrum(made, region, side)
    period, orientation = stripe_errors(true_spectrum, made_spectrum)
    return {
        "texture_distance": spectral_distance(true_spectrum, made_spectrum),
        "stripe_period_error": period,
        "stripe_orientation_error": orientation,
        "hf_energy_ratio": hf_energy_ratio(true_spectrum, made_spectrum),
    }


def texture_scores(truth: np.ndarray, made: np.ndarray, parts: np.ndarray) -> dict[str, float]:
    """Two (H, W, 3) images and the truth's (H, W) part map -> the columns of ``texture_columns``
    (NaN where a garment is absent, too small, or the metric undefined)."""
    if truth.shape != made.shape or truth.shape[:2] != parts.shape:
        raise ValueError(f"images {truth.shape}, {made.shape} and part map {parts.shape} differ in size")
    per_garment = {name: garment_texture(truth, made, garment_mask(parts, PART_LABELS[name])) for name in GARMENTS}
    found_ones = [found for found in per_garment.values() if found]
    scores = {metric: average(metric, [found[metric] for found in found_ones]) for metric in TEXTURE_METRICS}
    for name, found in per_garment.items():
        scores |= {f"{metric}_{name}": found[metric] if found else math.nan for metric in TEXTURE_METRICS}
    return scores
