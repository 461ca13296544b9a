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

from dnaf.data.index import DatasetIndex
from dnaf.grid import image_grid
from dnaf.images import load_rgb, resize_rgb
from dnaf.metrics.colour import colour_error, load_part_map, part_colour_errors, part_mean_colours
from dnaf.pose.cache import SkeletonCache
from dnaf.reports.comparison_grid import spread_rows
from dnaf.sampling.shards import output_name


def swapped_pairs(pairs: pd.DataFrame, index: DatasetIndex) -> pd.DataFrame:
    """pairs (source, target, seed) -> (source, target, file, seed, true_source): the source of
    pair i replaced by that of the first pair from i + n/2 on whose identity differs; the seed
    (the noise) stays the pair's own."""
    identity = index.images.loc[pairs["source"], "identity"].to_numpy()
    count = len(pairs)
    if len(set(identity)) < 2:
        raise ValueError("the swap check needs test pairs of at least two identities")
    chosen = []
    for i in range(count):
        j = (i + count // 2) % count
        while identity[j] == identity[i]:
            j = (j + 1) % count
        chosen.append(pairs["source"].iloc[j])
    swapped = pd.DataFrame(
        {"source": chosen, "target": pairs["target"].to_numpy(), "seed": pairs["seed"].to_numpy(),
         "true_source": pairs["source"].to_numpy()}
    )  # fmt: skip
    swapped["file"] = [output_name(s, t) for s, t in zip(swapped["source"], swapped["target"], strict=True)]
    if swapped["file"].duplicated().any():
        raise ValueError(f"swapped pairs share an output file: {swapped['file'][swapped['file'].duplicated()].iloc[0]}")
    return swapped


def _identity_colours(index: DatasetIndex, root: Path, parts: Path, name: str, size: tuple[int, int]) -> dict:
    labels = load_part_map(parts / f"{Path(name).stem}.png", size)
    return part_mean_colours(load_rgb(root / index.images.at[name, "path"], size), labels)


def swap_scores(
    index: DatasetIndex, root: Path, parts: Path, swapped: pd.DataFrame, samples: Path, size: tuple[int, int]
) -> pd.DataFrame:
    """Per swapped pair: colour error of the output against the ground truth and against the
    swapped identity, and how far apart the two identities' colours are."""
    rows = []
    for _, pair in swapped.iterrows():
        labels = load_part_map(parts / f"{Path(pair['target']).stem}.png", size)
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
    """Means over pairs and the verdict: the output follows the source when its error against the
    swapped identity is below its error against the ground truth."""
    vs_truth, vs_swapped = float(scores["error_vs_truth"].mean()), float(scores["error_vs_swapped"].mean())
    return {
        "pairs": len(scores),
        "error_vs_truth": vs_truth,
        "error_vs_swapped": vs_swapped,
        "identities_apart": float(scores["identities_apart"].mean()),
        "share_closer_to_swapped": float((scores["error_vs_swapped"] < scores["error_vs_truth"]).mean()),
        "follows_source": vs_swapped < vs_truth,
    }


def swap_grid(
    index: DatasetIndex,
    root: Path,
    skeletons: SkeletonCache,
    swapped: pd.DataFrame,
    swapped_samples: Path,
    size: tuple[int, int],
    samples: Path | None = None,
    count: int = 8,
) -> np.ndarray:
    """pose | source | output | swapped source | output with it (| ground truth), one pair per row;
    ``samples``: the folder of the outputs with the true source (omitted when None)."""
    rows = []
    for _, pair in spread_rows(swapped, count).iterrows():
        row = [
            resize_rgb(skeletons[pair["target"]], size, "bilinear"),
            load_rgb(root / index.images.at[pair["true_source"], "path"], size),
        ]
        if samples is not None:
            row.append(load_rgb(samples / output_name(pair["true_source"], pair["target"]), size))
        row += [
            load_rgb(root / index.images.at[pair["source"], "path"], size),
            load_rgb(swapped_samples / pair["file"], size),
            load_rgb(root / index.images.at[pair["target"], "path"], size),
        ]
        rows.append(row)
    labels = ["pose", "source", *(["output"] if samples is not None else []), "other source", "output", "truth"]
    return image_grid(rows, labels=labels)


def appearance_checks(main: dict, pose_only: dict | None, swap: dict | None) -> str:
    """Markdown lines: the main run's colour error against the pose-only model's, and the swap check."""
    lines = []
    if pose_only is not None and main.get("colour_error") is not None and pose_only.get("colour_error"):
        ratio = main["colour_error"] / pose_only["colour_error"]
        lines.append(
            f"- colour error: {main['method']} {main['colour_error']:.4f} = {ratio:.2f} x the pose-only model's "
            f"({pose_only['colour_error']:.4f}); target at most 0.5 x: {'met' if ratio <= 0.5 else 'NOT met'}"
        )
    if swap is not None:
        verdict = "the outputs follow the source" if swap["follows_source"] else "the outputs do NOT follow the source"
        lines.append(
            f"- swap check ({swap['pairs']} pairs sampled again with another identity's source): colour error "
            f"{swap['error_vs_swapped']:.4f} against the swapped identity, {swap['error_vs_truth']:.4f} against the "
            f"ground truth (the identities are {swap['identities_apart']:.4f} apart; "
            f"{100 * swap['share_closer_to_swapped']:.0f}% of pairs closer to the swapped identity): {verdict}"
        )
    if not lines:
        return ""
    return "\n".join(["", "Appearance checks (synthetic part maps):", "", *lines]) + "\n"
