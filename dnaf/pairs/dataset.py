"""Training pairs: source and target images and their skeletons at the generation size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dnaf.data.index import DatasetIndex
from dnaf.data.keypoints import mirror_keypoints
from dnaf.io.images import load_rgb
from dnaf.io.tensors import to_tensor
from dnaf.pose.cache import SkeletonCache
from dnaf.pose.render import render_skeleton, skeleton_at


def ordered_pairs(index: DatasetIndex, split: str, both_directions: bool) -> list[tuple[str, str]]:
    """The split's (source, target) pairs, each once, optionally also reversed."""
    pairs = index.pairs.loc[index.pairs["split"] == split, ["source", "target"]].itertuples(index=False)
    ordered = [tuple(p) for p in pairs]
    if both_directions:
        ordered += [(target, source) for source, target in ordered]
    return list(dict.fromkeys(ordered))


class PairDataset(torch.utils.data.Dataset):
    """Item i -> {source, target: (3, H, W) in [-1, 1]; skeleton, source_skeleton: (3, H, W) in
    [0, 1] of the target's and the source's pose; source_name, target_name}. A mirrored pair
    (probability ``hflip``, drawn from (seed, epoch, i) so it does not depend on worker
    processes) flips both images and draws the skeletons of the mirrored keypoints."""

    def __init__(
        self,
        index: DatasetIndex,
        root: Path,
        skeletons: SkeletonCache,
        pairs: list[tuple[str, str]],
        resolution: tuple[int, int],
        hflip: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.index, self.root, self.skeletons = index, Path(root), skeletons
        self.pairs, self.resolution, self.hflip, self.seed = pairs, tuple(resolution), hflip, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.pairs)

    def _image(self, name: str) -> np.ndarray:
        return load_rgb(self.root / self.index.images.at[name, "path"], self.resolution)

    def _skeleton(self, name: str, mirrored: bool) -> np.ndarray:
        if mirrored:
            skeleton = render_skeleton(mirror_keypoints(self.index.keypoints(name)), self.skeletons.size)
        else:
            skeleton = self.skeletons[name]
        return skeleton_at(skeleton, self.resolution)

    def __getitem__(self, i: int) -> dict:
        source, target = self.pairs[i]
        mirrored = self.hflip > 0 and np.random.default_rng([self.seed, self.epoch, i]).uniform() < self.hflip
        source_image, target_image = self._image(source), self._image(target)
        if mirrored:
            source_image, target_image = source_image[:, ::-1], target_image[:, ::-1]
        return {
            "source": to_tensor(source_image, signed=True),
            "target": to_tensor(target_image, signed=True),
            "skeleton": to_tensor(self._skeleton(target, mirrored), signed=False),
            "source_skeleton": to_tensor(self._skeleton(source, mirrored), signed=False),
            "source_name": source,
            "target_name": target,
        }
