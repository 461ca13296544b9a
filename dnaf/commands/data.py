"""Data verbs: check-data, prepare-highres, index-data, render-poses, preview-data, make-demo-data."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from dnaf.commands.common import Verbs, dataset_and_root, dataset_options, logger, report_problems, size, workers
from dnaf.config import Config
from dnaf.core.errors import EXIT_OK, DataError, UsageError
from dnaf.io.atomic import atomic_write


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

    dataset, root = dataset_and_root(args, config)
    started = time.perf_counter()
    index, log = inspect_dataset(dataset, root, workers=workers(args, config), images=not args.skip_images)
    report_problems(log)
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
        raise DataError(
            f"{root}: {len(log.errors)} error(s), {len(log.warnings)} warning(s): the dataset is not usable as it is"
        )
    logger.info(
        "%s: no errors, %d warning(s) (%.1f s)",
        root,
        len(log.warnings),
        report["seconds"],
    )
    return EXIT_OK


def prepare_highres(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.highres import place_highres
    from dnaf.data.problems import ProblemLog

    dataset, root = dataset_and_root(args, config)
    if dataset.format != "deepfashion-csv":
        raise UsageError(f"datasets.{args.dataset} has format {dataset.format}: the pictures go by name into "
                         "image_dirs only in the deepfashion-csv layout")  # fmt: skip
    log = ProblemLog()
    place_highres(dataset, root, log)
    report_problems(log)
    if log.errors:
        raise DataError(f"{root}: {len(log.errors)} listed picture(s) not found under img/; nothing placed")
    return EXIT_OK


def index_data(args: argparse.Namespace, config: Config) -> int:
    from dnaf.data.load import inspect_dataset

    dataset, root = dataset_and_root(args, config)
    index, log = inspect_dataset(dataset, root, workers=workers(args, config), decode=False)
    if log.errors:
        report_problems(log)
        raise DataError(f"not indexing {root}: {len(log.errors)} error(s); run 'dnaf check-data' for the full report")
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
    drawn = render(index, args.out, size, workers(args, config))
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
    from dnaf.data.index import DatasetIndex
    from dnaf.io.atomic import atomic_write_bytes
    from dnaf.io.images import encode_image
    from dnaf.reports.data_preview import preview_grid, sample_names

    _, root = dataset_and_root(args, config)
    index = DatasetIndex.load(args.index)
    names = sample_names(index, args.count, args.split, args.seed)
    atomic_write_bytes(args.out, encode_image(preview_grid(index, root, names, args.tile_height)))
    logger.info("wrote a preview of %d %s images to %s", len(names), args.split, args.out)
    return EXIT_OK


def make_demo_data(args: argparse.Namespace, config: Config) -> int:
    from dnaf.demo.generate import write_demo_dataset

    dataset = config.datasets.get(args.dataset)
    synthetic = dataset.synthetic
    if synthetic is None:
        raise UsageError(f"datasets.{args.dataset} has no synthetic: section: it is not generated but read from "
                         f"{dataset.root}")  # fmt: skip
    if args.seed is not None:
        synthetic = synthetic.model_copy(update={"seed": args.seed})
    layout = args.layout or ("nted" if dataset.format == "deepfashion-nted" else "csv")
    write_demo_dataset(args.out, synthetic, dataset.image_size, layout, workers(args, config), args.overwrite)
    return EXIT_OK


def register(verbs: Verbs) -> None:
    sub = verbs.add("check-data", check_data, "check a raw dataset and report every problem at once")
    dataset_options(sub)
    sub.add_argument("--report", type=Path, help="also write the report as JSON here")
    sub.add_argument("--skip-images", action="store_true", help="check the annotation files only")

    sub = verbs.add(
        "prepare-highres", prepare_highres,
        "place img_highres.zip's pictures (unpacked in <root>/img) under their flattened names in image_dirs",
    )  # fmt: skip
    dataset_options(sub)

    sub = verbs.add("index-data", index_data, "write the canonical index (images.csv, pairs.csv)")
    dataset_options(sub)
    sub.add_argument("--out", type=Path, required=True, help="folder for images.csv and pairs.csv")

    sub = verbs.add("render-poses", render_poses, "render every image's OpenPose skeleton into a cache folder")
    dataset_options(sub, root=False)
    sub.add_argument("--index", type=Path, required=True, help="folder with images.csv (from index-data)")
    sub.add_argument("--out", type=Path, required=True, help="cache folder")
    sub.add_argument("--size", type=size, help="HEIGHTxWIDTH (default: the dataset's skeleton_size)")

    sub = verbs.add("preview-data", preview_data, "draw a contact sheet of images with their skeletons over them")
    dataset_options(sub)
    sub.add_argument("--index", type=Path, required=True, help="folder with images.csv (from index-data)")
    sub.add_argument("--out", type=Path, required=True, help="PNG file to write")
    sub.add_argument("--count", type=int, default=16)
    sub.add_argument("--split", choices=["train", "test"], default="test")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--tile-height", type=int, default=256)

    sub = verbs.add("make-demo-data", make_demo_data, "write the synthetic demo dataset in a DeepFashion layout")
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument(
        "--dataset", default="demo", metavar="NAME", help="a dataset with a synthetic: section (default: demo)"
    )
    sub.add_argument("--seed", type=int, help="default: datasets.<name>.synthetic.seed")
    sub.add_argument("--layout", choices=["csv", "nted"], help="default: from datasets.<name>.format")
    sub.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
