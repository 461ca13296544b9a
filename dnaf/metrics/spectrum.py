"""The amplitude spectrum of a garment inside its irregular mask: what the texture metrics compare.

A garment is the ground truth's part mask, eroded by one pixel: the pixels on its outline mix the
garment with its neighbours (antialiased edges, a generated edge a pixel off), which is shape, not
texture. Its spectrum is that of the luminance (skimage ``rgb2gray``: texture is structure, the
colours are the colour error's) in the mask's bounding box, where

- the pixels outside the mask take the garment's own mean (window-weighted), and that mean is
  subtracted: the silhouette then adds no edge against the background, which would otherwise
  dominate the spectrum with the garment's outline, and the zero frequency is exactly 0;
- a 2-D Hann window (skimage ``window``: radial, stretched to the box) tapers the box to 0 at its
  border, so that the DFT's periodic wrap adds no edge either; being radial, its leakage favours
  no direction (a separable window leaks along the axes);
- the windowed box is zero-padded to a square of ``spectrum_side`` (at least 4 x its longest side),
  which samples the spectrum finely enough to place a stripe's peak to a quarter of the box's
  natural frequency step;
- amplitudes are divided by the window's sum inside the mask, so that a sinusoid of amplitude a
  peaks at a / 2 whatever the garment's size (spectra of garments of different sizes compare).

Two images compared on one garment use the same mask (the ground truth's), hence the same window:
their spectra differ only by the texture inside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import binary_erosion
from skimage.color import rgb2gray
from skimage.filters import window

ROUNDING_STD = 1 / (255 * math.sqrt(12))
"""Standard deviation of 8-bit rounding noise on the [0, 1] scale: the least variation an image
file holds, and the floor of every amplitude (a log needs one)."""
MIN_GARMENT_PIXELS = 64
"""Garments with fewer pixels (after erosion) are left out: too few for a spectrum."""
PAD_FACTOR = 4
"""The padded side is the next power of two at or above this times the box's longest side."""


@dataclass(frozen=True)
class Garment:
    """A garment's mask inside its bounding box ``box`` (rows, columns) of the image."""

    box: tuple[slice, slice]
    mask: np.ndarray  # (h, w) bool

    @property
    def shortest_side(self) -> int:
        return min(self.mask.shape)


@dataclass(frozen=True)
class Spectrum:
    """A garment's amplitude spectrum: ``amplitude`` (P, P) with the zero frequency at the centre
    (``np.fft.fftshift`` order); ``floor`` the rms amplitude that 8-bit rounding alone gives in this
    garment; ``lowest``: the lowest frequency of a stripe, two periods across the box's shortest side."""

    amplitude: np.ndarray
    floor: float
    lowest: float

    @property
    def frequencies(self) -> tuple[np.ndarray, np.ndarray]:
        """(fy, fx) of every bin in cycles per pixel, each (P, P); y grows downwards."""
        axis = np.fft.fftshift(np.fft.fftfreq(self.amplitude.shape[0]))
        return np.meshgrid(axis, axis, indexing="ij")

    @property
    def radius(self) -> np.ndarray:
        """|f| of every bin, cycles per pixel, (P, P)."""
        fy, fx = self.frequencies
        return np.hypot(fy, fx)


def garment_mask(parts: np.ndarray, label: int) -> np.ndarray:
    """(H, W) label map -> (H, W) bool mask of ``label`` without its outline (eroded by one pixel,
    4-connected)."""
    return binary_erosion(parts == label)


def garment(mask: np.ndarray) -> Garment | None:
    """(H, W) bool mask -> the garment in its bounding box; None below MIN_GARMENT_PIXELS."""
    if mask.sum() < MIN_GARMENT_PIXELS:
        return None
    rows, cols = np.nonzero(mask)
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    return Garment(box, mask[box])


def spectrum_side(*garments: Garment) -> int:
    """The padded side that holds every one of ``garments`` (spectra compared share one grid)."""
    longest = max(max(g.mask.shape) for g in garments)
    return 1 << math.ceil(math.log2(PAD_FACTOR * longest))


def garment_spectrum(image: np.ndarray, region: Garment, side: int) -> Spectrum:
    """(H, W, 3) image (uint8, or float on [0, 1]) -> the spectrum of ``region`` padded to ``side``."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got {image.shape}")
    if side < max(region.mask.shape):
        raise ValueError(f"a spectrum of side {side} cannot hold a garment box of {region.mask.shape}")
    grey = rgb2gray(image)[region.box]  # (h, w)
    if grey.shape != region.mask.shape:
        raise ValueError(f"the garment's box {region.box} lies outside the image of {image.shape[:2]}")
    weights = window("hann", grey.shape) * region.mask  # (h, w), 0 outside the mask
    mean = (weights * grey).sum() / weights.sum()
    values = (grey - mean) * weights  # outside the mask: the mean, minus the mean
    amplitude = np.abs(np.fft.fftshift(np.fft.fft2(values, s=(side, side)))) / weights.sum()
    floor = ROUNDING_STD * math.sqrt((weights**2).sum()) / weights.sum()
    return Spectrum(amplitude, floor, 2 / region.shortest_side)


def log_amplitude(spectrum: Spectrum, floor: float) -> np.ndarray:
    """Natural log of the amplitudes, those below ``floor`` raised to it, (P, P)."""
    return np.log(np.maximum(spectrum.amplitude, floor))
