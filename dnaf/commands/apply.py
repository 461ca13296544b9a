"""Application verbs: transfer (pose transfer of any picture) and try-on (appearance inside a mask)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dnaf.commands.common import Verbs, logger, size
from dnaf.config import Config
from dnaf.core.errors import EXIT_OK, UsageError
from dnaf.io.atomic import atomic_write, atomic_write_bytes


def _read_picture(path: Path, what: str):
    from dnaf.applications.poses import as_picture

    return as_picture(path, what)


def _keypoints(args: argparse.Namespace, config: Config):
    """The target pose: keypoints, or the photo to extract them from (None: the person's own)."""
    from dnaf.applications.poses import from_annotation_row, from_index, from_openpose_json

    if args.pose_image:
        return _read_picture(args.pose_image, "pose image"), {"pose": str(args.pose_image)}
    if not (args.pose_json or args.pose_row or args.pose_name):
        return None, {"pose": f"extracted from the person photo {args.person}"}
    frame = args.pose_frame or config.datasets.get(args.dataset).image_size
    if args.pose_json:
        return from_openpose_json(args.pose_json, frame), {"pose": str(args.pose_json), "pose_frame": list(frame)}
    if args.pose_row:
        return from_annotation_row(args.pose_row, frame), {"pose": args.pose_row, "pose_frame": list(frame)}
    if args.index is None:
        raise UsageError("--pose-name needs --index (an index folder written by dnaf index-data)")
    return from_index(args.index, args.pose_name), {"pose": f"{args.index}:{args.pose_name}"}


def _write(out: Path, image, record: dict) -> None:
    from dnaf.io.images import encode_image

    atomic_write_bytes(out, encode_image(image))
    with atomic_write(out.with_suffix(".json")) as handle:
        json.dump(record, handle, indent=2)


def engine(model: Path, dataset: str, config: Config):
    """A DNAF over ``model`` with ``dataset``'s skeleton size and pose extraction, and its
    experiment's sampling settings: -> (DNAF, Guidance, steps)."""
    from dnaf.applications.api import DNAF
    from dnaf.pipeline import Guidance

    sample = config.experiments.get(dataset).sample
    dnaf = DNAF(model, skeleton_size=config.datasets.get(dataset).skeleton_size, sampler=sample.sampler,
                pose_extraction=config.pose_extraction, precision=sample.precision)  # fmt: skip
    return dnaf, Guidance(sample.guidance, sample.pose_scale, sample.appearance_scale), sample.steps


def _engine(args: argparse.Namespace, config: Config):
    dnaf, guidance, steps = engine(args.model, args.dataset, config)
    return dnaf, guidance, args.steps or steps


def transfer(args: argparse.Namespace, config: Config) -> int:
    keypoints, pose_record = _keypoints(args, config)
    source = _read_picture(args.source, "source image")
    dnaf, guidance, steps = _engine(args, config)
    image, record = dnaf.transfer(source, keypoints, args.seed, steps, guidance, args.fit)
    _write(args.out, image, {**record, "source": str(args.source), **pose_record})
    logger.info("%s in the given pose -> %s", args.source, args.out)
    return EXIT_OK


def try_on(args: argparse.Namespace, config: Config) -> int:
    keypoints, pose_record = _keypoints(args, config)
    person = _read_picture(args.person, "person image")
    garment = _read_picture(args.garment, "garment image")
    mask = _read_picture(args.mask, "mask image")
    dnaf, guidance, steps = _engine(args, config)
    image, record = dnaf.try_on(person, garment, mask, keypoints, args.seed, steps, guidance, args.fit)
    _write(args.out, image, {**record, "person": str(args.person), "garment": str(args.garment),
                             "mask": str(args.mask), **pose_record})  # fmt: skip
    logger.info("%s wearing %s inside %s -> %s", args.person, args.garment, args.mask, args.out)
    return EXIT_OK


def applications_figure(args: argparse.Namespace, config: Config) -> int:
    from dnaf.applications.figure import applications_figure as figure
    from dnaf.data.index import DatasetIndex
    from dnaf.io.atomic import atomic_write_bytes
    from dnaf.io.images import encode_image

    dataset = config.datasets.get(args.dataset)
    dnaf, guidance, steps = _engine(args, config)
    picture = figure(dnaf, DatasetIndex.load(args.index), args.root or dataset.root, args.count, steps, guidance)
    atomic_write_bytes(args.out, encode_image(picture))
    logger.info("applications figure (%d rows) in %s", args.count, args.out)
    return EXIT_OK


def _application_options(sub: argparse.ArgumentParser, pose_of: str, pose_required: bool = True) -> None:
    sub.add_argument(
        "--dataset",
        default="deepfashion",
        metavar="NAME",
        help="whose skeleton size, pose frame and sampling settings to use (default: %(default)s)",
    )
    sub.add_argument("--model", type=Path, required=True, help="trained model folder (train's out/model)")
    pose = sub.add_mutually_exclusive_group(required=pose_required)
    pose.add_argument("--pose-image", type=Path, help=f"{pose_of}: a photo of a person, whose pose is extracted")
    pose.add_argument("--pose-json", type=Path, help=f"{pose_of}: OpenPose JSON (people[0].pose_keypoints_2d)")
    pose.add_argument("--pose-row", help=f"{pose_of}: annotation row '[y0..y17]: [x0..x17]' (-1 = missing)")
    pose.add_argument("--pose-name", help=f"{pose_of}: the keypoints of this image of --index")
    sub.add_argument("--pose-frame", type=size,
                     help="HEIGHTxWIDTH the pose pixels refer to (default: the dataset's image size)")  # fmt: skip
    sub.add_argument("--index", type=Path, help="index folder, for --pose-name")
    sub.add_argument(
        "--fit",
        choices=["pad", "resize", "crop"],
        default="pad",
        help="how pictures reach the model's frame (default: %(default)s with white, keeping the aspect)",
    )
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--steps", type=int, help="sampling steps (default: the experiment's sample.steps)")
    sub.add_argument("--out", type=Path, required=True, help="PNG file (+ a .json record beside it)")


def register(verbs: Verbs) -> None:
    sub = verbs.add("transfer", transfer, "show any picture (person or artwork) in a target pose")
    sub.add_argument("--source", type=Path, required=True, help="the appearance: a photo or an artwork")
    _application_options(sub, "target pose")

    sub = verbs.add(
        "try-on", try_on, "appearance transfer: repaint the masked region of a person with a garment's look"
    )
    sub.add_argument("--person", type=Path, required=True)
    sub.add_argument("--garment", type=Path, required=True, help="the appearance reference (any picture)")
    sub.add_argument("--mask", type=Path, required=True, help="same size as --person; white = the region to replace")
    _application_options(sub, "the person's pose (default: extracted from --person)", pose_required=False)

    sub = verbs.add(
        "applications-figure", applications_figure, "demo figure: transfer, try-on and artwork on test pairs"
    )
    sub.add_argument("--dataset", default="demo", metavar="NAME", help="a synthetic dataset (needs its part maps)")
    sub.add_argument("--root", type=Path, help="dataset root (default: the config's)")
    sub.add_argument("--model", type=Path, required=True)
    sub.add_argument("--index", type=Path, required=True)
    sub.add_argument("--count", type=int, default=4, help="rows")
    sub.add_argument("--steps", type=int, help="sampling steps (default: the experiment's sample.steps)")
    sub.add_argument("--out", type=Path, required=True, help="PNG file")
