"""The texture study's synthetic people: prints of known period, orientation and logo."""

import math

import numpy as np
import pytest

from dnaf.data.parts import PART_LABELS
from dnaf.demo.appearance import RICH_PERIOD
from dnaf.demo.draw import SUPERSAMPLE, _pattern, draw_person
from dnaf.demo.figure import build_figure, sample_pose
from dnaf.demo.generate import identity_look
from dnaf.metrics.spectrum import garment, garment_mask, garment_spectrum, spectrum_side
from dnaf.metrics.stripes import dominant_stripe

SIZE = (128, 88)
BACKGROUND = (240, 240, 240)
CANVAS = 1024  # 12 to 24 periods: an FFT bin then quantises the period by under 4 %


def _front_view(identity: int):
    """The identity's first pose seen from the front (not the side or the back)."""
    look = identity_look(0, identity, "rich")
    for pose_index in range(40):
        pose = sample_pose(np.random.default_rng([0, identity, pose_index]))
        if pose.view == "front":
            figure = build_figure(look, pose, SIZE)
            return look, figure, *draw_person(look, figure, SIZE, BACKGROUND)
    raise AssertionError("no front view in 40 poses")


def _angle_difference(a: float, b: float) -> float:
    d = abs(a - b) % 180
    return min(d, 180 - d)


def test_every_rich_look_is_printed_and_the_demo_look_is_unchanged():
    for identity in range(30):
        rich, demo = identity_look(0, identity, "rich"), identity_look(0, identity, "demo")
        assert rich.pattern in ("stripes", "checks") and rich.print is not None
        assert RICH_PERIOD[0] <= rich.pattern_period <= RICH_PERIOD[1]
        assert demo.print is None
        # the same person otherwise: the rich draws come after the demo's
        assert (rich.gender, rich.skin, rich.hair, rich.upper, rich.lower) == (
            demo.gender, demo.skin, demo.hair, demo.upper, demo.lower)  # fmt: skip


@pytest.mark.parametrize("kind", ["stripes", "checks"])
def test_the_print_repeats_at_the_looks_period_and_orientation(kind):
    """On a canvas much larger than a garment (many periods, so an FFT resolves them), the
    strongest frequency of the print lies at 1 / period across the stripes' direction."""
    measured = 0
    for identity in range(40):
        look = identity_look(0, identity, "rich")
        if look.pattern != kind:
            continue
        figure = build_figure(look, sample_pose(np.random.default_rng([0, identity, 0])), SIZE)
        second = np.all(_pattern(look, figure, (CANVAS, CANVAS)) == look.upper_second, axis=2)
        field = second.astype(float)
        amplitude = np.abs(np.fft.fft2(field - field.mean()))
        fy, fx = np.unravel_index(np.argmax(amplitude), amplitude.shape)
        fy, fx = (np.fft.fftfreq(CANVAS)[fy], np.fft.fftfreq(CANVAS)[fx])
        period = look.pattern_period * figure.height * SUPERSAMPLE  # supersampled pixels
        # stripes running at angle a repeat across them, at a + 90; checks along both axes
        directions = [look.print.angle + 90] + ([look.print.angle] if kind == "checks" else [])
        orientation = math.degrees(math.atan2(fy, fx))
        found_period = 1 / math.hypot(fy, fx)
        if kind == "checks":  # the checks' strongest frequencies lie on the diagonals
            directions = [look.print.angle + 45, look.print.angle + 135]
            found_period *= math.sqrt(2)
        assert found_period == pytest.approx(period, rel=0.05), identity
        assert min(_angle_difference(orientation, d) for d in directions) < 3, identity
        measured += 1
    assert measured >= 10


def test_the_garments_stripes_are_found_by_the_texture_metric():
    """The drawn garments hold 1.5 to 3 periods: the metric's peak (resolved to a bin of a
    spectrum that small) finds the period roughly on most of them."""
    errors = []
    for identity in range(40):
        look, figure, picture, parts = _front_view(identity)
        if look.pattern == "stripes":
            region = garment(garment_mask(parts, PART_LABELS["upper"]))
            stripe = dominant_stripe(garment_spectrum(picture, region, spectrum_side(region)))
            errors.append(abs(stripe.period / (look.pattern_period * figure.height) - 1))
    assert len(errors) >= 10 and np.median(errors) < 0.15


def test_the_logo_lies_on_the_upper_garment_in_its_colour():
    for identity in range(10):
        look, figure, picture, parts = _front_view(identity)
        logo = np.all(picture == np.array(look.print.logo, np.uint8), axis=2)
        assert logo.sum() >= 4, identity  # a few pure pixels of it at 128x88
        assert (parts[logo] == PART_LABELS["upper"]).all()  # the part map counts it as the garment
