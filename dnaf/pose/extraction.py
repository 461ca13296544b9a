"""Keypoints of a set of photos: found, detected in parallel, written as OpenPose JSON files and
annotation rows, with every photo that gave no usable person reported by name.

A photo's JSON file is written as soon as it is done; a rerun with the same settings reads those
back instead of detecting again, so an interrupted extraction resumes.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import UnidentifiedImageError

from dnaf.core.errors import DataError, UsageError
from dnaf.data.annotation_files import keypoint_file_text
from dnaf.data.keypoints import NUM_KEYPOINTS
from dnaf.io.atomic import atomic_write_bytes
from dnaf.io.images import load_rgb
from dnaf.io.parallel import parallel_map
from dnaf.pose.config import PoseExtractionConfig
from dnaf.pose.detectors import Detector, Person, make_detector

logger = logging.getLogger(__name__)
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
OPENPOSE_VERSION = 1.3
"""The ``version`` OpenPose writes in its JSON files (body-only output of 1.3 and later)."""


@dataclass(frozen=True)
class Photo:
    path: Path
    name: str
    """Relative to the folder it was found in (posix), or the file name of a photo given alone."""


@dataclass(frozen=True)
class Extraction:
    name: str
    size: tuple[int, int] | None
    """(height, width) of the photo; None when it cannot be read."""
    people: list[Person] = field(default_factory=list)
    """Largest first: the one kept is ``people[0]``."""
    problem: str | None = None
    """Why the photo gives no person (unreadable, no person found)."""

    @property
    def person(self) -> Person | None:
        return self.people[0] if self.people else None

    @property
    def note(self) -> str | None:
        """What a user should know of a photo: its problem, or the people that were not kept."""
        if self.problem:
            return self.problem
        if len(self.people) > 1:
            return f"{len(self.people)} people found; kept the largest ({self.person.joints} joints)"
        return None


def find_photos(inputs: list[Path]) -> list[Photo]:
    """Photo files given directly, and those under given folders (recursively, sorted)."""
    photos, missing = [], [str(path) for path in inputs if not path.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    for path in inputs:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
            photos += [Photo(p, p.relative_to(path).as_posix()) for p in found]
        else:
            photos.append(Photo(path, path.name))
    if not photos:
        raise DataError(f"no photos ({', '.join(sorted(PHOTO_SUFFIXES))}) in {', '.join(map(str, inputs))}")
    seen: dict[str, str] = {}
    clashes = []
    for photo in photos:
        key = json_name(photo.name)
        if key in seen:
            clashes.append(f"{seen[key]} and {photo.path}")
        seen[key] = str(photo.path)
    if clashes:
        raise UsageError("photos whose keypoint files would share a name: " + "; ".join(clashes))
    return photos


def json_name(name: str) -> str:
    """OpenPose's file name for a photo's keypoints: ``<stem>_keypoints.json`` in the same subfolder."""
    path = Path(name)
    return (path.parent / f"{path.stem}_keypoints.json").as_posix()


def settings_record(config: PoseExtractionConfig) -> dict:
    """What decides the keypoints: a file written with other settings is detected again."""
    if config.detector == "openpose":
        return {"detector": config.detector, "weights": str(config.weights)}
    return {"detector": config.detector, "min_visibility": config.min_visibility}


def openpose_document(extraction: Extraction, settings: dict) -> dict:
    """OpenPose's JSON: ``people[].pose_keypoints_2d`` = 18 x (x, y, confidence) in pixels of the
    photo, (0, 0, 0) for a missing joint, largest person first; ``dnaf`` adds where it came from."""
    height, width = extraction.size
    people = []
    for person in extraction.people:
        values = []
        for (x, y), confidence in zip(person.keypoints, person.confidence, strict=True):
            values += [0.0, 0.0, 0.0] if np.isnan(x) else [float(x * width), float(y * height), float(confidence)]
        people.append({"person_id": [-1], "pose_keypoints_2d": values})
    return {
        "version": OPENPOSE_VERSION,
        "people": people,
        "dnaf": {"photo": extraction.name, "size": [height, width], "note": extraction.note, **settings},
    }


def read_document(document: dict, name: str) -> Extraction:
    """The inverse of :func:`openpose_document`."""
    height, width = document["dnaf"]["size"]
    people = []
    for entry in document["people"]:
        triples = np.asarray(entry["pose_keypoints_2d"], dtype=np.float64).reshape(NUM_KEYPOINTS, 3)
        xy = triples[:, :2] / (width, height)
        xy[triples[:, 2] <= 0] = np.nan
        people.append(Person(xy, triples[:, 2].copy()))
    problem = None if people else document["dnaf"]["note"]
    return Extraction(name, (height, width), people, problem)


_DETECTORS: dict[tuple[int, str], Detector] = {}
"""One detector per process (building one loads its model); keyed by process id too, so that a
forked worker builds its own rather than sharing its parent's native state."""


