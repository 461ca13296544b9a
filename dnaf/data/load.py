"""Read any supported dataset into the canonical index, collecting every problem."""

from __future__ import annotations

from pathlib import Path

from dnaf.data.checks import (
    check_disjoint_identities,
    check_images,
    check_splits,
    compare_counts,
)
from dnaf.data.config import DatasetConfig
from dnaf.data.deepfashion import csv_layout_files, nted_layout_files, read_deepfashion_csv, read_deepfashion_nted
from dnaf.data.index import DatasetIndex
from dnaf.data.market import market_files, read_market
from dnaf.data.problems import ProblemLog

READERS = {
    "deepfashion-csv": (read_deepfashion_csv, csv_layout_files),
    "deepfashion-nted": (read_deepfashion_nted, nted_layout_files),
    "market": (read_market, market_files),
}
"""Each format's reader and the names of its files per split."""


def inspect_dataset(
    config: DatasetConfig,
    root: Path,
    *,
    workers: int = 0,
    images: bool = True,
    decode: bool = True,
) -> tuple[DatasetIndex, ProblemLog]:
    """Parse and check a dataset; returns the index (sizes filled when ``images``) and the problems.

    ``images=False`` checks the annotation files only (no image is opened).
    """
    log = ProblemLog()
    if not root.is_dir():
        log.error(str(root), "", "dataset root is not a directory")
        return DatasetIndex.empty(), log
    read, files = READERS[config.format]
    index = read(config, root, log)
    check_splits(index, files, log)
    if config.disjoint_identities:
        check_disjoint_identities(index, log)
    if config.published_counts is not None:
        compare_counts(index, config.published_counts, log)
    if images:
        index = check_images(index, root, config, workers, decode, log)
    return index, log
