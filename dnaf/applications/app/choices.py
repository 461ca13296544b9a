"""What the page offers to pick from: test pictures of the dataset the model was trained on (when
its index and files are at hand) and a pose gallery, as (label, keypoints) with their skeletons.

Without a dataset the gallery holds poses of the synthetic demo people, so a model folder alone is
enough to try the page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dnaf.core.errors import DataError
from dnaf.data.index import DatasetIndex
from dnaf.data.parts import PART_LABELS, load_part_map, part_map_file, part_maps
from dnaf.demo.appearance import sample_look
from dnaf.demo.figure import build_figure, figure_keypoints, sample_pose
from dnaf.io.images import load_rgb


@dataclass(frozen=True)
class Choices:
    """``pictures``: (name, file) of test pictures; ``poses``: (label, (18, 2) normalised keypoints);
    ``parts``: the folder of part label maps when the dataset has them (the synthetic ones do)."""

    pictures: tuple[tuple[str, Path], ...]
    poses: tuple[tuple[str, np.ndarray], ...]
    parts: Path | None = None
    origin: str = ""

    def picture(self, position: int) -> np.ndarray:
        return load_rgb(self.pictures[position][1])

    def upper_garment(self, name: str, size: tuple[int, int]) -> np.ndarray:
        """(H, W) bool mask of the upper garment of test picture ``name`` at ``size``."""
        if self.parts is None:
            raise DataError("this dataset has no part label maps: draw the mask or upload one")
        return load_part_map(part_map_file(self.parts, name), size) == PART_LABELS["upper"]


def _spread(names: list[str], count: int) -> list[str]:
    """``count`` names evenly spaced over the sorted list (different people in a test set sorted by
    identity), all of them when there are fewer."""
    names = sorted(names)
    if len(names) <= count:
        return names
    return [names[k] for k in np.linspace(0, len(names) - 1, count).round().astype(int)]


def choices_from_test_set(index_dir: Path, root: Path, count: int = 12) -> Choices:
    """``count`` test pictures of an index folder (``dnaf index-data``) over the dataset at ``root``,
    and their poses."""
    index = DatasetIndex.load(index_dir)
    test = index.images.index[index.images["split"] == "test"].tolist()
    if not test:
        raise DataError(f"{index_dir}: no test images in images.csv")
    names = _spread(test, count)
    pictures = tuple((name, root / index.images.at[name, "path"]) for name in names)
    absent = [str(path) for _, path in pictures if not path.is_file()]
    if absent:
        raise DataError(f"{root}: test pictures of {index_dir} are missing, e.g. {absent[0]} (is --root the dataset?)")
    parts = part_maps(root) if part_maps(root).is_dir() else None
    poses = tuple((name, index.keypoints(name)) for name in names)
    return Choices(pictures, poses, parts, f"test set of {index_dir}")


def synthetic_poses(count: int = 12, seed: int = 0, frame: tuple[int, int] = (256, 176)) -> Choices:
    """``count`` poses of the demo's synthetic people (front, back and side views, arms and legs in
    varied positions), normalised to ``frame``, and no pictures."""
    height, width = frame
    poses = []
    for k in range(count):
        rng = np.random.default_rng([seed, k])
        figure = build_figure(sample_look(rng), sample_pose(rng), frame)
        keypoints = figure_keypoints(figure) / np.array([width, height])
        poses.append((f"pose {k + 1}", keypoints))
    return Choices((), tuple(poses), None, "synthetic poses")
