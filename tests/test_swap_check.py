"""The swap check on hand-made outputs: painted with the swapped identity's colours, or the truth's."""

import numpy as np
import pytest
from PIL import Image

from dnaf.config import Config
from dnaf.core.errors import DataError
from dnaf.data.load import inspect_dataset
from dnaf.data.parts import FOREGROUND_PARTS, load_part_map, part_map_file, part_maps
from dnaf.io.images import load_rgb
from dnaf.metrics.colour import part_mean_colours
from dnaf.metrics.swap import swap_scores, swap_summary, swapped_pairs
from dnaf.reports.swap_check import appearance_checks
from dnaf.sampling.shards import pairs_to_sample

SIZE = tuple(Config().datasets.demo.image_size)


@pytest.fixture(scope="module")
def demo(small_demo_csv):
    index, log = inspect_dataset(Config().datasets.demo, small_demo_csv, images=False)
    assert not log.errors
    pairs = pairs_to_sample(index)
    pairs["seed"] = range(len(pairs))
    return index, small_demo_csv, pairs


def colours_of(index, root, name):
    return part_mean_colours(
        load_rgb(root / index.images.at[name, "path"]), load_part_map(part_map_file(part_maps(root), name), SIZE)
    )


def paint(folder, index, root, swapped, colour_source):
    """Each output: the target's part map filled with the colours of ``colour_source``'s identity."""
    folder.mkdir()
    for _, pair in swapped.iterrows():
        labels = load_part_map(part_map_file(part_maps(root), pair["target"]), SIZE)
        colours = colours_of(index, root, pair[colour_source])
        image = np.full((*SIZE, 3), 255, np.uint8)
        for name, value in FOREGROUND_PARTS.items():
            if name in colours:
                image[labels == value] = np.round(colours[name] * 255).astype(np.uint8)
        Image.fromarray(image).save(folder / pair["file"])


def test_swapped_sources_belong_to_another_identity_and_keep_the_noise(demo):
    index, _, pairs = demo
    swapped = swapped_pairs(pairs, index)
    identity = index.images["identity"]
    assert (identity[swapped["source"]].to_numpy() != identity[pairs["source"]].to_numpy()).all()
    assert swapped["target"].tolist() == pairs["target"].tolist()
    assert swapped["seed"].tolist() == pairs["seed"].tolist()
    assert swapped["true_source"].tolist() == pairs["source"].tolist()


def test_outputs_wearing_the_swapped_colours_follow_the_source(demo, tmp_path):
    index, root, pairs = demo
    swapped = swapped_pairs(pairs, index)
    paint(tmp_path / "follow", index, root, swapped, "source")
    scores = swap_scores(index, root, part_maps(root), swapped, tmp_path / "follow", SIZE)
    # exact colours inside the target's masks: zero error against the swapped identity (rounding aside)
    assert scores["error_vs_swapped"].max() < 0.003
    np.testing.assert_allclose(scores["error_vs_truth"], scores["identities_apart"], atol=0.003)
    summary = swap_summary(scores)
    # every pair votes for the swapped identity; the sign test decides from 6 votes on (2 / 2^6 < 0.05)
    assert summary["share_closer_to_swapped"] == 1.0 and summary["sign_test_p"] == pytest.approx(2 / 2 ** len(scores))
    assert summary["follows_source"] is (True if len(scores) >= 6 else None)


def test_outputs_ignoring_the_source_do_not(demo, tmp_path):
    index, root, pairs = demo
    swapped = swapped_pairs(pairs, index)
    paint(tmp_path / "ignore", index, root, swapped, "true_source")
    summary = swap_summary(swap_scores(index, root, part_maps(root), swapped, tmp_path / "ignore", SIZE))
    assert summary["follows_source"] is not True and summary["share_closer_to_swapped"] < 0.5


def test_appearance_checks_text():
    main = {"method": "DNAF", "colour_error": 0.05}
    swap = {"pairs": 4, "error_vs_swapped": 0.1, "error_vs_truth": 0.2, "identities_apart": 0.25,
            "share_closer_to_swapped": 0.75, "sign_test_p": 0.01, "follows_source": True}  # fmt: skip
    text = appearance_checks(main, {"colour_error": 0.2}, swap)
    assert "0.25 x the pose-only model's (0.2000); target at most 0.5 x: met" in text
    assert "75% of pairs closer to the swapped identity): the outputs follow the source (sign test p = 0.01)" in text
    assert "NOT met" in appearance_checks({**main, "colour_error": 0.15}, {"colour_error": 0.2}, None)
    assert appearance_checks(main, None, None) == ""
    assert "pattern swap check" not in text  # a swap.json from before the pattern check
    patterns = {"pairs": 3, "texture_vs_swapped": 0.5, "texture_vs_true_source": 1.5, "textures_apart": 2.0,
                "share_closer_to_swapped": 2 / 3, "sign_test_p": 1.0, "follows_source": None}  # fmt: skip
    text = appearance_checks(main, None, swap | {"texture": patterns})
    assert ("- pattern swap check (3 pairs whose two sources' garments differ in texture): texture distance 0.500 to "
            "the swapped source's garments, 1.500 to the true source's (the sources are 2.000 apart; 67% of pairs "
            "closer to the swapped source): undecided: the pairs split between the two sources as chance would (sign "
            "test p = 1)") in text  # fmt: skip
    none = {"pairs": 0, "follows_source": None}
    assert "pattern swap check" not in appearance_checks(main, None, swap | {"texture": none})


def test_two_pairs_of_one_target_get_different_swapped_sources():
    """Pairs 0 and 1 share their target; the walk from i + n/2 meets b1 for both (0 -> 2, 1 -> 3):
    the second takes the next source of another identity, c1, so no two outputs share a file."""
    from types import SimpleNamespace

    import pandas as pd

    identities = {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}
    index = SimpleNamespace(images=pd.DataFrame({"identity": identities}))
    pairs = pd.DataFrame({"source": ["a1", "a2", "b1", "b1", "c1"], "target": ["t", "t", "u", "w", "x"],
                          "seed": range(5)})  # fmt: skip
    swapped = swapped_pairs(pairs, index)
    assert swapped["source"].tolist() == ["b1", "c1", "c1", "a1", "a2"]
    assert not swapped["file"].duplicated().any()
    one = pd.DataFrame({"source": ["a1", "a2"], "target": ["t", "u"], "seed": [0, 1]})
    with pytest.raises(DataError, match="at least two identities"):
        swapped_pairs(one, index)
