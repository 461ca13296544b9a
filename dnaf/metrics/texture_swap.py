"""The swap check for patterns: does the output's texture follow the SOURCE's, or stay the original's?

The colour swap check (dnaf.metrics.swap) samples every test pair again with the source of another
identity. Here, each garment of such an output (inside the ground truth's, i.e. the target's,
mask) is compared by texture distance (dnaf.metrics.texture) with the same garment in the swapped
source picture and in the true source picture, each inside its own picture's part map. Both
comparisons cross a change of pose and of mask, so neither source is favoured by sharing the
output's window; the three spectra share one grid and are normalised by their window, so garments
of different sizes compare. A garment whose two sources have identical spectra (both flat, say)
cannot tell them apart and is left out; a pair without any other garment has NaN scores.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from dnaf.data.index import DatasetIndex
from dnaf.data.parts import PART_LABELS, load_part_map, part_map_file
from dnaf.io.images import load_rgb
from dnaf.metrics.sign_test import sign_verdict
from dnaf.metrics.spectrum import garment, garment_mask, garment_spectrum, spectrum_side
from dnaf.metrics.texture import GARMENTS, spectral_distance

Picture = tuple[np.ndarray, np.ndarray]
"""An (H, W, 3) image and its (H, W) part label map."""


def pattern_distances(made: Picture, swapped: Picture, original: Picture) -> dict[str, float]:
    """Texture distance of the output's garments to the swapped source's and to the true source's,
    and between the two sources; each the mean over the garments that tell the sources apart."""
    found = {"texture_vs_swapped": [], "texture_vs_true_source": [], "textures_apart": []}
    for name in GARMENTS:
        regions = [garment(garment_mask(labels, PART_LABELS[name])) for _, labels in (made, swapped, original)]
        if any(region is None for region in regions):
            continue
        side = spectrum_side(*regions)
        pictures = (made, swapped, original)
        output, new, old = (
            garment_spectrum(image, region, side) for (image, _), region in zip(pictures, regions, strict=True)
        )
        apart = spectral_distance(new, old)
        if apart == 0:
            continue
        found["texture_vs_swapped"].append(spectral_distance(output, new))
        found["texture_vs_true_source"].append(spectral_distance(output, old))
        found["textures_apart"].append(apart)
    return {key: float(np.mean(values)) if values else math.nan for key, values in found.items()}


def texture_swap_scores(
    index: DatasetIndex, root: Path, parts: Path, swapped: pd.DataFrame, samples: Path, size: tuple[int, int]
) -> pd.DataFrame:
    """Per swapped pair (dnaf.metrics.swap.swapped_pairs): the output's texture distance to the
    swapped source's garments and to the true source's, and how far apart those two are."""

    def picture(name: str) -> Picture:
        return load_rgb(root / index.images.at[name, "path"], size), load_part_map(part_map_file(parts, name), size)

    rows = []
    for _, pair in swapped.iterrows():
        made = (load_rgb(samples / pair["file"], size, "bicubic-antialias"),
                load_part_map(part_map_file(parts, pair["target"]), size))  # fmt: skip
        rows.append({"file": pair["file"], "source": pair["source"], "target": pair["target"]}
                    | pattern_distances(made, picture(pair["source"]), picture(pair["true_source"])))  # fmt: skip
    return pd.DataFrame(rows)


def texture_swap_summary(scores: pd.DataFrame) -> dict:
    """Means over the pairs with a score and the verdict (dnaf.metrics.sign_test): the output's
    patterns follow the source when significantly more pairs are closer to the swapped source's
    garments than to the true source's."""
    kept = scores.dropna(subset=["texture_vs_swapped", "texture_vs_true_source"])
    if kept.empty:
        return {"pairs": 0, "texture_vs_true_source": None, "texture_vs_swapped": None, "textures_apart": None,
                "share_closer_to_swapped": None, "sign_test_p": None, "follows_source": None}  # fmt: skip
    return {
        "pairs": len(kept),
        "texture_vs_true_source": float(kept["texture_vs_true_source"].mean()),
        "texture_vs_swapped": float(kept["texture_vs_swapped"].mean()),
        "textures_apart": float(kept["textures_apart"].mean()),
        **sign_verdict(kept["texture_vs_swapped"], kept["texture_vs_true_source"]),
    }
