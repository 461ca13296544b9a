"""The pictures of img_highres.zip placed where the CSV layout reads them: each picture of the
unpacked ``img/`` tree under its flattened name in the folder of the split whose ``.lst`` names
it (CFLD's ``train_highres/`` and ``test_highres/``), unresized. Hard links where the file system
allows (no second copy of 50,000 pictures), copies elsewhere; a rerun skips what is in place."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from tqdm import tqdm

from dnaf.data.annotation_files import read_name_list
from dnaf.data.config import SPLITS, DatasetConfig
from dnaf.data.deepfashion import csv_layout_files, scan_image_tree
from dnaf.data.problems import ProblemLog

logger = logging.getLogger(__name__)


def _place(source: Path, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.part")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:  # another file system, or links not allowed
        shutil.copyfile(source, temporary)
    temporary.replace(target)


def place_highres(config: DatasetConfig, root: Path, log: ProblemLog) -> dict[str, int]:
    """Place every listed picture of ``root/img`` into ``root/image_dirs[split]``; returns how many
    were placed and how many were already there. A listed name with no picture is an error in
    ``log`` (all of them reported)."""
    tree = scan_image_tree(root, log)
    jobs = []
    for split in SPLITS:
        listing = csv_layout_files(split)["list"]
        folder = root / config.image_dirs[split]
        for name, line in read_name_list(root / listing, root, log):
            if name not in tree:
                log.error(listing, f"line {line}", f"{name}: no such picture under img/ (unpack img_highres.zip there)")
                continue
            jobs.append((root / tree[name], folder / name))
    counts = {"placed": 0, "present": 0}
    if log.errors:
        return counts
    for folder in {target.parent for _, target in jobs}:
        folder.mkdir(parents=True, exist_ok=True)
    for source, target in tqdm(jobs, desc="pictures", unit="img", disable=None, mininterval=1.0):
        if target.exists() and target.stat().st_size == source.stat().st_size:
            counts["present"] += 1
            continue
        _place(source, target)
        counts["placed"] += 1
    logger.info("%d pictures placed, %d already in place, under %s", counts["placed"], counts["present"], root)
    return counts
