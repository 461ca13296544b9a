"""``dnaf make-demo-data``: the synthetic dataset, written in a real DeepFashion file layout.

Every picture depends only on (seed, identity, pose index), so the output is byte-for-byte
the same for a seed whatever the number of workers. Train and test identities are disjoint;
pairs join two pictures of one identity.
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from dnaf.core.errors import UsageError
from dnaf.core.version import __version__
from dnaf.data.annotation_files import NTED_BORDER, keypoint_file_text, pairs_file_text
from dnaf.data.config import Split, SyntheticConfig
from dnaf.data.deepfashion import NTED_KEYPOINT_FRAME, csv_layout_files
from dnaf.data.names import flatten_deepfashion_path
from dnaf.data.parts import PART_LABELS, part_map_file, part_maps
from dnaf.demo.appearance import Look, Patterns, sample_identity_look
from dnaf.demo.draw import draw_person
from dnaf.demo.figure import FILE_VIEW, build_figure, figure_keypoints, sample_pose
from dnaf.io.atomic import atomic_folder
from dnaf.io.images import encode_image
from dnaf.io.parallel import parallel_map

logger = logging.getLogger(__name__)
Layout = Literal["csv", "nted"]


@dataclass(frozen=True)
class DemoImage:
    split: Split
    identity: int
    pose: int
    path: str  # the DeepFashion tree path, img/<gender>/<category>/id_<8 digits>/<file>

    @property
    def name(self) -> str:
        return flatten_deepfashion_path(self.path)


def identity_look(seed: int, identity: int, patterns: Patterns = "demo") -> Look:
    """The look of a demo identity: it depends on (seed, identity, patterns) only."""
    return sample_identity_look(np.random.default_rng([seed, identity]), patterns)


def plan_images(config: SyntheticConfig) -> list[DemoImage]:
    images = []
    total = config.train_identities + config.test_identities
    for identity in range(total):
        look = identity_look(config.seed, identity, config.patterns)
        split: Split = "train" if identity < config.train_identities else "test"
        for pose_index in range(config.poses_per_identity):
            view = FILE_VIEW[sample_pose(np.random.default_rng([config.seed, identity, pose_index])).view]
            file = f"01_{pose_index + 1}_{view}.jpg"
            path = f"img/{look.gender}/{look.category}/id_{identity + 1:08d}/{file}"
            images.append(DemoImage(split, identity, pose_index, path))
    return images


def plan_pairs(config: SyntheticConfig, images: list[DemoImage]) -> list[tuple[str, str, Split]]:
    """Train: every ordered pair within an identity; test: a seeded choice of them per identity."""
    by_identity: dict[int, list[DemoImage]] = {}
    for image in images:
        by_identity.setdefault(image.identity, []).append(image)
    pairs = []
    for identity, members in by_identity.items():
        ordered = list(itertools.permutations(members, 2))
        if members[0].split == "test":
            rng = np.random.default_rng([config.seed, identity, 1_000_003])
            chosen = rng.choice(
                len(ordered),
                size=min(config.test_pairs_per_identity, len(ordered)),
                replace=False,
            )
            ordered = [ordered[i] for i in sorted(chosen)]
        pairs.extend((source.name, target.name, source.split) for source, target in ordered)
    return pairs


def render_demo_image(
    job: tuple[int, DemoImage, tuple[int, int], Patterns],
) -> tuple[bytes, bytes, np.ndarray]:
    """-> (JPEG bytes, part-map PNG bytes, (18, 2) pixel (x, y) keypoints with NaN for hidden)."""
    seed, image, size, patterns = job
    look = identity_look(seed, image.identity, patterns)
    rng = np.random.default_rng([seed, image.identity, image.pose])
    pose = sample_pose(rng)
    figure = build_figure(look, pose, size)
    background = tuple(int(v) for v in rng.integers(232, 252, size=3))
    picture, parts = draw_person(look, figure, size, background)
    jpeg = encode_image(picture, "JPEG", quality=95, subsampling=0)
    return jpeg, encode_image(parts), figure_keypoints(figure)


def _nted_pose_text(keypoints: np.ndarray, size: tuple[int, int]) -> str:
    """Pose file in the NTED frame: x scaled to 176 wide plus the 40 px border, y to 256 high."""
    height, width = size
    frame_h, frame_w = NTED_KEYPOINT_FRAME
    lines = []
    for x, y in keypoints:
        if np.isnan(x) or np.isnan(y):
            lines.append("-1 -1")
        else:
            lines.append(f"{int(np.floor(x / width * frame_w)) + NTED_BORDER} {int(np.floor(y / height * frame_h))}")
    return "\n".join(lines) + "\n"


def write_demo_dataset(
    out: Path,
    config: SyntheticConfig,
    size: tuple[int, int],
    layout: Layout,
    workers: int = 0,
    overwrite: bool = False,
) -> None:
    """Write the dataset into ``out`` (built beside it and renamed into place when complete)."""
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise UsageError(f"{out} exists and is not empty; pass --overwrite to replace it")
    images = plan_images(config)
    pairs = plan_pairs(config, images)
    with atomic_folder(out) as staging:
        jobs = [(config.seed, image, tuple(size), config.patterns) for image in images]
        annotations: dict[Split, list[tuple[str, np.ndarray]]] = {"train": [], "test": []}
        rendered = parallel_map(render_demo_image, jobs, workers, "demo images")
        for image, (jpeg, png, keypoints) in zip(images, rendered, strict=True):
            image_path = staging / (image.path if layout == "nted" else f"{image.split}/{image.name}")
            image_path.parent.mkdir(parents=True, exist_ok=True)
            image_path.write_bytes(jpeg)
            part_maps(staging).mkdir(exist_ok=True)
            part_map_file(part_maps(staging), image.name).write_bytes(png)
            if layout == "nted":
                pose_path = (staging / "pose" / Path(image.path).relative_to("img")).with_suffix(".txt")
                pose_path.parent.mkdir(parents=True, exist_ok=True)
                pose_path.write_text(_nted_pose_text(keypoints, size))
            else:
                annotations[image.split].append((image.name, keypoints))
        path_of = {image.name: image.path for image in images}
        for split in ("train", "test"):
            names = [image.name for image in images if image.split == split]
            split_pairs = [(s, t) for s, t, p in pairs if p == split]
            (staging / f"{split}.lst").write_text("\n".join(names) + "\n")
            if layout == "nted":
                lines = [f"{path_of[t]},{path_of[s]}" for s, t in split_pairs]
                (staging / f"{split}_pairs.txt").write_text("\n".join(lines) + "\n")
            else:
                files = csv_layout_files(split)
                (staging / files["annotation"]).write_text(keypoint_file_text(annotations[split]))
                (staging / files["pairs"]).write_text(pairs_file_text(split_pairs))
        provenance = {
            "generator": f"dnaf {__version__}",
            "layout": layout,
            "image_size": list(size),
            "part_labels": PART_LABELS,
            **config.model_dump(),
        }
        (staging / "synthetic.json").write_text(json.dumps(provenance, indent=2) + "\n")
    logger.info(
        "wrote %d images and %d pairs (%s layout) to %s",
        len(images),
        len(pairs),
        layout,
        out,
    )
