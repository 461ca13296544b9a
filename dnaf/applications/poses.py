"""Target poses from where users have them: an OpenPose JSON file, an annotation row of the
GFLA/CFLD files, another image of an indexed dataset, or a photo of a person (extracted on the
fly). All become (18, 2) normalised (x, y) with NaN for missing joints, so they fit any output
size; pictures arrive as arrays, PIL images or file paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from dnaf.core.errors import DataError
from dnaf.data.index import DatasetIndex
from dnaf.data.keypoints import MISSING, NUM_KEYPOINTS, pixel_to_normalised
from dnaf.io.images import load_rgb
from dnaf.pose.config import PoseExtractionConfig
from dnaf.pose.extraction import extract_picture

Picture = np.ndarray | Image.Image | str | Path
"""A picture as the applications take it: (H, W, 3) uint8 RGB, a PIL image, or an image file."""


class PoseError(DataError):
    """A pose input that cannot be used; the message names the file and the problem."""


def from_openpose_json(path: Path, frame: tuple[int, int], person: int = 0) -> np.ndarray:
    """``people[person].pose_keypoints_2d`` (18 x (x, y, confidence), COCO-18 order) of an OpenPose
    JSON file whose coordinates are pixels of a ``frame`` = (height, width) image; joints with
    confidence 0 are missing."""
    try:
        document = json.loads(Path(path).read_text())
    except OSError as error:
        raise PoseError(f"{path}: cannot read the pose file ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise PoseError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    people = document.get("people") if isinstance(document, dict) else None
    if not isinstance(people, list) or len(people) <= person:
        raise PoseError(f"{path}: expected an OpenPose document with 'people'[{person}], found none")
    values = people[person].get("pose_keypoints_2d") if isinstance(people[person], dict) else None
    if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
        raise PoseError(f"{path}: people[{person}].pose_keypoints_2d must be a list of numbers")
    if len(values) != 3 * NUM_KEYPOINTS:
        raise PoseError(
            f"{path}: people[{person}].pose_keypoints_2d has {len(values)} numbers = {len(values) / 3:g} keypoints; "
            f"expected {NUM_KEYPOINTS} (the COCO-18 body model: x, y, confidence per joint)"
        )
    triples = np.asarray(values, dtype=np.float64).reshape(NUM_KEYPOINTS, 3)
    yx = np.stack([triples[:, 1], triples[:, 0]], axis=1)
    yx[triples[:, 2] <= 0] = MISSING
    return pixel_to_normalised(yx, frame)


def from_annotation_row(row: str, frame: tuple[int, int]) -> np.ndarray:
    """``[y0, ..., y17]: [x0, ..., x17]`` (optionally preceded by ``name:``), the row format of
    the GFLA/CFLD/Market annotation files, -1 for a missing joint, pixels of ``frame``."""
    fields = [f.strip() for f in row.strip().split(":")]
    if len(fields) == 3:
        fields = fields[1:]
    if len(fields) != 2:
        raise PoseError(f"pose row {row!r}: expected '[y0, ..., y17]: [x0, ..., x17]'")
    axes = []
    for text, axis in zip(fields, ("y", "x"), strict=True):
        try:
            values = json.loads(text)
        except json.JSONDecodeError:
            raise PoseError(f"pose row: the {axis} list {text!r} is not a list of integers") from None
        if not isinstance(values, list) or len(values) != NUM_KEYPOINTS:
            count = len(values) if isinstance(values, list) else "no"
            raise PoseError(f"pose row: the {axis} list has {count} values; expected {NUM_KEYPOINTS}")
        axes.append(values)
    return pixel_to_normalised(np.stack(axes, axis=1), frame)


def from_index(index_dir: Path, name: str) -> np.ndarray:
    """The keypoints of image ``name`` of an index folder (``dnaf index-data``)."""
    index = DatasetIndex.load(Path(index_dir))
    if name not in index.images.index:
        raise PoseError(f"{index_dir}: no image named {name!r} in images.csv")
    return index.keypoints(name)


def as_picture(picture: Picture, what: str = "picture") -> np.ndarray:
    """(H, W, 3) uint8 RGB of an array, a PIL image or an image file (named in the error)."""
    if isinstance(picture, str | Path):
        try:
            return load_rgb(Path(picture))
        except FileNotFoundError:
            raise DataError(f"{what} {picture}: no such file") from None
        except (UnidentifiedImageError, OSError, SyntaxError) as error:
            raise DataError(f"{what} {picture}: not a readable image ({type(error).__name__})") from None
    if isinstance(picture, Image.Image):
        return np.asarray(picture.convert("RGB"))
    array = np.asarray(picture)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise DataError(f"{what}: expected (H, W, 3) uint8 RGB, got {array.shape} {array.dtype}")
    return array


def from_picture(
    picture: np.ndarray, config: PoseExtractionConfig, what: str = "pose picture"
) -> tuple[np.ndarray, dict]:
    """The keypoints of the (largest) person of a picture, normalised to that picture, and the
    record of how they were found."""
    extraction = extract_picture(picture, what, config)
    if extraction.person is None:
        raise PoseError(f"{what}: no person found ({config.detector}); give the pose as keypoints instead")
    record = {"pose_extracted_by": config.detector, "pose_joints": extraction.person.joints}
    if extraction.note:
        record["pose_note"] = extraction.note
    return extraction.person.keypoints, record
