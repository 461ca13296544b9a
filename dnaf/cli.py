"""``dnaf <verb>``: the command line every workflow rule calls.

Exit codes: 0 success, 1 the data has problems (all of them are reported), 2 usage or
configuration error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from dnaf import __version__
from dnaf.atomic import atomic_write
from dnaf.config import (
    Config,
    ConfigError,
    DatasetConfig,
    config_json_schema,
    dump_config,
    load_config,
)

logger = logging.getLogger("dnaf")
EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


def _size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 256x176, got {text!r}") from None
    if height <= 0 or width <= 0:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return height, width


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        action="append",
        default=[],
        metavar="YAML",
        help="config file over the defaults; repeat to layer several",
    )
    common.add_argument(
        "--config-json",
        metavar="JSON",
        help="partial config as inline JSON, applied last",
    )
    common.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: config 'workers', 0 = all cores)",
    )
    common.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return common


def _dataset_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, choices=["deepfashion", "market", "demo"])
    parser.add_argument(
        "--root",
        type=Path,
        help="dataset root (default: the config's datasets.<name>.root)",
    )


def _dataset(args: argparse.Namespace, config: Config) -> tuple[DatasetConfig, Path]:
    dataset = config.datasets.get(args.dataset)
    return dataset, args.root or dataset.root


def _workers(args: argparse.Namespace, config: Config) -> int:
    return config.workers if args.workers is None else args.workers


def _report_problems(log) -> None:
    for problem in log.problems:
        (logger.error if problem.severity == "error" else logger.warning)("%s", problem)


def _summary(index) -> dict:
    from dnaf.data.index import X_COLUMNS

    images, pairs = index.images, index.pairs
    summary = {}
    for split in ("train", "test"):
        members = images[images["split"] == split]
        summary[split] = {
            "images": len(members),
            "identities": int(members["identity"].nunique()),
            "pairs": int((pairs["split"] == split).sum()),
            "images_without_keypoints": int(members[X_COLUMNS].isna().all(axis=1).sum()),
        }
    return summary


def check_data(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.load import inspect_dataset

    dataset, root = _dataset(args, config)
    started = time.perf_counter()
    index, log = inspect_dataset(dataset, root, workers=_workers(args, config), images=not args.skip_images)
    _report_problems(log)
    summary = _summary(index)
    report = {
        "dataset": args.dataset,
        "root": str(root),
        "format": dataset.format,
        "images_checked": not args.skip_images,
        "counts": summary,
        "errors": [str(p) for p in log.errors],
        "warnings": [str(p) for p in log.warnings],
        "seconds": round(time.perf_counter() - started, 2),
    }
    if args.report:
        with atomic_write(args.report) as handle:
            json.dump(report, handle, indent=2)
    for split, counts in summary.items():
        logger.info(
            "%s: %d images, %d identities, %d pairs",
            split,
            counts["images"],
            counts["identities"],
            counts["pairs"],
        )
    if log.errors:
        logger.error(
            "%s: %d error(s), %d warning(s): the dataset is not usable as it is",
            root,
            len(log.errors),
            len(log.warnings),
        )
        return EXIT_DATA
    logger.info(
        "%s: no errors, %d warning(s) (%.1f s)",
        root,
        len(log.warnings),
        report["seconds"],
    )
    return EXIT_OK


def index_data(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.load import inspect_dataset

    dataset, root = _dataset(args, config)
    index, log = inspect_dataset(dataset, root, workers=_workers(args, config), decode=False)
    if log.errors:
        _report_problems(log)
        logger.error(
            "not indexing %s: %d error(s); run 'dnaf check-data' for the full report",
            root,
            len(log.errors),
        )
        return EXIT_DATA
    index.save(args.out)
    logger.info(
        "indexed %d images and %d pairs into %s",
        len(index.images),
        len(index.pairs),
        args.out,
    )
    return EXIT_OK


def render_poses(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.pose.cache import render_poses as render

    dataset = config.datasets.get(args.dataset)
    size = args.size or dataset.skeleton_size
    index = DatasetIndex.load(args.index)
    started = time.perf_counter()
    drawn = render(index, args.out, size, _workers(args, config))
    seconds = time.perf_counter() - started
    logger.info(
        "%d skeletons drawn (%d already cached) in %.1f s, %.0f images/s",
        drawn,
        len(index.images) - drawn,
        seconds,
        drawn / seconds if seconds else 0.0,
    )
    return EXIT_OK


def preview_data(args: argparse.Namespace, config: Config) -> int:
    import io

    from PIL import Image

    from dnaf.data.index import DatasetIndex
    from dnaf.data.preview import preview_grid, sample_names

    _, root = _dataset(args, config)
    index = DatasetIndex.load(args.index)
    names = sample_names(index, args.count, args.split, args.seed)
    buffer = io.BytesIO()
    Image.fromarray(preview_grid(index, root, names, args.tile_height)).save(buffer, format="PNG")
    with atomic_write(args.out, "wb") as handle:
        handle.write(buffer.getvalue())
    logger.info("wrote a preview of %d %s images to %s", len(names), args.split, args.out)
    return EXIT_OK


def make_demo_data(args: argparse.Namespace, config: Config) -> int:
    from dnaf.demo.generate import write_demo_dataset

    dataset = config.datasets.demo
    synthetic = dataset.synthetic
    if args.seed is not None:
        synthetic = synthetic.model_copy(update={"seed": args.seed})
    layout = args.layout or ("nted" if dataset.format == "deepfashion-nted" else "csv")
    try:
        write_demo_dataset(
            args.out,
            synthetic,
            dataset.image_size,
            layout,
            _workers(args, config),
            args.overwrite,
        )
    except FileExistsError as error:
        logger.error("%s", error)
        return EXIT_USAGE
    return EXIT_OK


def train(args: argparse.Namespace, config: Config) -> int:
    from dnaf.training.trainer import Trainer, TrainPaths

    dataset, root = _dataset(args, config)
    paths = TrainPaths(index=args.index, root=root, poses=args.poses, out=args.out)
    Trainer(config, args.dataset, paths).run()
    return EXIT_OK


def sample(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.index import DatasetIndex
    from dnaf.pose.cache import SkeletonCache
    from dnaf.sampling.run import sample_shard

    dataset, root = _dataset(args, config)
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


def show_config(args: argparse.Namespace, config: Config) -> int:
    sys.stdout.write(dump_config(config))
    return EXIT_OK


def config_schema(args: argparse.Namespace, config: Config) -> int:
    text = "# Generated by `dnaf config-schema` from dnaf/config.py; do not edit.\n"
    text += yaml.safe_dump(config_json_schema(), sort_keys=False)
    if args.out:
        with atomic_write(args.out) as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dnaf", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dnaf {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    common = _common_options()

    def verb(name: str, function: Callable[[argparse.Namespace, Config], int], help: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, parents=[common], help=help, description=help)
        sub.set_defaults(function=function)
        return sub

    sub = verb("check-data", check_data, "check a raw dataset and report every problem at once")
    _dataset_options(sub)
    sub.add_argument("--report", type=Path, help="also write the report as JSON here")
    sub.add_argument("--skip-images", action="store_true", help="check the annotation files only")

    sub = verb("index-data", index_data, "write the canonical index (images.csv, pairs.csv)")
    _dataset_options(sub)
    sub.add_argument("--out", type=Path, required=True, help="folder for images.csv and pairs.csv")

    sub = verb("render-poses", render_poses, "render every image's OpenPose skeleton into a cache folder")
    sub.add_argument("--dataset", required=True, choices=["deepfashion", "market", "demo"])
    sub.add_argument("--index", type=Path, required=True, help="folder with images.csv (from index-data)")
    sub.add_argument("--out", type=Path, required=True, help="cache folder")
    sub.add_argument("--size", type=_size, help="HEIGHTxWIDTH (default: the dataset's skeleton_size)")

    sub = verb("preview-data", preview_data, "draw a contact sheet of images with their skeletons over them")
    _dataset_options(sub)
    sub.add_argument("--index", type=Path, required=True, help="folder with images.csv (from index-data)")
    sub.add_argument("--out", type=Path, required=True, help="PNG file to write")
    sub.add_argument("--count", type=int, default=16)
    sub.add_argument("--split", choices=["train", "test"], default="test")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--tile-height", type=int, default=256)

    sub = verb("make-demo-data", make_demo_data, "write the synthetic demo dataset in a DeepFashion layout")
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument("--seed", type=int, help="default: datasets.demo.synthetic.seed")
    sub.add_argument("--layout", choices=["csv", "nted"], help="default: from datasets.demo.format")
    sub.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")

    sub = verb("train", train, "train DNAF (resumes from the newest checkpoint in --out)")
    _dataset_options(sub)
    sub.add_argument("--index", type=Path, required=True, help="folder with images.csv and pairs.csv")
    sub.add_argument("--poses", type=Path, required=True, help="skeleton cache folder (filled lazily if empty)")
    sub.add_argument("--out", type=Path, required=True, help="run folder: model/, checkpoints/, logs, grids")

    sub = verb("sample", sample, "generate one shard of the test pairs")
    _dataset_options(sub)
    sub.add_argument("--model", type=Path, required=True, help="trained model folder (train's out/model)")
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--poses", type=Path, required=True)
    sub.add_argument("--out", type=Path, required=True, help="folder of generated images (shared by shards)")
    sub.add_argument("--shard", type=int, default=0)
    sub.add_argument("--num-shards", type=int, default=1)
    sub.add_argument("--manifest", type=Path, help="write this shard's CSV (source, target, file, seed) here")
    sub.add_argument("--replace-stale", action="store_true", help="delete images of another model/settings in --out")

    sub = verb("gather-samples", gather_samples, "check that every test pair has its generated image")
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--samples", type=Path, required=True, help="folder of generated images")
    sub.add_argument("--manifests", type=Path, nargs="+", required=True, help="the shards' CSV files")
    sub.add_argument("--out", type=Path, required=True, help="joined manifest CSV")

    sub = verb("download-models", download_models, "fetch SD1.5 and Swin-B into the config's model folders (online)")
    sub.add_argument(
        "--dataset",
        default="deepfashion",
        choices=["deepfashion", "market", "demo"],
        help="whose experiments.<dataset>.model folders to fill (default: deepfashion)",
    )
    verb("show-config", show_config, "print the resolved configuration")
    sub = verb(
        "config-schema",
        config_schema,
        "write the JSON schema of the configuration (YAML)",
    )
    sub.add_argument("--out", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = load_config(args.config, args.config_json)
        return args.function(args, config)
    except ConfigError as error:
        logger.error("configuration error:\n%s", error)
        return EXIT_USAGE
