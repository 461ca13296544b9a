"""``dnaf make-dataset``: photos grouped by person -> a dataset in the DeepFashion CSV layout.

Each photo's keypoints are extracted on the original picture (``<ROOT>-poses/``, OpenPose JSON, a
rerun reuses them), then the picture and its keypoints are fitted to the frame. People are split
into train and test with a seed, pairs stay within a person, and every photo left out is listed
with its reason in ``left-out.csv``. The dataset is written beside ``ROOT`` and renamed into place
when complete, with ``dataset.yaml``: the config layer that names it.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from dnaf.core.errors import DataError, UsageError
from dnaf.core.version import __version__
from dnaf.data.annotation_files import keypoint_file_text, pairs_file_text
from dnaf.data.config import SPLITS, Split
from dnaf.data.deepfashion import csv_layout_files
from dnaf.data.keypoints import present
from dnaf.io.atomic import atomic_folder
from dnaf.io.framing import Fit, fit_image, fit_keypoints
from dnaf.io.images import encode_image, load_rgb
from dnaf.photos.sources import PersonPhoto
from dnaf.pose.config import PoseExtractionConfig
from dnaf.pose.extraction import extract_poses

logger = logging.getLogger(__name__)
JPEG_QUALITY = 95


@dataclass(frozen=True)
class DatasetPlan:
    """How the photos become a dataset."""

    name: str
    """The dataset's name in the config layer written beside it."""
    size: tuple[int, int]
    fit: Fit
    test_fraction: float
    seed: int
    pairs_per_picture: int | None
    """Targets drawn per source picture; None = every ordered pair within a person."""


@dataclass(frozen=True)
class Kept:
    person: PersonPhoto
    picture: np.ndarray
    keypoints: np.ndarray
    framing: dict
    note: str | None


def _fitted(people: list[PersonPhoto], plan: DatasetPlan, poses: PoseExtractionConfig, cache: Path, workers: int):
    """The photos that give a usable person, fitted to the frame, and those left out with why."""
    extractions = extract_poses([p.photo for p in people], poses, cache, workers)
    kept, left_out = [], []
    for person, extraction in zip(people, extractions, strict=True):
        if extraction.person is None:
            left_out.append((person.photo.name, person.identity, extraction.problem))
            continue
        picture, framing = fit_image(load_rgb(person.photo.path), plan.size, plan.fit)
        keypoints = fit_keypoints(extraction.person.keypoints, framing)
        joints = int(present(keypoints).sum())
        if joints < poses.min_joints:
            reason = f"too few joints: {joints} of 18 in the frame (pose_extraction.min_joints: {poses.min_joints})"
            left_out.append((person.photo.name, person.identity, reason))
            continue
        kept.append(Kept(person, picture, keypoints, framing, extraction.note))
    return kept, left_out


def _by_identity(kept: list[Kept], left_out: list) -> dict[str, list[Kept]]:
    groups: dict[str, list[Kept]] = {}
    for item in kept:
        groups.setdefault(item.person.identity, []).append(item)
    for identity in sorted(groups):
        if len(groups[identity]) < 2:
            (single,) = groups.pop(identity)
            left_out.append(
                (single.person.photo.name, identity, "the only usable photo of its person (a pair needs two)")
            )
    return groups


def split_identities(identities: list[str], test_fraction: float, seed: int) -> dict[str, Split]:
    """A seeded split by person: round(test_fraction * n) people (at least one each side) are test."""
    if len(identities) < 2:
        raise DataError(f"{len(identities)} person(s) with two usable photos; train and test need one each at least")
    order = np.random.default_rng(seed).permutation(sorted(identities))
    test = min(max(1, round(test_fraction * len(identities))), len(identities) - 1)
    return {str(identity): ("test" if i < test else "train") for i, identity in enumerate(order)}


def plan_pairs(names: list[str], pairs_per_picture: int | None, rng: np.random.Generator) -> list[tuple[str, str]]:
    """Pairs (source, target) among the pictures of one person: all ordered pairs, or N targets per source."""
    if pairs_per_picture is None or pairs_per_picture >= len(names) - 1:
        return [(s, t) for s in names for t in names if s != t]
    pairs = []
    for source in names:
        others = [t for t in names if t != source]
        pairs += [(source, others[i]) for i in sorted(rng.choice(len(others), pairs_per_picture, replace=False))]
    return pairs


