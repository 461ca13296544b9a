"""The swap check: does the output follow the SOURCE's appearance, or a dataset average?

Every test pair is sampled again with the source of another identity (same target pose, same
noise). If the model carries the source's appearance, the output's part colours move toward the
swapped identity: its colour error against the swapped identity's colours falls below its error
against the (unchanged) ground truth. A model that ignores the source scores the other way round.
Colours of an identity are the mean colours of its source picture inside that picture's part map.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dnaf.core.errors import DataError
from dnaf.data.index import DatasetIndex
from dnaf.data.parts import load_part_map, part_map_file
from dnaf.io.images import load_rgb
from dnaf.metrics.colour import colour_error, part_colour_errors, part_mean_colours
from dnaf.metrics.sign_test import sign_verdict
from dnaf.sampling.shards import output_name


def swapped_pairs(pairs: pd.DataFrame, index: DatasetIndex) -> pd.DataFrame:
    """pairs (source, target, seed) -> (source, target, file, seed, true_source): the source of
    pair i replaced by that of the first pair from i + n/2 on whose identity differs and whose
    source does not already go with this target (two pairs of one target would write one file);
    the seed (the noise) stays the pair's own."""
    identity = index.images.loc[pairs["source"], "identity"].to_numpy()
    count = len(pairs)
    if len(set(identity)) < 2:
        raise DataError("the swap check needs test pairs of at least two identities")
    sources, targets = pairs["source"].to_numpy(), pairs["target"].to_numpy()
    chosen, taken = [], set()
    for i in range(count):
        j = (i + count // 2) % count
        for _ in range(count):
            if identity[j] != identity[i] and (sources[j], targets[i]) not in taken:
                break
            j = (j + 1) % count
        else:
            raise DataError(
                f"the swap check finds no other identity's source for the pair {sources[i]} -> {targets[i]}"
            )
        taken.add((sources[j], targets[i]))
        chosen.append(sources[j])
    swapped = pd.DataFrame(
        {"source": chosen, "target": pairs["target"].to_numpy(), "seed": pairs["seed"].to_numpy(),
         "true_source": pairs["source"].to_numpy()}
    )  # fmt: skip
    swapped["file"] = [output_name(s, t) for s, t in zip(swapped["source"], swapped["target"], strict=True)]
    if swapped["file"].duplicated().any():
        raise DataError(f"swapped pairs share an output file: {swapped['file'][swapped['file'].duplicated()].iloc[0]}")
    return swapped


def _identity_colours(index: DatasetIndex, root: Path, parts: Path, name: str, size: tuple[int, int]) -> dict:
    labels = load_part_map(part_map_file(parts, name), size)
    return part_mean_colours(load_rgb(root / index.images.at[name, "path"], size), labels)


def swap_scores(
    index: DatasetIndex, root: Path, parts: Path, swapped: pd.DataFrame, samples: Path, size: tuple[int, int]
) -> pd.DataFrame:
    """Per swapped pair: colour error of the output against the ground truth and against the
    swapped identity, and how far apart the two identities' colours are."""
    rows = []
    for _, pair in swapped.iterrows():
        labels = load_part_map(part_map_file(parts, pair["target"]), size)
        truth = part_mean_colours(load_rgb(root / index.images.at[pair["target"], "path"], size), labels)
        other = _identity_colours(index, root, parts, pair["source"], size)
        common = {k: v for k, v in truth.items() if k in other}
        made = load_rgb(samples / pair["file"], size, "bicubic-antialias")
        rows.append(
            {"file": pair["file"], "source": pair["source"], "target": pair["target"],
             "error_vs_truth": colour_error(part_colour_errors(made, common, labels)),
             "error_vs_swapped": colour_error(part_colour_errors(made, other, labels)),
             "identities_apart": colour_error({k: float(np.abs(v - other[k]).mean()) for k, v in common.items()})}
        )  # fmt: skip
    return pd.DataFrame(rows)


def swap_summary(scores: pd.DataFrame) -> dict:
    """Means over pairs and the verdict (dnaf.metrics.sign_test): the outputs follow the source when
    significantly more pairs' errors against the swapped identity are below those against the
    ground truth."""
    return {
        "pairs": len(scores),
        "error_vs_truth": float(scores["error_vs_truth"].mean()),
        "error_vs_swapped": float(scores["error_vs_swapped"].mean()),
        "identities_apart": float(scores["identities_apart"].mean()),
        **sign_verdict(scores["error_vs_swapped"], scores["error_vs_truth"]),
    }
