"""``dnaf swap-check``: sample the test pairs with another identity's source and measure whether
the outputs' colours (dnaf.metrics.swap) and garment patterns (dnaf.metrics.texture_swap) follow
the source."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnaf.commands.common import Verbs, dataset_options, logger, part_mapped_dataset, scoring_size
from dnaf.config import Config
from dnaf.core.errors import EXIT_OK
from dnaf.data.parts import part_maps
from dnaf.io.atomic import atomic_write, atomic_write_bytes


def swap_check(args: argparse.Namespace, config: Config) -> int:

    from dnaf.data.index import DatasetIndex
    from dnaf.io.images import encode_image
    from dnaf.metrics.sign_test import verdict_text
    from dnaf.metrics.swap import swap_scores, swap_summary, swapped_pairs
    from dnaf.metrics.texture_swap import texture_swap_scores, texture_swap_summary
    from dnaf.pose.cache import SkeletonCache
    from dnaf.reports.swap_check import swap_grid
    from dnaf.sampling.run import sample_into
    from dnaf.sampling.shards import seeded_pairs

    dataset, root = part_mapped_dataset(args, config, "the swap check")
    experiment = config.experiments.get(args.dataset)
    index = DatasetIndex.load(args.index)
    skeletons = SkeletonCache(index, args.poses, dataset.skeleton_size)
    swapped = swapped_pairs(seeded_pairs(index, experiment.sample.seed), index)
    images = args.out / "images"
    sample_into(args.model, index, root, skeletons, swapped, images, experiment.sample, "swapped sources")
    size = scoring_size(config, args.dataset)
    scores = swap_scores(index, root, part_maps(root), swapped, images, size)
    texture = texture_swap_scores(index, root, part_maps(root), swapped, images, size)
    summary = {"model": str(args.model), **swap_summary(scores), "texture": texture_swap_summary(texture)}
    scores = scores.merge(texture.drop(columns=["source", "target"]), on="file", validate="one_to_one")
    with atomic_write(args.out / "swap_scores.csv") as handle:
        scores.to_csv(handle, index=False)
    with atomic_write(args.out / "swap.json") as handle:
        json.dump(summary, handle, indent=2)
        handle.write("\n")
    grid = swap_grid(index, root, skeletons, swapped, images, size, args.samples)
    atomic_write_bytes(args.out / "swap.png", encode_image(grid))
    logger.info(
        "swap check on %d pairs: colour error %.4f against the ground truth, %.4f against the swapped identity "
        "(identities %.4f apart): %s", summary["pairs"], summary["error_vs_truth"], summary["error_vs_swapped"],
        summary["identities_apart"], verdict_text(summary, "outputs"),
    )  # fmt: skip
    if (patterns := summary["texture"])["pairs"]:
        logger.info(
            "pattern swap check on %d pairs: texture distance %.3f to the true source's garments, %.3f to the "
            "swapped source's (sources %.3f apart): %s", patterns["pairs"], patterns["texture_vs_true_source"],
            patterns["texture_vs_swapped"], patterns["textures_apart"], verdict_text(patterns, "patterns"),
        )  # fmt: skip
    return EXIT_OK


def register(verbs: Verbs) -> None:
    sub = verbs.add(
        "swap-check",
        swap_check,
        "sample the test pairs with another identity's source: do colours and patterns follow it?",
    )
    dataset_options(sub)
    sub.add_argument("--model", type=Path, required=True, help="trained model folder")
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--poses", type=Path, required=True)
    sub.add_argument("--samples", type=Path, help="the model's outputs with the true sources (a grid column)")
    sub.add_argument("--out", type=Path, required=True, help="folder: images/, swap.json, swap_scores.csv, swap.png")
