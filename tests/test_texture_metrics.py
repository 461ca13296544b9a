"""The texture metrics on hand-made garments: stripes drawn with numpy at frequencies on the spectrum's
grid, so that the expected periods, orientations and amplitude ratios follow by hand."""

import math

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter
from skimage.draw import disk, polygon

from dnaf.config import Config
from dnaf.data.load import inspect_dataset
from dnaf.data.parts import PART_LABELS, part_maps
from dnaf.io.images import load_rgb
from dnaf.metrics.spectrum import garment, garment_mask, garment_spectrum, spectrum_side
from dnaf.metrics.stripes import PROMINENCE, dominant_stripe, orientation_gap, stripes
from dnaf.metrics.swap import swapped_pairs
from dnaf.metrics.texture import average, garment_texture, texture_columns, texture_scores
from dnaf.metrics.texture_stability import seed_stability
from dnaf.metrics.texture_swap import pattern_distances, texture_swap_scores, texture_swap_summary
from dnaf.sampling.shards import pairs_to_sample

N = 96  # canvas side
GRID = 256  # the spectrum's side for the garments below: next power of two >= 4 x 57 (see the first test)
Y, X = np.mgrid[:N, :N].astype(float)


def disc_mask(radius: int = 30, centre: tuple[int, int] = (48, 48), shape: tuple[int, int] = (N, N)) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[disk(centre, radius, shape=shape)] = True
    return mask


def trousers_mask() -> np.ndarray:
    """A concave polygon: two legs joined at the waist."""
    mask = np.zeros((N, N), bool)
    rows, cols = polygon([14, 14, 82, 82, 44, 82, 82], [20, 76, 76, 54, 48, 42, 20], (N, N))
    mask[rows, cols] = True
    return mask


def wave(ky: float, kx: float, amplitude: float = 0.3, grid: int = GRID) -> np.ndarray:
    """(N, N) grey stripes around 0.5 at frequency (ky, kx) / grid cycles per pixel."""
    return amplitude * np.cos(2 * np.pi * (ky * Y + kx * X) / grid)


def rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=2)


def striped(ky: float, kx: float, amplitude: float = 0.3) -> np.ndarray:
    return rgb(0.5 + wave(ky, kx, amplitude))


def test_the_spectrum_grid_and_a_stripes_amplitude():
    # disk((48, 48), 30) spans rows 19-77 (59 rows); eroded by a pixel, 57; 4 x 57 = 228 -> 256
    region = garment(garment_mask(disc_mask() * PART_LABELS["upper"], PART_LABELS["upper"]))
    assert region.mask.shape == (57, 57) and spectrum_side(region) == GRID
    # a cosine of amplitude a peaks at a / 2 whatever the garment's size: the window's sum divides it out
    for radius in (12, 30):
        region = garment(disc_mask(radius))
        spectrum = garment_spectrum(striped(0, 32), region, spectrum_side(region))
        assert spectrum.amplitude.max() == pytest.approx(0.15, rel=0.01)


def test_a_perfect_copy_scores_zero_and_ratio_one():
    truth = striped(0, 80)  # 0.3125 cycles/pixel: a stripe and high-frequency energy at once
    scores = garment_texture(truth, truth.copy(), disc_mask())
    assert scores == {"texture_distance": 0.0, "stripe_period_error": 0.0, "stripe_orientation_error": 0.0,
                      "hf_energy_ratio": 1.0}  # fmt: skip


def test_a_blurred_garment_loses_high_frequency_energy_by_the_gaussian_transfer():
    # stripes at f0 = 0.3 cycles/pixel, 30 degrees; Gaussian blur sigma 1 multiplies a sinusoid by
    # T = exp(-2 pi^2 sigma^2 f0^2) = 0.1692, so every amplitude by T and the energy by T^2 = 0.02864.
    # The disc lies 18 pixels from the canvas edge, beyond the kernel's 4 sigma: inside it the blurred
    # garment is exactly mean + T x (stripes). Tolerance 1e-3: scipy's sampled kernel differs from the
    # continuous transfer by its alias at f0 - 1, exp(-2 pi^2 0.7^2) = 6e-5, and its 4-sigma truncation.
    f0, sigma = 0.3, 1.0
    grey = 0.5 + 0.3 * np.cos(2 * np.pi * f0 * (X * math.cos(math.pi / 6) + Y * math.sin(math.pi / 6)))
    transfer = math.exp(-2 * math.pi**2 * sigma**2 * f0**2)
    scores = garment_texture(rgb(grey), rgb(gaussian_filter(grey, sigma, mode="nearest")), disc_mask())
    assert scores["hf_energy_ratio"] == pytest.approx(transfer**2, rel=1e-3)
    # every amplitude off by the factor T: the distance is |ln T| = 1.777 (bins at the rounding floor
    # differ by less, but carry no power)
    assert scores["texture_distance"] == pytest.approx(-math.log(transfer), rel=1e-3)
    assert scores["stripe_period_error"] == 0.0 and scores["stripe_orientation_error"] == 0.0  # blur keeps the stripe


