"""Model verbs: train, sample, gather-samples, download-models."""

from __future__ import annotations

import argparse

from dnaf.commands.common import EXIT_DATA, EXIT_OK, EXIT_USAGE, dataset_and_root, logger
from dnaf.config import Config, train_setup
from dnaf.io.atomic import atomic_write


def train(args: argparse.Namespace, config: Config) -> int:
    from dnaf.training.trainer import Trainer, TrainPaths

    dataset, root = dataset_and_root(args, config)
    paths = TrainPaths(index=args.index, root=root, poses=args.poses, out=args.out, resume_from=args.resume_from)
    Trainer(train_setup(config, args.dataset), paths).run()
    return EXIT_OK


def sample(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.pose.cache import SkeletonCache
    from dnaf.sampling.run import sample_shard

    dataset, root = dataset_and_root(args, config)
    index = DatasetIndex.load(args.index)
    skeletons = SkeletonCache(index, args.poses, dataset.skeleton_size)
    sample_config = config.experiments.get(args.dataset).sample
    try:
        manifest = sample_shard(
            args.model, index, root, skeletons, args.out, sample_config, args.shard, args.num_shards, args.replace_stale
        )
    except ValueError as error:  # another model's images in --out, or a bad shard number
        logger.error("%s", error)
        return EXIT_USAGE
    if args.manifest:
        with atomic_write(args.manifest) as handle:
            manifest.to_csv(handle, index=False)
    logger.info("shard %d of %d: %d images in %s", args.shard, args.num_shards, len(manifest), args.out)
    return EXIT_OK


def gather_samples(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.sampling.run import gather_samples as gather

    try:
        joined = gather(DatasetIndex.load(args.index), args.samples, args.manifests, args.out)
    except ValueError as error:
        logger.error("%s", error)
        return EXIT_DATA
    logger.info("%d generated images, one per test pair, listed in %s", len(joined), args.out)
    return EXIT_OK


def download_models(args: argparse.Namespace, config: Config) -> int:
    from dnaf.models.checkpoints import MissingCheckpointError
    from dnaf.models.checkpoints import download_models as download

    model = config.experiments.get(args.dataset).model
    try:
        download(model.stable_diffusion, model.swin)
    except MissingCheckpointError as error:
        logger.error("%s", error)
        return EXIT_DATA
    except Exception as error:  # huggingface_hub raises many kinds (offline, HTTP, auth, disk)
        logger.error(
            "could not download the base models (%s: %s). This needs access to the Hugging Face Hub; "
            "offline, copy stable-diffusion-v1-5 (diffusers format) and swin-base-patch4-window7-224 into %s "
            "and %s from a machine that has them.",
            type(error).__name__, str(error).splitlines()[0] if str(error) else "", model.stable_diffusion,
            model.swin,
        )  # fmt: skip
        return EXIT_DATA
    logger.info("base models ready in %s and %s", model.stable_diffusion, model.swin)
    return EXIT_OK


def make_rehearsal_models(args: argparse.Namespace, config: Config) -> int:
    """Base checkpoints and metric weights of seeded random values, in the real formats, where
    the experiment's config expects the real ones."""
    from dnaf.metrics.weights import write_random_weights
    from dnaf.models.rehearsal import write_stable_diffusion, write_swin

    experiment = config.experiments.get(args.dataset)
    model, evaluate = experiment.model, experiment.evaluate
    if model.base != "pretrained" or evaluate.inception_weights is None or evaluate.lpips_weights is None:
        logger.error(
            "experiments.%s needs model.base: pretrained and evaluate.inception_weights and lpips_weights set: they "
            "say where the rehearsal's files go", args.dataset,
        )  # fmt: skip
        return EXIT_USAGE
    write_stable_diffusion(model.tiny, model.stable_diffusion, args.seed)
    write_swin(model.tiny, model.swin, args.seed)
    write_random_weights(evaluate.inception_weights, evaluate.lpips_weights, args.seed)
    logger.warning(
        "wrote SEEDED RANDOM base models and metric weights (seed %d) in the real formats: %s, %s, %s, %s. Nothing "
        "made with them is meaningful; metrics.json says so", args.seed, model.stable_diffusion, model.swin,
        evaluate.inception_weights, evaluate.lpips_weights,
    )  # fmt: skip
    return EXIT_OK


def compare_models(args: argparse.Namespace, config: Config) -> int:
    """Are two saved models' weights identical, bit for bit? (a resume check)"""
    import json

    from dnaf.models.saving import weight_differences

    try:
        differences = weight_differences(args.first, args.second)
    except FileNotFoundError as error:
        logger.error("%s", error)
        return EXIT_DATA
    with atomic_write(args.out) as handle:
        json.dump({"first": str(args.first), "second": str(args.second), "identical": not differences,
                   "differences": differences}, handle, indent=2)  # fmt: skip
    if differences:
        logger.error("%s and %s differ in %d tensor(s), e.g. %s", args.first, args.second, len(differences),
                     differences[0])  # fmt: skip
        return EXIT_DATA
    logger.info("%s and %s hold identical weights", args.first, args.second)
    return EXIT_OK
