"""Dataset-level checks: image files, split sizes, identity overlap, published counts."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from PIL import Image

from dnaf.data.config import SPLITS, DatasetConfig, PublishedCounts, Split
from dnaf.data.index import DatasetIndex
from dnaf.data.names import MARKET_JUNK_IDENTITIES
from dnaf.data.problems import ProblemLog
from dnaf.io.parallel import parallel_map

logger = logging.getLogger(__name__)


def read_image_size(job: tuple[str, bool]) -> tuple[int, int] | str:
    """(path, decode) -> (height, width), or why the file cannot be used."""
    path, decode = job
    try:
        with Image.open(path) as image:
            if decode:
                image.load()  # raises on truncated or corrupt data
            return image.height, image.width
    except FileNotFoundError:
        return "image file is missing"
    except (
        OSError,
        SyntaxError,
        ValueError,
    ) as error:  # PIL raises all three for bad files
        return f"image does not decode: {error}"


def check_images(
    index: DatasetIndex,
    root: Path,
    config: DatasetConfig,
    workers: int,
    decode: bool,
    log: ProblemLog,
) -> DatasetIndex:
    """Every image exists, decodes (when ``decode``) and has ``config.image_size``.

    Returns the index with height and width filled in from the files.
    """
    images = index.images.copy()
    uses = _pair_uses(index)
    jobs = [(str(root / path), decode) for path in images["path"]]
    expected = tuple(config.image_size)
    heights, widths = [], []
    results = parallel_map(read_image_size, jobs, workers, "images")
    for name, path, result in zip(images.index, images["path"], results, strict=True):
        if isinstance(result, str):
            used = f" (used by {uses[name]} pair(s))" if uses.get(name) else ""
            log.error(path, name, result + used)
            heights.append(None)
            widths.append(None)
            continue
        if result != expected:
            found, wanted = f"{result[0]}x{result[1]}", f"{expected[0]}x{expected[1]}"
            log.error(path, name, f"image is {found} (HxW), expected {wanted} (image_size in the config)")
        heights.append(result[0])
        widths.append(result[1])
    images["height"] = heights
    images["width"] = widths
    images[["height", "width"]] = images[["height", "width"]].astype("Int64")
    return DatasetIndex(images, index.pairs)


def _pair_uses(index: DatasetIndex) -> dict[str, int]:
    counts = index.pairs["source"].value_counts().add(index.pairs["target"].value_counts(), fill_value=0)
    return counts.astype(int).to_dict()


def check_splits(index: DatasetIndex, files: Callable[[Split], dict[str, str]], log: ProblemLog) -> None:
    """Each split has images and pairs; an empty one is reported against the file that lists them
    (``files(split)``: the layout's file names, with "list" or "annotation" and "pairs")."""
    for split in SPLITS:
        named, why = files(split), "(no rows, or every row rejected above)"
        if not (index.images["split"] == split).any():
            listing = named.get("list", named.get("annotation"))
            log.error(listing, "", f"the {split} split has no usable image {why}")
        if not (index.pairs["split"] == split).any():
            log.error(named["pairs"], "", f"the {split} split has no usable pair {why}")


def check_disjoint_identities(index: DatasetIndex, log: ProblemLog) -> None:
    """Train and test must not share a person (junk/distractor ids of Market-1501 excepted)."""
    by_split = {split: set(index.images.loc[index.images["split"] == split, "identity"]) for split in SPLITS}
    shared = sorted((by_split["train"] & by_split["test"]) - MARKET_JUNK_IDENTITIES)
    for identity in shared:
        names = index.images.index[index.images["identity"] == identity]
        log.error(
            "train/test split",
            f"identity {identity}",
            f"appears in both splits ({len(names)} images, e.g. {', '.join(_first(names, 3))})",
        )


def _first(items: Iterable[str], n: int) -> list[str]:
    return list(itertools.islice(items, n))


def compare_counts(index: DatasetIndex, published: PublishedCounts, log: ProblemLog) -> None:
    """Counts that differ from the published split are a warning, not an error."""
    for split in SPLITS:
        actual = {
            "images": int((index.images["split"] == split).sum()),
            "pairs": int((index.pairs["split"] == split).sum()),
        }
        for kind, count in actual.items():
            expected = getattr(published, f"{split}_{kind}")
            if count != expected:
                log.warning(
                    f"{split} split",
                    "",
                    f"{count} {kind}, the published split has {expected}",
                )
