"""The on-disk skeleton cache: one PNG per image, rendered in parallel or lazily on first use."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from dnaf.data.index import DatasetIndex
from dnaf.io.atomic import atomic_write_bytes
from dnaf.io.images import decoded_size, encode_image
from dnaf.io.parallel import parallel_map
from dnaf.pose.render import render_skeleton

logger = logging.getLogger(__name__)


def skeleton_path(cache_dir: Path, name: str) -> Path:
    return cache_dir / f"{Path(name).stem}.png"


def _render_to_file(job: tuple[str, np.ndarray, tuple[int, int]]) -> None:
    path, keypoints, size = job
    atomic_write_bytes(Path(path), encode_image(render_skeleton(keypoints, size)))


def _is_valid(path: Path, size: tuple[int, int]) -> bool:
    return decoded_size(path) == tuple(size)  # a damaged or differently sized file is redrawn


def render_poses(index: DatasetIndex, cache_dir: Path, size: tuple[int, int], workers: int = 0) -> int:
    """Render every image's skeleton at ``size`` into ``cache_dir``; returns how many were drawn.

    Files already there with the right size are kept, so an interrupted run resumes.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    keypoints = index.all_keypoints()
    jobs = [
        (str(skeleton_path(cache_dir, name)), keypoints[i], tuple(size))
        for i, name in enumerate(index.images.index)
        if not _is_valid(skeleton_path(cache_dir, name), size)
    ]
    logger.info(
        "rendering %d of %d skeletons at %dx%d into %s",
        len(jobs),
        len(index.images),
        *size,
        cache_dir,
    )
    for _ in parallel_map(_render_to_file, jobs, workers, "skeletons"):
        pass
    return len(jobs)


class SkeletonCache:
    """Skeleton images by name; renders and stores a missing one on first use (lazy mode)."""

    def __init__(self, index: DatasetIndex, cache_dir: Path, size: tuple[int, int]) -> None:
        self.index = index
        self.cache_dir = cache_dir
        self.size = tuple(size)

    def __getitem__(self, name: str) -> np.ndarray:
        """(H, W, 3) uint8 RGB skeleton of image ``name``."""
        path = skeleton_path(self.cache_dir, name)
        if _is_valid(path, self.size):
            with Image.open(path) as image:
                return np.asarray(image.convert("RGB"))
        skeleton = render_skeleton(self.index.keypoints(name), self.size)
        atomic_write_bytes(path, encode_image(skeleton))
        return skeleton
