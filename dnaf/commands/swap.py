"""``dnaf swap-check``: sample the test pairs with another identity's source and measure whether
the outputs' colours follow the source (dnaf.reports.swap_check)."""

from __future__ import annotations

import argparse
import json

from dnaf.atomic import atomic_write, atomic_write_bytes
from dnaf.commands.common import EXIT_OK, EXIT_USAGE, dataset_and_root, logger
from dnaf.config import Config


def swap_check(args: argparse.Namespace, config: Config) -> int:
    import torch

    from dnaf.data.index import DatasetIndex
    from dnaf.images import decoded_size, encode_image
    from dnaf.models.saving import read_model_record
    from dnaf.pose.cache import SkeletonCache
    from dnaf.reports.swap_check import swap_grid, swap_scores, swap_summary, swapped_pairs
    from dnaf.sampling.run import claim_folder, data_for, fingerprint, generate
    from dnaf.sampling.shards import seeded_pairs, shard_batches

    dataset, root = dataset_and_root(args, config)
    if dataset.synthetic is None:
        logger.error("the swap check needs part label maps, which only the synthetic demo data has")
        return EXIT_USAGE
    experiment = config.experiments.get(args.dataset)
    index = DatasetIndex.load(args.index)
    skeletons = SkeletonCache(index, args.poses, dataset.skeleton_size)
    swapped = swapped_pairs(seeded_pairs(index, experiment.sample.seed), index)
    images = args.out / "images"
    claim_folder(images, fingerprint(args.model, experiment.sample), replace_stale=True)
    size = tuple(experiment.evaluate.size or dataset.image_size)
    batches = shard_batches(len(swapped), experiment.sample.batch_size, 0, 1)
    todo = [b for b in batches if not all(decoded_size(images / swapped.at[i, "file"]) for i in b)]
    if todo:
        resolution = tuple(read_model_record(args.model)["image_size"])
        device = "cuda" if torch.cuda.is_available() else "cpu"
        generate(args.model, data_for(index, root, skeletons, swapped, resolution), swapped, todo, images,
                 experiment.sample, device, desc="swapped sources")  # fmt: skip
    scores = swap_scores(index, root, root / "parts", swapped, images, size)
    summary = {"model": str(args.model), **swap_summary(scores)}
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
        summary["identities_apart"], "the outputs follow the source" if summary["follows_source"]
        else "the outputs do NOT follow the source",
    )  # fmt: skip
    return EXIT_OK
