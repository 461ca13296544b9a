"""Per-part colour error: does a generated person wear the ground truth's colours?

For each part of the ground truth's label map (the synthetic demo writes one per image), the
mean colour of the generated image and of the ground truth inside that part's mask are compared:
the error of a part is the mean absolute difference of the two mean colours over R, G and B, in
[0, 1] units. Comparing means over whole parts is robust to small misalignment and blind to the
pose, so it measures appearance only. A pair's error is the mean over the person's parts present
in its map (background excluded); the dataset's error is the mean over pairs.
"""

from __future__ import annotations

import numpy as np

from dnaf.data.parts import FOREGROUND_PARTS

MIN_PIXELS = 4
"""Parts smaller than this in the ground-truth map are left out (a mean of one pixel is noise)."""


def part_mean_colours(
    image: np.ndarray, parts: np.ndarray, labels: dict[str, int] = FOREGROUND_PARTS
) -> dict[str, np.ndarray]:
    """(H, W, 3) uint8 image and (H, W) label map -> {part: mean RGB in [0, 1]} for the parts
    with at least MIN_PIXELS pixels."""
    if image.shape[:2] != parts.shape:
        raise ValueError(f"image {image.shape[:2]} and part map {parts.shape} differ in size")
    pixels = image.reshape(-1, 3).astype(np.float64) / 255.0
    flat = parts.reshape(-1)
    means = {}
    for name, value in labels.items():
        inside = flat == value
        if inside.sum() >= MIN_PIXELS:
            means[name] = pixels[inside].mean(axis=0)
    return means


def part_colour_errors(
    generated: np.ndarray,
    reference: dict[str, np.ndarray],
    parts: np.ndarray,
    labels: dict[str, int] = FOREGROUND_PARTS,
) -> dict[str, float]:
    """Error of each part of ``parts`` (the ground truth's map) between the generated image's
    mean colour there and ``reference``'s mean colour of that part; parts missing from either
    side are left out."""
    made = part_mean_colours(generated, parts, labels)
    return {
        name: float(np.abs(made[name] - reference[name]).mean())
        for name in labels
        if name in made and name in reference
    }


def colour_error(errors: dict[str, float]) -> float:
    """One pair's error: the mean over its parts (NaN when it has none)."""
    return float(np.mean(list(errors.values()))) if errors else float("nan")
