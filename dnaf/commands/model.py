"""Model verbs: train, sample, gather-samples, download-models (the base models), make-rehearsal-models,
compare-models, convert-model. Sharing a trained model is dnaf.commands.hub."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnaf.commands.common import Verbs, dataset_and_root, dataset_options, logger
from dnaf.config import Config, train_setup
from dnaf.core.errors import EXIT_OK, DataError, UsageError
from dnaf.io.atomic import atomic_write


def train(args: argparse.Namespace, config: Config) -> int:
    from dnaf.training.stopping import StopRequest  # here: the other verbs of this module import no training

    # the stop signals are caught from here on, before the minutes that loading torch and the
    # models can take: a signal then stops training after its first step instead of killing it
    with StopRequest() as stop:
        from dnaf.training.trainer import Trainer, TrainPaths

        dataset, root = dataset_and_root(args, config)
        paths = TrainPaths(index=args.index, root=root, poses=args.poses, out=args.out, resume_from=args.resume_from)
        Trainer(train_setup(config, args.dataset), paths).run(stop)
    return EXIT_OK


def sample(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.pose.cache import SkeletonCache
    from dnaf.sampling.run import sample_shard

    dataset, root = dataset_and_root(args, config)
    index = DatasetIndex.load(args.index)
    skeletons = SkeletonCache(index, args.poses, dataset.skeleton_size)
    sample_config = config.experiments.get(args.dataset).sample
    manifest = sample_shard(
        args.model, index, root, skeletons, args.out, sample_config, args.shard, args.num_shards, args.replace_stale
    )
    if args.manifest:
        with atomic_write(args.manifest) as handle:
            manifest.to_csv(handle, index=False)
    logger.info("shard %d of %d: %d images in %s", args.shard, args.num_shards, len(manifest), args.out)
    return EXIT_OK


def gather_samples(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.sampling.run import gather_samples as gather

    joined = gather(DatasetIndex.load(args.index), args.samples, args.manifests, args.out)
    logger.info("%d generated images, one per test pair, listed in %s", len(joined), args.out)
    return EXIT_OK


def download_models(args: argparse.Namespace, config: Config) -> int:
    from dnaf.models.checkpoints import MissingCheckpointError
    from dnaf.models.checkpoints import download_models as download

    model = config.experiments.get(args.dataset).model
    try:
        download(model.stable_diffusion, model.swin)
    except MissingCheckpointError:
        raise
    except Exception as error:  # huggingface_hub raises many kinds (offline, HTTP, auth, disk)
        first_line = str(error).splitlines()[0] if str(error) else ""
        raise DataError(
            f"could not download the base models ({type(error).__name__}: {first_line}). This needs access to the "
            "Hugging Face Hub; offline, copy stable-diffusion-v1-5 (diffusers format) and swin-base-patch4-window7-224 "
            f"into {model.stable_diffusion} and {model.swin} from a machine that has them."
        ) from error
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
        raise UsageError(
            f"experiments.{args.dataset} needs model.base: pretrained and evaluate.inception_weights and lpips_weights "
            "set: they say where the rehearsal's files go"
        )
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

    differences = weight_differences(args.first, args.second)
    with atomic_write(args.out) as handle:
        json.dump({"first": str(args.first), "second": str(args.second), "identical": not differences,
                   "differences": differences}, handle, indent=2)  # fmt: skip
    if differences:
        raise DataError(f"{args.first} and {args.second} differ in {len(differences)} tensor(s), e.g. "
                        f"{differences[0]}")  # fmt: skip
    logger.info("%s and %s hold identical weights", args.first, args.second)
    return EXIT_OK


def convert_model(args: argparse.Namespace, config: Config) -> int:
    """A model folder of the format before the diffusers pipeline -> a pipeline folder."""
    from dnaf.models.legacy import load_old_model
    from dnaf.pipeline import DNAFPipeline, make_sampler

    model, scheduler, image_size = load_old_model(args.old)
    skeleton_size = config.datasets.get(args.dataset).skeleton_size
    pipeline = DNAFPipeline.from_model(
        model, make_sampler("ddim", scheduler, model.config.space), image_size, skeleton_size
    )
    pipeline.save_pretrained(args.new)
    logger.info("converted %s into the diffusers pipeline folder %s", args.old, args.new)
    return EXIT_OK


def register(verbs: Verbs) -> None:
    sub = verbs.add("train", train, "train DNAF (resumes from the newest checkpoint in --out)")
    dataset_options(sub)
    sub.add_argument("--index", type=Path, required=True, help="folder with images.csv and pairs.csv")
    sub.add_argument("--poses", type=Path, required=True, help="skeleton cache folder (filled lazily if empty)")
    sub.add_argument("--out", type=Path, required=True, help="run folder: model/, checkpoints/, logs, grids")
    sub.add_argument(
        "--resume-from", type=Path, help="a checkpoint folder to start from when --out has none (e.g. another run's)"
    )

    sub = verbs.add("sample", sample, "generate one shard of the test pairs")
    dataset_options(sub)
    sub.add_argument("--model", type=Path, required=True, help="trained model folder (train's out/model)")
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--poses", type=Path, required=True)
    sub.add_argument("--out", type=Path, required=True, help="folder of generated images (shared by shards)")
    sub.add_argument("--shard", type=int, default=0)
    sub.add_argument("--num-shards", type=int, default=1)
    sub.add_argument("--manifest", type=Path, help="write this shard's CSV (source, target, file, seed) here")
    sub.add_argument("--replace-stale", action="store_true", help="delete images of another model/settings in --out")

    sub = verbs.add("gather-samples", gather_samples, "check that every test pair has its generated image")
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--samples", type=Path, required=True, help="folder of generated images")
    sub.add_argument("--manifests", type=Path, nargs="+", required=True, help="the shards' CSV files")
    sub.add_argument("--out", type=Path, required=True, help="joined manifest CSV")

    sub = verbs.add(
        "download-models",
        download_models,
        "fetch the base models SD1.5 and Swin-B into the config's model folders (online; a shared DNAF model: "
        "download-model)",
    )
    sub.add_argument("--dataset", default="deepfashion", metavar="NAME",
                     help="whose experiments.<dataset>.model folders to fill (default: deepfashion)")  # fmt: skip

    sub = verbs.add(
        "make-rehearsal-models",
        make_rehearsal_models,
        "write SEEDED RANDOM base models (SD1.5, Swin) and metric weights in the real formats, for a rehearsal",
    )
    sub.add_argument("--dataset", required=True, metavar="NAME", help="whose experiment names the files")
    sub.add_argument("--seed", type=int, default=0)

    sub = verbs.add("compare-models", compare_models, "are two saved models' weights identical? (exit 1 when not)")
    sub.add_argument("first", type=Path, help="a model folder")
    sub.add_argument("second", type=Path, help="another model folder")
    sub.add_argument("--out", type=Path, required=True, help="JSON: identical, and every differing tensor")

    sub = verbs.add("convert-model", convert_model, "convert a model folder of the old format (dnaf_model.json)")
    sub.add_argument("--dataset", required=True, metavar="NAME", help="the dataset it was trained on (skeleton size)")
    sub.add_argument("old", type=Path, help="a model folder with dnaf_model.json")
    sub.add_argument("new", type=Path, help="the pipeline folder to write (model_index.json + components)")