@pytest.mark.parametrize(
    ("truth_k", "made_k", "period_error", "orientation_error"),
    [
        # vertical stripes, period 256 / 32 = 8, at 0 degrees; the generated (15, 20): period 256 / 25
        # = 10.24, at atan2(15, 20) = 36.87 degrees
        ((0, 32), (15, 20), (10.24 - 8) / 8, math.degrees(math.atan2(15, 20))),
        # horizontal stripes (90 degrees) against atan2(-20, 15) = -53.13 = 126.87 modulo 180
        ((32, 0), (-20, 15), (10.24 - 8) / 8, 126.87 - 90),
        # 7.125 against -7.125 = 172.875 modulo 180: 14.25 degrees apart, not 165.75; same period
        ((4, 32), (-4, 32), 0.0, 2 * math.degrees(math.atan2(4, 32))),
    ],
)
def test_a_restriped_garment_scores_the_period_and_orientation_errors(truth_k, made_k, period_error, orientation_error):
    scores = garment_texture(striped(*truth_k), striped(*made_k), disc_mask())
    assert scores["stripe_period_error"] == pytest.approx(period_error, abs=1e-9)
    assert scores["stripe_orientation_error"] == pytest.approx(orientation_error, abs=1e-2)


def test_orientations_are_compared_modulo_180():
    assert orientation_gap(170, 10) == -20 and orientation_gap(10, 170) == 20
    assert orientation_gap(5, 185) == 0 and abs(orientation_gap(0, 90)) == 90


def test_a_checked_garment_matches_either_diagonal():
    # cos(a) cos(b) = (cos(a + b) + cos(a - b)) / 2: checks are two diagonal stripes, (16, 16) at 45
    # degrees and (-16, 16) at 135. The truth favours the first, the generated the second: both are
    # the truth's stripes (within 0.8 of its highest), so no error; with the second at half the
    # first's height it is not, and the error is the 90 degrees between the diagonals.
    def checks(first: float, second: float) -> np.ndarray:
        return rgb(0.5 + wave(16, 16, 0.2 * first) + wave(-16, 16, 0.2 * second))

    equalish = garment_texture(checks(1.0, 0.9), checks(0.9, 1.0), disc_mask())
    assert equalish["stripe_period_error"] == 0.0 and equalish["stripe_orientation_error"] == 0.0
    lopsided = garment_texture(checks(1.0, 0.5), checks(0.5, 1.0), disc_mask())
    assert lopsided["stripe_period_error"] == pytest.approx(0.0, abs=1e-12)
    assert lopsided["stripe_orientation_error"] == pytest.approx(90.0)


def test_a_flat_garment_has_no_dominant_stripe_and_no_ratio():
    flat = rgb(np.full((N, N), 0.4))
    noisy = rgb(0.4 + np.random.default_rng(0).normal(0, 2 / 255, (N, N)))
    region = garment(disc_mask())
    assert stripes(garment_spectrum(flat, region, GRID)) == []
    assert stripes(garment_spectrum(noisy, region, GRID)) == []
    scores = garment_texture(flat, noisy, disc_mask())
    assert math.isnan(scores["stripe_period_error"]) and math.isnan(scores["stripe_orientation_error"])
    assert math.isnan(scores["hf_energy_ratio"])  # nothing to lose: the truth has no fine detail
    assert scores["texture_distance"] > 1  # the noise is invented texture, far above the rounding floor
    assert garment_texture(flat, flat, disc_mask())["texture_distance"] == 0.0