def config_layer(plan: DatasetPlan, root: Path) -> str:
    """The config layer that defines the dataset (and an experiment with the defaults) by name."""
    document = {
        "datasets": {
            plan.name: {
                "format": "deepfashion-csv",
                "root": str(root),
                "image_size": list(plan.size),
                "keypoint_frame": None,
                "image_dirs": {"train": "train", "test": "test"},
                "skeleton_size": list(plan.size),
                "disjoint_identities": True,
                "identity": "prefix",
                "published_counts": None,
                "synthetic": None,
            }
        },  # fmt: skip
        "experiments": {plan.name: {"train": {"resolution": list(plan.size)}}},
    }
    header = (
        f"# Written by `dnaf make-dataset` (dnaf {__version__}). Pass it to any verb with --config, or to\n"
        "# Snakemake with --configfile. The experiment takes the deepfashion experiment's defaults\n"
        "# (SD1.5 and Swin-B from checkpoints/); set experiments.<name> keys here to change them.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=None)


def _table(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["file"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def make_dataset(
    people: list[PersonPhoto],
    out: Path,
    plan: DatasetPlan,
    poses: PoseExtractionConfig,
    workers: int = 0,
    overwrite: bool = False,
    left_out: list[tuple[str, str]] = (),
) -> dict:
    """Write the dataset into ``out``; returns the summary also written to ``out/summary.json``.
    ``left_out``: (file, reason) of photos the listing already rejected."""
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise UsageError(f"{out} exists and is not empty; pass --overwrite to replace it")
    cache = out.with_name(f"{out.name}-poses")
    kept, rejected = _fitted(people, plan, poses, cache, workers)
    rejected += [(file, "", reason) for file, reason in left_out]
    groups = _by_identity(kept, rejected)
    split_of = split_identities(list(groups), plan.test_fraction, plan.seed)
    rng = np.random.default_rng(plan.seed)
    numbered = {identity: f"{i:05d}" for i, identity in enumerate(sorted(groups), start=1)}
    rows: dict[Split, list] = {split: [] for split in SPLITS}
    pairs: dict[Split, list] = {split: [] for split in SPLITS}
    records = []
    with atomic_folder(out) as staging:
        for identity in sorted(groups):
            split = split_of[identity]
            (staging / split).mkdir(exist_ok=True)
            names = []
            for k, item in enumerate(sorted(groups[identity], key=lambda i: i.person.photo.name), start=1):
                name = f"{numbered[identity]}_{k:03d}.jpg"  # the identity rule "prefix" reads the person back
                (staging / split / name).write_bytes(encode_image(item.picture, "JPEG", quality=JPEG_QUALITY))
                rows[split].append((name, item.keypoints * (plan.size[1], plan.size[0])))
                names.append(name)
                records.append({"name": name, "split": split, "identity": identity, "photo": item.person.photo.name,
                                "fit": plan.fit, "input_size": "x".join(map(str, item.framing["input_size"])),
                                "scale": round(item.framing.get("scale", 1.0), 6),
                                "offset": " ".join(map(str, item.framing.get("offset", [0, 0]))),
                                "note": item.note or ""})  # fmt: skip
            pairs[split] += plan_pairs(names, plan.pairs_per_picture, rng)
        for split in SPLITS:
            files = csv_layout_files(split)
            (staging / files["list"]).write_text("".join(f"{name}\n" for name, _ in rows[split]))
            (staging / files["annotation"]).write_text(keypoint_file_text(rows[split]))
            (staging / files["pairs"]).write_text(pairs_file_text(pairs[split]))
        (staging / "photos.csv").write_text(_table(records))
        left = [{"photo": file, "identity": identity, "reason": reason} for file, identity, reason in sorted(rejected)]
        (staging / "left-out.csv").write_text(_table(left) if left else "photo,identity,reason\n")
        (staging / "dataset.yaml").write_text(config_layer(plan, out))
        summary = {
            "name": plan.name, "photos": len(people) + len(left_out), "kept": len(records), "left_out": len(left),
            "people": {split: sum(1 for s in split_of.values() if s == split) for split in SPLITS},
            "images": {split: len(rows[split]) for split in SPLITS},
            "pairs": {split: len(pairs[split]) for split in SPLITS},
            "size": list(plan.size), "fit": plan.fit, "seed": plan.seed, "test_fraction": plan.test_fraction,
            "pairs_per_picture": plan.pairs_per_picture, "pose_extraction": poses.model_dump(mode="json"),
        }  # fmt: skip
        (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
