"""Verbs for users' own photos: extract-poses (keypoints of any photo) and make-dataset (a folder
of photos grouped by person -> a dataset the workflow trains on)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnaf.commands.common import Verbs, logger, size, workers
from dnaf.config import Config
from dnaf.core.errors import EXIT_OK, DataError
from dnaf.io.atomic import atomic_write, atomic_write_bytes

SHEET_PHOTOS = 48


def pose_settings(args: argparse.Namespace, config: Config):
    """The config's pose_extraction with the command line's --detector / --weights over it."""
    from dnaf.pose.config import PoseExtractionConfig

    overrides = {key: value for key, value in (("detector", args.detector), ("weights", args.weights)) if value}
    return PoseExtractionConfig.model_validate({**config.pose_extraction.model_dump(), **overrides})


def _sheet(extractions, photos, count: int):
    """The contact sheet: photos with a note first (no person, several people), then the others."""
    from dnaf.io.images import load_rgb
    from dnaf.reports.pose_sheet import pose_sheet

    order = sorted(range(len(photos)), key=lambda i: extractions[i].note is None)[:count]
    entries = []
    for i in order:
        extraction = extractions[i]
        picture = None if extraction.size is None else load_rgb(photos[i].path)
        keypoints = None if extraction.person is None else extraction.person.keypoints
        entries.append((picture, keypoints, extraction.name, extraction.note))
    return pose_sheet(entries)


def extract_poses(args: argparse.Namespace, config: Config) -> int:
    from dnaf.io.images import encode_image
    from dnaf.pose.extraction import annotation_text, extract_poses, find_photos, json_name, settings_record

    settings = pose_settings(args, config)
    photos = find_photos(args.photos)
    args.out.mkdir(parents=True, exist_ok=True)
    extractions = extract_poses(photos, settings, args.out, workers(args, config))
    with atomic_write(args.out / "annotations.csv") as handle:
        handle.write(annotation_text(extractions))
    notes = {e.name: e.note for e in extractions if e.note}
    for name, note in notes.items():
        logger.warning("%s: %s", name, note)
    found = sum(e.person is not None for e in extractions)
    report = {"photos": len(photos), "with_a_person": found, "notes": notes, **settings_record(settings),
              "keypoint_files": {e.name: json_name(e.name) for e in extractions if e.size}}  # fmt: skip
    with atomic_write(args.out / "report.json") as handle:
        json.dump(report, handle, indent=2)
    if args.sheet_count:
        atomic_write_bytes(args.out / "contact-sheet.png", encode_image(_sheet(extractions, photos, args.sheet_count)))
    logger.info("%d of %d photos with a person; keypoints, annotations.csv, report.json and contact-sheet.png "
                "in %s", found, len(photos), args.out)  # fmt: skip
    if not found:
        raise DataError(f"no person found in any of the {len(photos)} photos (see {args.out / 'report.json'})")
    return EXIT_OK


def make_dataset(args: argparse.Namespace, config: Config) -> int:
    from dnaf.photos.make import DatasetPlan
    from dnaf.photos.make import make_dataset as make
    from dnaf.photos.sources import photos_by_folder, photos_from_table

    if args.identities:
        people, left_out = photos_from_table(args.images, args.identities), []
    else:
        people, left_out = photos_by_folder(args.images)
    plan = DatasetPlan(args.name, args.size, args.fit, args.test_fraction, args.seed, args.pairs_per_picture)
    summary = make(people, args.out, plan, pose_settings(args, config), workers(args, config), args.overwrite,
                   left_out)  # fmt: skip
    logger.info(
        "%s: %d of %d photos kept (%d people train, %d test; %d train pairs, %d test pairs), %d left out "
        "(left-out.csv)", args.out, summary["kept"], summary["photos"], summary["people"]["train"],
        summary["people"]["test"], summary["pairs"]["train"], summary["pairs"]["test"], summary["left_out"],
    )  # fmt: skip
    logger.info("next: dnaf check-data --config %s --dataset %s", args.out / "dataset.yaml", args.name)
    return EXIT_OK


def _detector_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--detector", choices=["mediapipe", "openpose"], help="default: config pose_extraction.detector")
    sub.add_argument("--weights", type=Path, help="openpose: folder of body_pose_model.pth (pose_extraction.weights)")


def _dataset_name(text: str) -> str:
    from dnaf.config import DATASET_NAME

    if not DATASET_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r}: a dataset name is lower case letters, digits, - and _")
    return text


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text}")
    return value


def register(verbs: Verbs) -> None:
    sub = verbs.add("extract-poses", extract_poses, "COCO-18 keypoints (OpenPose JSON + annotation rows) of photos")
    sub.add_argument("photos", type=Path, nargs="+", help="photo files or folders (searched recursively)")
    outputs = "<photo>_keypoints.json each, annotations.csv, report.json, contact-sheet.png"
    sub.add_argument("--out", type=Path, required=True, help=f"folder: {outputs}")
    sheet = "photos on the contact sheet, those with a problem first; 0 = none"
    sub.add_argument("--sheet-count", type=int, default=SHEET_PHOTOS, help=f"{sheet} (default: %(default)s)")
    _detector_options(sub)

    sub = verbs.add("make-dataset", make_dataset, "a folder of photos grouped by person -> a dataset to train on")
    sub.add_argument("--images", type=Path, required=True, help="one subfolder of photos per person (or --identities)")
    sub.add_argument("--identities", type=Path, help="CSV with columns file (relative to --images) and identity")
    sub.add_argument("--out", type=Path, required=True, help="dataset root to write (DeepFashion CSV layout)")
    sub.add_argument(
        "--name",
        type=_dataset_name,
        default="mine",
        help="the dataset's name in the config layer it writes (default: %(default)s)",
    )
    sub.add_argument("--size", type=size, default=(256, 176), help="HEIGHTxWIDTH of every picture (default: 256x176)")
    fit = "how a photo reaches the size: pad (white, keeps the aspect), crop or resize"
    sub.add_argument("--fit", choices=["pad", "crop", "resize"], default="pad", help=f"{fit} (default: %(default)s)")
    sub.add_argument(
        "--test-fraction", type=_fraction, default=0.1, help="share of people in the test split (default: %(default)s)"
    )
    sub.add_argument("--seed", type=int, default=0, help="of the split and of drawn pairs (default: %(default)s)")
    sub.add_argument("--pairs-per-picture", type=int,
                     help="targets drawn per source picture (default: every ordered pair within a person)")  # fmt: skip
    sub.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    _detector_options(sub)