@pytest.mark.parametrize("radius", [6, 12, 24, 48])
def test_white_noise_stays_below_the_prominence_of_a_stripe(radius):
    # the threshold's margin (dnaf.metrics.stripes.PROMINENCE): noise peaks below 5 on 100 to 7,000 pixels
    side = 2 * radius + 16
    region = garment(disc_mask(radius, (side // 2, side // 2), (side, side)))
    rng = np.random.default_rng(radius)
    for _ in range(5):
        noise = np.round(np.clip(0.5 + rng.normal(0, 2 / 255, (side, side)), 0, 1) * 255) / 255  # 8-bit
        spectrum = garment_spectrum(rgb(noise), region, spectrum_side(region))
        assert dominant_stripe(spectrum).prominence < 5 < PROMINENCE


def test_a_faint_stripe_in_noise_is_dominant():
    # stripes of 4 grey levels peak to peak under noise of 2 grey levels, on 1,200 pixels
    rng = np.random.default_rng(1)
    grey = 0.5 + wave(0, 32, 2 / 255) + rng.normal(0, 2 / 255, (N, N))
    region = garment(disc_mask(20))
    found = stripes(garment_spectrum(rgb(grey), region, spectrum_side(region)))
    assert found and all(s.period == pytest.approx(8) and s.orientation == 0 for s in found)


@pytest.mark.parametrize("shape", ["disc", "trousers"])
def test_irregular_masks_see_the_texture_not_the_silhouette(shape):
    mask = disc_mask() if shape == "disc" else trousers_mask()
    inside = 0.5 + wave(0, 32)
    truth = rgb(np.where(mask, inside, 0.0))  # a black background: the garment's edge is a big step
    elsewhere = rgb(np.where(mask, inside, 1.0))  # another background, the same garment
    region = garment(mask)
    found = stripes(garment_spectrum(truth, region, spectrum_side(region)))
    assert {(round(s.period, 6), round(s.orientation, 6)) for s in found} == {(8.0, 0.0)}
    assert garment_texture(truth, elsewhere, mask) == garment_texture(truth, truth, mask)


def test_pair_scores_per_garment_and_over_garments():
    parts = np.zeros((N, N), np.uint8)
    parts[disc_mask(20, (26, 48))] = PART_LABELS["upper"]  # rows 7-45
    parts[50:90, 30:66] = PART_LABELS["lower"]
    grey = np.where(parts == PART_LABELS["upper"], 0.5 + wave(0, 80), 0.3)
    blurred = gaussian_filter(grey, 1.0, mode="nearest")
    made = np.where(parts == PART_LABELS["upper"], blurred, grey)  # only the upper garment blurred
    scores = texture_scores(rgb(grey), rgb(made), parts)
    assert list(scores) == texture_columns()
    upper = garment_texture(rgb(grey), rgb(made), garment_mask(parts, PART_LABELS["upper"]))
    assert {k.removesuffix("_upper"): v for k, v in scores.items() if k.endswith("_upper")} == upper
    assert scores["texture_distance_lower"] == 0.0 and math.isnan(scores["hf_energy_ratio_lower"])  # flat: a copy
    assert scores["texture_distance"] == pytest.approx((upper["texture_distance"] + 0.0) / 2)
    assert scores["hf_energy_ratio"] == pytest.approx(upper["hf_energy_ratio"])  # the lower garment has none
    assert scores["stripe_period_error"] == upper["stripe_period_error"]
    parts[parts == PART_LABELS["lower"]] = 0
    parts[88:90, 30:66] = PART_LABELS["lower"]  # 72 pixels, none left after erosion
    missing = texture_scores(rgb(grey), rgb(made), parts)
    assert all(math.isnan(missing[f"{m}_lower"]) for m in ("texture_distance", "hf_energy_ratio"))
    assert missing["texture_distance"] == upper["texture_distance"]


def test_averages_are_arithmetic_and_geometric_for_the_ratio():
    assert average("hf_energy_ratio", [2.0, 0.5, math.nan]) == pytest.approx(1.0)
    assert average("texture_distance", [1.0, 2.0, math.nan]) == 1.5
    assert math.isnan(average("stripe_period_error", [math.nan]))


def test_bad_inputs_are_errors():
    with pytest.raises(ValueError, match="differ in size"):
        texture_scores(striped(0, 32), striped(0, 32)[:50], np.zeros((N, N), np.uint8))
    with pytest.raises(ValueError, match=r"expected an \(H, W, 3\) image"):
        garment_spectrum(np.zeros((N, N)), garment(disc_mask()), GRID)
    with pytest.raises(ValueError, match="at least 2 outputs"):
        seed_stability([striped(0, 32)], striped(0, 32), np.zeros((N, N), np.uint8))


def person(grey: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A picture whose upper garment is ``mask`` with ``grey`` inside it, on a plain background."""
    return rgb(np.where(mask, grey, 0.9)), (mask * PART_LABELS["upper"]).astype(np.uint8)


def test_the_output_pattern_follows_the_source_it_was_given():
    output = person(0.5 + wave(0, 32), disc_mask())
    source_a = person(0.5 + wave(0, 32), trousers_mask())  # the output's stripes, another pose and mask
    source_b = person(0.5 + wave(15, 20), disc_mask(24, (40, 52)))  # other stripes
    follows = pattern_distances(output, source_a, source_b)
    assert follows["texture_vs_swapped"] < follows["texture_vs_true_source"]
    assert follows["textures_apart"] > 0
    ignores = pattern_distances(output, source_b, source_a)
    assert ignores["texture_vs_swapped"] == follows["texture_vs_true_source"]
    assert ignores["texture_vs_true_source"] == follows["texture_vs_swapped"]
    flat = person(np.full((N, N), 0.4), trousers_mask())
    untold = pattern_distances(output, flat, flat)  # identical sources cannot be told apart: left out
    assert all(math.isnan(v) for v in untold.values())


def test_the_pattern_swap_summary():
    scores = pd.DataFrame({"texture_vs_swapped": [0.5, 2.0, math.nan, 1.0],
                           "texture_vs_true_source": [1.5, 1.0, math.nan, 3.0],
                           "textures_apart": [1.0, 2.0, math.nan, 3.0]})  # fmt: skip
    summary = texture_swap_summary(scores)
    assert summary == {"pairs": 3, "texture_vs_true_source": pytest.approx(5.5 / 3),
                       "texture_vs_swapped": pytest.approx(3.5 / 3), "textures_apart": 2.0,
                       "share_closer_to_swapped": pytest.approx(2 / 3), "sign_test_p": 1.0,
                       "follows_source": None}  # fmt: skip
    assert texture_swap_summary(scores.iloc[2:3])["pairs"] == 0


def test_outputs_wearing_the_truths_patterns_do_not_follow_the_swapped_source(small_demo_csv, tmp_path):
    # the small demo's two test identities: one in checks, one solid; each output a copy of its
    # ground truth, i.e. the true identity's pattern
    index, log = inspect_dataset(Config().datasets.demo, small_demo_csv, images=False)
    assert not log.errors
    size = tuple(Config().datasets.demo.image_size)
    pairs = pairs_to_sample(index)
    swapped = swapped_pairs(pairs.assign(seed=range(len(pairs))), index)
    (tmp_path / "out").mkdir()
    for _, pair in swapped.iterrows():
        Image.fromarray(load_rgb(small_demo_csv / index.images.at[pair["target"], "path"])).save(
            tmp_path / "out" / pair["file"]
        )
    scores = texture_swap_scores(index, small_demo_csv, part_maps(small_demo_csv), swapped, tmp_path / "out", size)
    summary = texture_swap_summary(scores)
    assert summary["pairs"] == len(swapped) and summary["share_closer_to_swapped"] == 0.0
    assert summary["sign_test_p"] == pytest.approx(2 / 2 ** len(swapped))  # every pair votes for the true source
    assert summary["follows_source"] is (False if len(swapped) >= 6 else None)


def test_seeds_that_agree_have_no_spread():
    parts = (disc_mask() * PART_LABELS["upper"]).astype(np.uint8)
    truth = striped(0, 80)
    spread = seed_stability([truth, truth.copy(), truth.copy()], truth, parts)
    for key in ("spectrum_spread", "period_spread", "orientation_spread", "hf_energy_spread"):
        assert spread[key] == pytest.approx(0.0, abs=1e-12), key
    assert all(math.isnan(v) for k, v in spread.items() if k.endswith("_lower"))  # no lower garment


def test_seeds_of_half_the_contrast_spread_by_ln_2():
    # amplitudes a and a / 2 at every bin: the std over two seeds of ln A is ln(2) / 2 = 0.3466;
    # energy ratios 1 and 1/4: the std of their logs is ln(4) / 2 = ln 2. The stripe stays put.
    parts = (disc_mask() * PART_LABELS["upper"]).astype(np.uint8)
    truth = striped(0, 80)
    spread = seed_stability([truth, striped(0, 80, 0.15)], truth, parts)
    assert spread["spectrum_spread"] == pytest.approx(math.log(2) / 2, rel=1e-3)
    assert spread["hf_energy_spread"] == pytest.approx(math.log(2), rel=1e-9)
    assert spread["period_spread"] == 0.0 and spread["orientation_spread"] == pytest.approx(0.0, abs=1e-9)


def test_seeds_with_turned_stripes_spread_by_hand_computed_amounts():
    # truth (0, 32): period 8 at 0 degrees; seeds (0, 32) and (8, 32): period 256 / sqrt(1088) = 7.761
    # at atan2(8, 32) = 14.04 degrees. Period deviations 0 and -0.02986: std 0.01493. Orientation
    # gaps 0 and 14.04 on the 180-degree circle: mean resultant length R = cos(14.04) = 32 / sqrt(1088),
    # circular std sqrt(-2 ln R) x 180 / (2 pi) = 7.054 degrees.
    parts = (disc_mask() * PART_LABELS["upper"]).astype(np.uint8)
    truth = striped(0, 32)
    spread = seed_stability([truth, striped(8, 32)], truth, parts)
    deviation = (256 / math.hypot(8, 32) - 8) / 8
    assert spread["period_spread"] == pytest.approx(abs(deviation) / 2, rel=1e-9)
    resultant = 32 / math.hypot(8, 32)
    assert spread["orientation_spread"] == pytest.approx(math.sqrt(-2 * math.log(resultant)) * 90 / math.pi, rel=1e-9)
    assert spread["period_spread_upper"] == spread["period_spread"]