def _detector(config: PoseExtractionConfig) -> Detector:
    key = (os.getpid(), config.model_dump_json())
    if key not in _DETECTORS:
        _DETECTORS[key] = make_detector(config)
    return _DETECTORS[key]


def extract_picture(picture: np.ndarray, name: str, config: PoseExtractionConfig) -> Extraction:
    """The people of one (H, W, 3) uint8 RGB picture, largest first."""
    people = sorted(_detector(config).detect(picture), key=lambda p: -p.area())
    people = [p for p in people if p.joints > 0]
    return Extraction(name, picture.shape[:2], people, None if people else "no person found")


def _extract_job(job: tuple[Photo, PoseExtractionConfig, Path | None]) -> Extraction:
    photo, config, out = job
    try:
        picture = load_rgb(photo.path)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        return Extraction(photo.name, None, [], f"unreadable ({type(error).__name__}: {error})")
    extraction = extract_picture(picture, photo.name, config)
    if out is not None:
        document = openpose_document(extraction, settings_record(config))
        atomic_write_bytes(out / json_name(photo.name), (json.dumps(document) + "\n").encode())
    return extraction


def _done(out: Path | None, photo: Photo, settings: dict) -> Extraction | None:
    """The extraction a previous run wrote for ``photo`` with the same settings, if any."""
    if out is None:
        return None
    path = out / json_name(photo.name)
    try:
        document = json.loads(path.read_text())
        recorded = {key: document["dnaf"].get(key) for key in settings}
        return read_document(document, photo.name) if recorded == settings else None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, or damaged by a crash: detect again


def extract_poses(
    photos: list[Photo], config: PoseExtractionConfig, out: Path | None = None, workers: int = 0
) -> list[Extraction]:
    """Detect the people of every photo (in parallel, with a progress bar), in the order given.
    With ``out``, each photo's OpenPose JSON is written there at once and reused by a rerun."""
    _detector(config)  # fail once, here, when the detector cannot run (not in every worker)
    settings = settings_record(config)
    results: list[Extraction | None] = [_done(out, photo, settings) for photo in photos]
    todo = [i for i, result in enumerate(results) if result is None]
    if len(todo) < len(photos):
        logger.info("%d of %d photos already done in %s", len(photos) - len(todo), len(photos), out)
    jobs = [(photos[i], config, out) for i in todo]
    for i, extraction in zip(todo, parallel_map(_extract_job, jobs, workers, "poses"), strict=True):
        results[i] = extraction
    return results


def annotation_text(extractions: list[Extraction]) -> str:
    """The GFLA/CFLD ``name:keypoints_y:keypoints_x`` rows of the photos with a person, in pixels of
    each photo."""
    rows = []
    for extraction in extractions:
        if extraction.person is not None:
            height, width = extraction.size
            rows.append((extraction.name, extraction.person.keypoints * (width, height)))
    return keypoint_file_text(rows)
