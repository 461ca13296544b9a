"""Market-1501 reader: ``market-{annotation,pairs}-{train,test}.csv`` and ``train/``, ``test/``."""

from __future__ import annotations

from pathlib import Path

from dnaf.data.assemble import assemble_index, read_csv_annotations
from dnaf.data.config import SPLITS, DatasetConfig, Split
from dnaf.data.index import DatasetIndex
from dnaf.data.names import IDENTITY_RULES
from dnaf.data.problems import ProblemLog


def market_files(split: Split) -> dict[str, str]:
    return {
        "annotation": f"market-annotation-{split}.csv",
        "pairs": f"market-pairs-{split}.csv",
    }


def read_market(config: DatasetConfig, root: Path, log: ProblemLog) -> DatasetIndex:
    """Images are the annotated names (junk ``-1``/distractor ``0000`` images included: they belong
    to the real sets FID uses); each split's images live in ``image_dirs[split]``."""
    keypoint_rows, pair_rows = [], []
    for split in SPLITS:
        files = market_files(split)
        keypoints, pairs = read_csv_annotations(root, split, files["annotation"], files["pairs"], config.frame, log)
        keypoint_rows += keypoints
        pair_rows += pairs
    return assemble_index(
        split_lists=None,
        keypoint_rows=keypoint_rows,
        pair_rows=pair_rows,
        frame=config.frame,
        path_of=lambda name, split: f"{config.image_dirs[split]}/{name}",
        identity_of=IDENTITY_RULES[config.identity_rule],
        log=log,
    )
