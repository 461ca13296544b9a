"""Matching a folder of generated images to the test pairs, and refusing inputs that do not fit.

Result folders name each image after its pair. The presets are the conventions of public code:

- ``dnaf``: ``<source stem>_2_<target stem>.png`` (``dnaf sample``).
- ``pidm`` and ``nted``: ``<source stem>_2_<target stem>_vis.png`` (``get_image_path`` of PIDM's
  and NTED's ``data/fashion_data.py``; GFLA saves the same names).
- ``cfld``: CFLD's test script saves no images and its released folder could not be read
  offline; it is taken to follow the GFLA/DPTN pairs CSV it reads, ``<source>_2_<target>``.

Stems are the index names without extension (the flattened DeepFashion names, the Market file
names); any image extension is accepted. ``naming`` may also be a pattern with ``{source}`` and
``{target}``. ``auto`` picks the preset that names the most test pairs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
from PIL import Image

from dnaf.core.errors import DataError, UsageError

PRESETS = {
    "dnaf": "{source}_2_{target}",
    "pidm": "{source}_2_{target}_vis",
    "nted": "{source}_2_{target}_vis",
    "cfld": "{source}_2_{target}",
}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
ASPECT_TOLERANCE = 0.02
SHOWN = 5


class EvaluationInputError(DataError):
    """Generated images that cannot be scored against the test pairs; lists every problem."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{where}: {len(problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in problems))


def _examples(items) -> str:
    items = sorted(items)
    more = f" (and {len(items) - SHOWN} more)" if len(items) > SHOWN else ""
    return ", ".join(str(i) for i in items[:SHOWN]) + more


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def pair_stems(pairs: pd.DataFrame, pattern: str) -> dict[str, tuple[str, str]]:
    """File stem -> (source, target) for each pair under ``pattern``."""
    return {
        pattern.format(source=Path(s).stem, target=Path(t).stem): (s, t)
        for s, t in zip(pairs["source"], pairs["target"], strict=True)
    }


def match_folder(folder: Path, pairs: pd.DataFrame, naming: str = "auto") -> tuple[pd.DataFrame, str]:
    """(manifest with source, target, file; the pattern used). Files the pattern does not name are
    left out here and reported by :func:`check_generated`."""
    if not folder.is_dir():
        raise EvaluationInputError(str(folder), ["not a directory"])
    files = image_files(folder)
    if naming == "auto":
        patterns = list(dict.fromkeys(PRESETS.values()))
    else:
        pattern = PRESETS.get(naming, naming)
        if "{source}" not in pattern or "{target}" not in pattern:
            raise UsageError(
                f"--naming {naming!r} is neither a preset ({', '.join(PRESETS)}) nor a pattern with "
                "{source} and {target}"
            )
        patterns = [pattern]
    best, best_rows = patterns[0], []
    for pattern in patterns:
        stems = pair_stems(pairs, pattern)
        rows = [(*stems[f.stem], f.name) for f in files if f.stem in stems]
        if len(rows) > len(best_rows):
            best, best_rows = pattern, rows
    if not best_rows and files:
        raise EvaluationInputError(
            str(folder),
            [f"no file is named after a test pair under {' or '.join(repr(p) for p in patterns)}; files look like "
             f"{_examples(f.name for f in files[:SHOWN])}. Give --naming with a pattern using {{source}} and "
             "{target} (the index names without extension)"],
        )  # fmt: skip
    return pd.DataFrame(best_rows, columns=["source", "target", "file"]), best


def check_generated(
    expected: pd.DataFrame, manifest: pd.DataFrame, folder: Path, size: tuple[int, int], distort: bool = False
) -> tuple[tuple[int, int] | None, list[str]]:
    """Raise EvaluationInputError listing every problem: a count that differs from the test pairs,
    missing or extra pairs, missing/unreadable/extra files, images of several sizes or of another
    aspect ratio than ``size`` (unless ``distort``: a protocol that squeezes them as its peer did,
    PIDM's 256x256 outputs to 256x176; then it is a warning). Returns the generated images'
    (height, width) and the warnings."""
    problems, warnings = [], []
    want = set(zip(expected["source"], expected["target"], strict=True))
    have = list(zip(manifest["source"], manifest["target"], strict=True))
    if len(have) != len(want):
        problems.append(f"{len(have)} generated images for {len(want)} test pairs")
    missing = want - set(have)
    if missing:
        problems.append(
            f"{len(missing)} test pair(s) have no generated image: {_examples(f'{s} -> {t}' for s, t in missing)}"
        )
    extra = set(have) - want
    if extra:
        problems.append(
            f"{len(extra)} image(s) are for pairs that are not test pairs: {_examples(f'{s} -> {t}' for s, t in extra)}"
        )
    twice = [pair for pair, n in Counter(have).items() if n > 1]
    if twice:
        problems.append(
            f"{len(twice)} test pair(s) have more than one image: {_examples(f'{s} -> {t}' for s, t in twice)}"
        )
    listed = set(manifest["file"])
    unlisted = [f.name for f in image_files(folder)] if folder.is_dir() else []
    unlisted = [name for name in unlisted if name not in listed]
    if unlisted:
        problems.append(f"{len(unlisted)} image file(s) in the folder belong to no test pair: {_examples(unlisted)}")
    sizes: dict[tuple[int, int], list[str]] = {}
    unreadable = []
    for name in manifest["file"]:
        try:
            with Image.open(folder / name) as image:
                sizes.setdefault((image.height, image.width), []).append(name)
        except (OSError, SyntaxError, ValueError):
            unreadable.append(name)
    if unreadable:
        problems.append(f"{len(unreadable)} image(s) are missing or unreadable: {_examples(unreadable)}")
    if len(sizes) > 1:
        listing = "; ".join(f"{h}x{w}: {len(names)} e.g. {names[0]}" for (h, w), names in sorted(sizes.items()))
        problems.append(f"the generated images have {len(sizes)} different sizes ({listing})")
    elif sizes:
        (height, width), _ = next(iter(sizes.items()))
        aspect, wanted = height / width, size[0] / size[1]
        if abs(aspect - wanted) / wanted > ASPECT_TOLERANCE:
            message = (
                f"the generated images are {height}x{width}, another aspect ratio than the evaluation size "
                f"{size[0]}x{size[1]}: resizing distorts them"
            )
            if distort:
                warnings.append(f"{message} (as the protocol's own script did)")
            else:
                problems.append(f"{message} (crop or pad them to the dataset's frame first)")
    if problems:
        raise EvaluationInputError(str(folder), problems)
    return (next(iter(sizes)) if sizes else None), warnings
