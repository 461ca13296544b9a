"""Cross-file consistency of split lists, keypoint rows and pairs, shared by every layout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dnaf.data.annotation_files import KeypointRow, PairRow, read_keypoint_csv, read_pairs_csv
from dnaf.data.config import Split
from dnaf.data.index import PAIR_COLUMNS, DatasetIndex, make_images_table
from dnaf.data.keypoints import NUM_KEYPOINTS, pixel_to_normalised
from dnaf.data.problems import ProblemLog


@dataclass(frozen=True)
class Located:
    """Something read from a file, with the file and the place in it."""

    split: Split
    file: str
    where: str


def read_csv_annotations(
    root: Path, split: Split, annotation: str, pairs: str, frame: tuple[int, int], log: ProblemLog
) -> tuple[list[tuple[Located, KeypointRow]], list[tuple[Located, PairRow]]]:
    """One split's keypoint CSV and pairs CSV (the GFLA/CFLD and Market-1501 layouts share the
    format), each row with where it came from, for error messages."""
    keypoint_rows = [
        (Located(split, annotation, f"line {row.line} ({row.name})"), row)
        for row in read_keypoint_csv(root / annotation, root, frame, log)
    ]
    pair_rows = [(Located(split, pairs, f"line {row.line}"), row) for row in read_pairs_csv(root / pairs, root, log)]
    return keypoint_rows, pair_rows


def _merge_annotations(
    rows: list[tuple[Located, KeypointRow]], log: ProblemLog
) -> dict[str, tuple[Located, np.ndarray]]:
    annotations: dict[str, tuple[Located, np.ndarray]] = {}
    for located, row in rows:
        if row.name in annotations:
            first, yx = annotations[row.name]
            if np.array_equal(yx, row.yx):
                log.warning(
                    located.file,
                    located.where,
                    f"duplicate annotation of {row.name} (same keypoints as {first.file} {first.where}); kept once",
                )
            else:
                log.error(
                    located.file,
                    located.where,
                    f"conflicting keypoints for {row.name}: differs from {first.file} {first.where}",
                )
            continue
        annotations[row.name] = (located, row.yx)
    return annotations


def _merge_split_lists(lists: dict[Split, tuple[str, list[tuple[str, int]]]], log: ProblemLog) -> dict[str, Located]:
    listed: dict[str, Located] = {}
    for split, (file, names) in lists.items():
        for name, line in names:
            here = Located(split, file, f"line {line}")
            if name in listed:
                first = listed[name]
                if first.split == split:
                    log.warning(
                        file,
                        here.where,
                        f"{name} is listed twice (also {first.where}); kept once",
                    )
                else:
                    log.error(file, here.where, f"{name} is in both {first.file} and {file}")
                continue
            listed[name] = here
    return listed


def assemble_index(
    *,
    split_lists: dict[Split, tuple[str, list[tuple[str, int]]]] | None,
    keypoint_rows: list[tuple[Located, KeypointRow]],
    pair_rows: list[tuple[Located, PairRow]],
    frame: tuple[int, int],
    path_of: Callable[[str, Split], str | None],
    identity_of: Callable[[str], str],
    log: ProblemLog,
) -> DatasetIndex:
    """Images = the split lists' names (or the annotated names when there are no lists).

    ``path_of(name, split)`` gives the image path relative to the root, None when no file can be
    named for it (reported as a missing image).
    """
    annotations = _merge_annotations(keypoint_rows, log)
    if split_lists is not None:
        members = _merge_split_lists(split_lists, log)
        for name, (located, _) in annotations.items():
            if name not in members:
                log.warning(
                    located.file,
                    located.where,
                    f"{name} is annotated but in no split list; kept in '{located.split}'",
                )
                members[name] = located
    else:
        members = {name: located for name, (located, _) in annotations.items()}

    records = []
    unannotated: list[tuple[Located, str]] = []
    for name, located in members.items():
        try:
            identity = identity_of(name)
        except ValueError as error:
            log.error(located.file, located.where, str(error))
            continue
        path = path_of(name, located.split)
        if path is None:
            log.error(located.file, located.where, f"no image file found for {name}")
            continue
        if name in annotations:
            keypoints = pixel_to_normalised(annotations[name][1], frame)
        else:
            keypoints = np.full((NUM_KEYPOINTS, 2), np.nan)
            unannotated.append((located, name))
        records.append(
            {
                "name": name,
                "split": located.split,
                "identity": identity,
                "path": path,
                "keypoints": keypoints,
            }
        )
    if unannotated:
        located, first = unannotated[0]
        log.warning(
            located.file,
            located.where,
            f"{len(unannotated)} listed image(s) have no keypoint annotation (first: {first}); "
            "kept with missing keypoints",
        )
    images = make_images_table(records)

    pairs = []
    for located, row in pair_rows:
        ok = True
        for role, name in (("source", row.source), ("target", row.target)):
            if name not in annotations:
                log.error(
                    located.file,
                    located.where,
                    f"{role} {name} has no keypoint annotation",
                )
                ok = False
            elif name in images.index and images.at[name, "split"] != located.split:
                log.error(
                    located.file,
                    located.where,
                    f"{role} {name} belongs to the '{images.at[name, 'split']}' split, not '{located.split}'",
                )
                ok = False
        if ok:
            pairs.append((row.source, row.target, located.split))
    return DatasetIndex(images, pd.DataFrame(pairs, columns=PAIR_COLUMNS))
