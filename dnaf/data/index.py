"""The canonical dataset index every later stage reads: an images table and a pairs table.

images.csv: name, split, identity, path (relative to the dataset root, posix), height, width,
x0..x17, y0..y17 (keypoints normalised to [0, 1] by the annotation frame; NaN = missing joint).
pairs.csv: source, target, split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dnaf.core.errors import DataError
from dnaf.data.keypoints import NUM_KEYPOINTS
from dnaf.io.atomic import atomic_write

X_COLUMNS = [f"x{k}" for k in range(NUM_KEYPOINTS)]
Y_COLUMNS = [f"y{k}" for k in range(NUM_KEYPOINTS)]
IMAGE_COLUMNS = [
    "name",
    "split",
    "identity",
    "path",
    "height",
    "width",
    *X_COLUMNS,
    *Y_COLUMNS,
]
PAIR_COLUMNS = ["source", "target", "split"]


@dataclass(frozen=True)
class DatasetIndex:
    """``images`` indexed by name (columns as IMAGE_COLUMNS less name); ``pairs`` as PAIR_COLUMNS."""

    images: pd.DataFrame
    pairs: pd.DataFrame

    @classmethod
    def empty(cls) -> DatasetIndex:
        return cls(make_images_table([]), pd.DataFrame(columns=PAIR_COLUMNS))

    def keypoints(self, name: str) -> np.ndarray:
        """(18, 2) normalised (x, y) of one image, NaN for missing joints."""
        row = self.images.loc[name]
        return np.stack([row[X_COLUMNS].to_numpy(float), row[Y_COLUMNS].to_numpy(float)], axis=1)

    def all_keypoints(self) -> np.ndarray:
        """(N, 18, 2) normalised (x, y) in the order of ``images``."""
        return np.stack(
            [
                self.images[X_COLUMNS].to_numpy(float),
                self.images[Y_COLUMNS].to_numpy(float),
            ],
            axis=2,
        )

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_write(directory / "images.csv") as handle:
            self.images.reset_index().loc[:, IMAGE_COLUMNS].to_csv(handle, index=False, float_format="%.6f")
        with atomic_write(directory / "pairs.csv") as handle:
            self.pairs.loc[:, PAIR_COLUMNS].to_csv(handle, index=False)

    @classmethod
    def load(cls, directory: Path) -> DatasetIndex:
        absent = [directory / file for file in ("images.csv", "pairs.csv") if not (directory / file).is_file()]
        if absent:
            raise DataError(f"{', '.join(map(str, absent))}: no such file (`dnaf index-data` writes an index folder)")
        images = pd.read_csv(
            directory / "images.csv",
            dtype={"name": str, "split": str, "identity": str, "path": str},
            keep_default_na=False,
            na_values={c: ["", "NaN", "nan"] for c in X_COLUMNS + Y_COLUMNS},
        )
        missing = set(IMAGE_COLUMNS) - set(images.columns)
        if missing:
            raise DataError(f"{directory / 'images.csv'}: missing columns {sorted(missing)}")
        pairs = pd.read_csv(directory / "pairs.csv", dtype=str, keep_default_na=False)
        missing = set(PAIR_COLUMNS) - set(pairs.columns)
        if missing:
            raise DataError(f"{directory / 'pairs.csv'}: missing columns {sorted(missing)}")
        return cls(images.set_index("name"), pairs)


def make_images_table(records: list[dict]) -> pd.DataFrame:
    """Records with name, split, identity, path, keypoints ((18, 2) normalised x, y) -> images table.

    height and width are left as <NA> until the image headers are read (:func:`with_image_sizes`).
    """
    if not records:
        return pd.DataFrame(columns=IMAGE_COLUMNS).set_index("name")
    keypoints = np.stack([r["keypoints"] for r in records])  # (N, 18, 2)
    table = pd.DataFrame(
        {
            "name": [r["name"] for r in records],
            "split": [r["split"] for r in records],
            "identity": [r["identity"] for r in records],
            "path": [r["path"] for r in records],
            "height": pd.array([pd.NA] * len(records), dtype="Int64"),
            "width": pd.array([pd.NA] * len(records), dtype="Int64"),
        }
    )
    table[X_COLUMNS] = keypoints[:, :, 0]
    table[Y_COLUMNS] = keypoints[:, :, 1]
    return table.set_index("name")
