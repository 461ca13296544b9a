"""The per-part colour error on hand-made pictures."""

import numpy as np
import pytest

from dnaf.metrics.colour import colour_error, part_colour_errors, part_mean_colours

# a 12x8 person: rows 0-2 hair, 3-5 skin, 6-8 upper garment, 9-10 lower, 11 background
PARTS = np.zeros((12, 8), np.uint8)
PARTS[0:3, 2:6] = 2
PARTS[3:6, 2:6] = 1
PARTS[6:9, 1:7] = 3
PARTS[9:11, 2:6] = 4
COLOURS = {0: (255, 255, 255), 1: (224, 172, 128), 2: (40, 30, 20), 3: (200, 30, 60), 4: (20, 40, 160)}


def paint(colours: dict[int, tuple[int, int, int]]) -> np.ndarray:
    image = np.zeros((*PARTS.shape, 3), np.uint8)
    for label, colour in colours.items():
        image[PARTS == label] = colour
    return image


TRUTH = paint(COLOURS)


def test_a_perfect_copy_scores_zero():
    errors = part_colour_errors(TRUTH, part_mean_colours(TRUTH, PARTS), PARTS)
    assert set(errors) == {"skin", "hair", "upper", "lower"}  # background left out
    assert colour_error(errors) == 0.0


def test_a_recoloured_garment_scores_the_colour_difference():
    recoloured = paint(COLOURS | {3: (100, 90, 60)})  # upper: -100, +60, 0
    errors = part_colour_errors(recoloured, part_mean_colours(TRUTH, PARTS), PARTS)
    assert errors["upper"] == pytest.approx((100 + 60 + 0) / 3 / 255)
    assert errors["skin"] == errors["hair"] == errors["lower"] == 0.0
    assert colour_error(errors) == pytest.approx((100 + 60) / 3 / 255 / 4)


def test_means_inside_the_truth_mask_tolerate_a_misaligned_edge():
    # the generated garment is shifted down one row: one of its three rows is wrong
    generated = TRUTH.copy()
    generated[6:9] = TRUTH[5:8]
    errors = part_colour_errors(generated, part_mean_colours(TRUTH, PARTS), PARTS)
    skin_row = np.array([255, 255, 255, 224, 172, 128, 224, 172, 128, 224, 172, 128, 224, 172, 128, 255, 255, 255])
    upper = np.array(COLOURS[3], float)
    shifted_mean = (2 * 6 * upper + skin_row.reshape(6, 3).sum(axis=0)) / 18
    assert errors["upper"] == pytest.approx(np.abs(shifted_mean - upper).mean() / 255)


def test_a_part_too_small_or_absent_is_left_out():
    parts = PARTS.copy()
    parts[0:3, 2:6] = 1  # no hair at all
    parts[9:11, 2:6] = 5  # shoes instead of the lower garment: not an appearance part
    parts[9, 2] = 4  # one pixel of lower garment: below the minimum
    errors = part_colour_errors(TRUTH, part_mean_colours(TRUTH, parts), parts)
    assert set(errors) == {"skin", "upper"}
    assert np.isnan(colour_error({}))


def test_size_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ in size"):
        part_mean_colours(TRUTH[:6], PARTS)
