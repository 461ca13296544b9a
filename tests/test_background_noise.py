"""Background noise, on hand-made pictures: a flat background scores 0, added Gaussian noise of
standard deviation s scores about s, the person and the background's rim do not count."""

import math

import numpy as np
import pytest

from dnaf.data.parts import PART_LABELS
from dnaf.metrics.background import ERODE, LUMA, background_mask, background_std


def _scene(height=96, width=64):
    labels = np.zeros((height, width), np.uint8)
    labels[20:80, 20:44] = PART_LABELS["upper"]  # a person-shaped block
    picture = np.full((height, width, 3), 240, np.uint8)
    picture[labels > 0] = (30, 90, 200)
    return picture, labels


def test_a_flat_background_scores_zero_whatever_the_person():
    picture, labels = _scene()
    picture[labels > 0] = np.random.default_rng(0).integers(0, 256, (int((labels > 0).sum()), 3))
    assert background_std(picture, background_mask(labels)) == 0


def test_gaussian_grain_of_std_s_scores_about_s():
    picture, labels = _scene(400, 300)
    noise = np.random.default_rng(1).normal(0, 6.0, picture.shape[:2])
    grainy = np.clip(picture + noise[..., None], 0, 255).round().astype(np.uint8)  # the same grain in R, G, B
    # luminance weights sum to 1: grey grain of std 6 gives luminance of std 6 (rounding adds 1/12 variance)
    expected = math.sqrt(6.0**2 + 1 / 12)
    assert background_std(grainy, background_mask(labels)) == pytest.approx(expected, rel=0.03)
    assert LUMA.sum() == pytest.approx(1)


def test_the_rim_of_the_person_is_left_out_and_small_backgrounds_give_nan():
    picture, labels = _scene()
    mask = background_mask(labels)
    # the block's outline, dilated by ERODE pixels, is not background
    assert not mask[20 - ERODE : 80 + ERODE, 20 - ERODE : 44 + ERODE].any()
    assert mask[20 - ERODE - 1, 30] and mask[0, 0]  # the frame's edge stays in
    picture[20 - ERODE : 20, 20:44] = 0  # a dark halo hugging the person: not counted
    assert background_std(picture, mask) == 0
    assert math.isnan(background_std(picture, np.zeros_like(mask)))
