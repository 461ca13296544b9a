"""Texture verbs: ``dnaf seed-stability`` samples some test pairs with several seeds and measures
how much their garments' texture changes with the noise alone (dnaf.metrics.texture_stability);
``dnaf texture-study`` writes the texture study's table (docs/texture-study.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnaf.commands.common import Verbs, dataset_options, logger, part_mapped_dataset, scoring_size
from dnaf.config import Config
from dnaf.core.errors import EXIT_OK, UsageError
from dnaf.data.parts import part_maps
from dnaf.io.atomic import atomic_write


def seed_stability(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.metrics.texture_stability import seeded_repeats, stability_scores, stability_summary
    from dnaf.pose.cache import SkeletonCache
    from dnaf.sampling.run import sample_into
    from dnaf.sampling.shards import seeded_pairs

    dataset, root = part_mapped_dataset(args, config, "seed stability")
    experiment = config.experiments.get(args.dataset)
    index = DatasetIndex.load(args.index)
    repeats = seeded_repeats(seeded_pairs(index, experiment.sample.seed), args.pairs, args.seeds)
    images = args.out / "images"
    skeletons = SkeletonCache(index, args.poses, dataset.skeleton_size)
    sample_into(args.model, index, root, skeletons, repeats, images, experiment.sample, "seeds")
    scores = stability_scores(index, root, part_maps(root), repeats, images, scoring_size(config, args.dataset))
    summary = {"model": str(args.model), **stability_summary(scores)}
    with atomic_write(args.out / "stability_scores.csv") as handle:
        scores.to_csv(handle, index=False)
    with atomic_write(args.out / "stability.json") as handle:
        json.dump(summary, handle, indent=2)
        handle.write("\n")
    logger.info("seed stability on %d pairs x %d seeds: spectrum spread %s nats, period spread %s", summary["pairs"],
                summary["seeds"], summary["spectrum_spread"], summary["period_spread"])  # fmt: skip
    return EXIT_OK


def texture_study(args: argparse.Namespace, config: Config) -> int:
    from dnaf.reports.texture_study import study_table, training_rate

    if not len(args.metrics) == len(args.stability) == len(args.train_logs):
        raise UsageError(f"--metrics, --stability and --train-logs need one file per model, in the same order; got "
                         f"{len(args.metrics)}, {len(args.stability)} and {len(args.train_logs)}")  # fmt: skip
    metrics = [json.loads(path.read_text()) for path in args.metrics]
    stability = [json.loads(path.read_text()) for path in args.stability]
    table = study_table(metrics, stability, [training_rate(path) for path in args.train_logs])
    with atomic_write(args.out) as handle:
        handle.write(table)
    logger.info("texture study of %d models: %s", len(metrics), args.out)
    return EXIT_OK


def register(verbs: Verbs) -> None:
    sub = verbs.add("seed-stability", seed_stability, "sample test pairs with several seeds: is the texture stable?")
    dataset_options(sub)
    sub.add_argument("--model", type=Path, required=True, help="trained model folder")
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--poses", type=Path, required=True)
    sub.add_argument("--pairs", type=int, default=20, help="test pairs, spread over the test set (default 20)")
    sub.add_argument("--seeds", type=int, default=4, help="seeds per pair (default 4)")
    sub.add_argument("--out", type=Path, required=True, help="folder: images/, stability.json, stability_scores.csv")

    sub = verbs.add("texture-study", texture_study, "the texture study's table: texture, stability and cost per model")
    sub.add_argument("--metrics", type=Path, nargs="+", required=True, help="metrics.json per model")
    sub.add_argument("--stability", type=Path, nargs="+", required=True, help="stability.json per model, same order")
    sub.add_argument("--train-logs", type=Path, nargs="+", required=True, help="train_log.csv per model, same order")
    sub.add_argument("--out", type=Path, required=True, help="Markdown file")
