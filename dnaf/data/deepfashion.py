"""DeepFashion In-shop readers for the two layouts in circulation (docs/data.md)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from dnaf.data.annotation_files import (
    NTED_BORDER,
    NTED_FRAME,
    KeypointRow,
    PairRow,
    read_name_list,
    read_nted_pairs,
    read_nted_pose,
)
from dnaf.data.assemble import Located, assemble_index, read_csv_annotations
from dnaf.data.config import SPLITS, DatasetConfig, Split
from dnaf.data.index import DatasetIndex
from dnaf.data.names import IDENTITY_RULES, flatten_deepfashion_path
from dnaf.data.problems import ProblemLog

NTED_KEYPOINT_FRAME = (NTED_FRAME[0], NTED_FRAME[1] - 2 * NTED_BORDER)


def csv_layout_files(split: Split) -> dict[str, str]:
    """The GFLA/CFLD file names of one split (sic: "fasion")."""
    return {
        "list": f"{split}.lst",
        "annotation": f"fasion-resize-annotation-{split}.csv",
        "pairs": f"fasion-resize-pairs-{split}.csv",
    }


def nted_layout_files(split: Split) -> dict[str, str]:
    """The NTED/PIDM file names of one split."""
    return {"list": f"{split}.lst", "pairs": f"{split}_pairs.txt"}


def read_deepfashion_csv(config: DatasetConfig, root: Path, log: ProblemLog) -> DatasetIndex:
    """GFLA/CFLD layout: ``{train,test}.lst``, ``fasion-resize-{annotation,pairs}-*.csv``, images by
    flattened name in ``image_dirs[split]``."""
    split_lists, keypoint_rows, pair_rows = {}, [], []
    for split in SPLITS:
        files = csv_layout_files(split)
        split_lists[split] = (
            files["list"],
            read_name_list(root / files["list"], root, log),
        )
        keypoints, pairs = read_csv_annotations(root, split, files["annotation"], files["pairs"], config.frame, log)
        keypoint_rows += keypoints
        pair_rows += pairs
    return assemble_index(
        split_lists=split_lists,
        keypoint_rows=keypoint_rows,
        pair_rows=pair_rows,
        frame=config.frame,
        path_of=lambda name, split: f"{config.image_dirs[split]}/{name}",
        identity_of=IDENTITY_RULES[config.identity_rule],
        log=log,
    )


def _under_img(path: str) -> str:
    """Pair files name images as ``img/MEN/...``; accept ``MEN/...`` too."""
    return path if path.startswith("img/") else f"img/{path}"


def scan_image_tree(root: Path, log: ProblemLog) -> dict[str, str]:
    """Flattened name -> path relative to root, for every image under ``img/``."""
    found: dict[str, str] = {}
    image_root = root / "img"
    if not image_root.is_dir():
        log.error(
            "img/",
            "",
            "image folder is missing (unpack img_highres.zip into the dataset root)",
        )
        return found
    for path in sorted(image_root.rglob("*.jpg")):
        relative = path.relative_to(root).as_posix()
        try:
            found[flatten_deepfashion_path(relative)] = relative
        except ValueError as error:
            log.warning(relative, "", f"ignored: {error}")
    return found


def read_deepfashion_nted(config: DatasetConfig, root: Path, log: ProblemLog) -> DatasetIndex:
    """NTED/PIDM layout: ``{train,test}_pairs.txt``, ``{train,test}.lst``, ``img/`` tree and
    ``pose/`` with one ``x y`` text file per image (x in a frame with a 40 px side border)."""
    paths = scan_image_tree(root, log)
    split_lists, pair_rows = {}, []
    for split in SPLITS:
        split_lists[split] = (
            nted_layout_files(split)["list"],
            read_name_list(root / nted_layout_files(split)["list"], root, log),
        )
        pairs_file = nted_layout_files(split)["pairs"]
        for row in read_nted_pairs(root / pairs_file, root, log):
            located = Located(split, pairs_file, f"line {row.line}")
            try:
                flat = [flatten_deepfashion_path(p) for p in (row.source, row.target)]
            except ValueError as error:
                log.error(pairs_file, located.where, str(error))
                continue
            for name, path in zip(flat, (row.source, row.target), strict=True):
                paths.setdefault(name, _under_img(path))  # a pair names the path even when the file is missing
            pair_rows.append((located, PairRow(flat[0], flat[1], row.line)))

    keypoint_rows = []
    for split, (_, names) in split_lists.items():
        for name, line in names:
            if name not in paths:
                continue  # reported by assemble_index as a missing image
            pose_path = (root / "pose" / PurePosixPath(paths[name]).relative_to("img")).with_suffix(".txt")
            if not pose_path.is_file():
                continue  # an image without keypoints; pairs that use it are reported
            yx = read_nted_pose(pose_path, root, log)
            if yx is not None:
                located = Located(split, pose_path.relative_to(root).as_posix(), "")
                keypoint_rows.append((located, KeypointRow(name, yx, line)))
    return assemble_index(
        split_lists=split_lists,
        keypoint_rows=keypoint_rows,
        pair_rows=pair_rows,
        frame=NTED_KEYPOINT_FRAME,
        path_of=lambda name, split: paths.get(name),
        identity_of=IDENTITY_RULES[config.identity_rule],
        log=log,
    )
