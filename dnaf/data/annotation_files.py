"""Parsers of the split, pair and keypoint files of the field, reporting every bad row.

Each parser returns what it could read and records problems (file, line, what is wrong) in a
:class:`~dnaf.data.problems.ProblemLog` instead of stopping at the first one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

from dnaf.data.keypoints import KEYPOINT_NAMES, MISSING, NUM_KEYPOINTS
from dnaf.data.problems import ProblemLog

KEYPOINT_HEADER = "name:keypoints_y:keypoints_x"
"""First line of the GFLA/CFLD/Market keypoint files."""
PAIRS_HEADER = "from,to"
"""First line of their pair files (from = source, to = target)."""
NTED_FRAME = (256, 256)
"""NTED/PIDM pose files: (height, width) of the padded frame their ``x y`` rows refer to."""
NTED_BORDER = 40
"""Width of the side border of that frame: x - 40 gives the 176-wide frame."""


@dataclass(frozen=True)
class KeypointRow:
    name: str
    yx: np.ndarray  # (18, 2) integer pixel (y, x), MISSING for a joint not detected
    line: int


@dataclass(frozen=True)
class PairRow:
    source: str
    target: str
    line: int


def unsafe_path_reason(name: str) -> str | None:
    """Why ``name`` would escape the dataset root (absolute, ``..``), or None when it is safe."""
    if not name:
        return "empty name"
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() or name.startswith("\\"):
        return f"absolute path {name!r} would escape the dataset root"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return f"name {name!r} contains '..' and would escape the dataset root"
    return None


def _read_lines(path: Path, root: Path, log: ProblemLog) -> list[str] | None:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        log.error(_rel(path, root), "", "file is missing")
    except (OSError, UnicodeDecodeError) as error:
        log.error(_rel(path, root), "", f"cannot read file: {error}")
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def read_name_list(path: Path, root: Path, log: ProblemLog) -> list[tuple[str, int]]:
    """A ``.lst`` file: one image name per line -> [(name, line)]; blank lines are skipped."""
    lines = _read_lines(path, root, log)
    if lines is None:
        return []
    rows = []
    for number, text in enumerate(lines, start=1):
        name = text.strip()
        if not name:
            continue
        reason = unsafe_path_reason(name)
        if reason:
            log.error(_rel(path, root), f"line {number}", reason)
            continue
        rows.append((name, number))
    return rows


def _parse_int_list(text: str, axis: str) -> tuple[list[int] | None, str | None]:
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None, f"{axis} is not a bracketed list: {text[:40]!r}"
    items = [item.strip() for item in text[1:-1].split(",")] if text[1:-1].strip() else []
    values = []
    for item in items:
        try:
            values.append(int(item))
        except ValueError:
            try:
                float(item)
            except ValueError:
                return None, f"{axis} has a non-numeric value {item!r}"
            return None, f"{axis} has a non-integer value {item!r}"
    if len(values) != NUM_KEYPOINTS:
        return None, f"{axis} has {len(values)} values, expected {NUM_KEYPOINTS}"
    return values, None


def frame_problems(yx: np.ndarray, frame: tuple[int, int]) -> list[str]:
    """Joints outside ``frame`` (other than MISSING) or with only one coordinate missing."""
    height, width = frame
    problems = []
    for k, (y, x) in enumerate(yx):
        if (y == MISSING) != (x == MISSING):
            problems.append(f"joint {k} ({KEYPOINT_NAMES[k]}) has only one coordinate missing: y={y}, x={x}")
        elif y != MISSING and not (0 <= y < height and 0 <= x < width):
            problems.append(f"joint {k} ({KEYPOINT_NAMES[k]}) at y={y}, x={x} is outside the {height}x{width} frame")
    return problems


def read_keypoint_csv(path: Path, root: Path, frame: tuple[int, int], log: ProblemLog) -> list[KeypointRow]:
    """``name:keypoints_y:keypoints_x`` files (GFLA/CFLD DeepFashion, Market-1501)."""
    lines = _read_lines(path, root, log)
    if lines is None:
        return []
    file = _rel(path, root)
    if not lines or lines[0].replace(" ", "") != KEYPOINT_HEADER:
        log.error(file, "line 1", f"expected the header '{KEYPOINT_HEADER}', got {lines[:1]}")
        return []
    rows = []
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        fields = text.split(":")
        if len(fields) != 3:
            log.error(
                file,
                f"line {number}",
                f"expected 3 ':'-separated fields, got {len(fields)}",
            )
            continue
        name = fields[0].strip()
        where = f"line {number} ({name})"
        reason = unsafe_path_reason(name)
        if reason:
            log.error(file, where, reason)
            continue
        ys, y_error = _parse_int_list(fields[1], "keypoints_y")
        xs, x_error = _parse_int_list(fields[2], "keypoints_x")
        if y_error or x_error:
            for message in (y_error, x_error):
                if message:
                    log.error(file, where, message)
            continue
        yx = np.array([ys, xs], dtype=np.int64).T
        bad = frame_problems(yx, frame)
        for message in bad:
            log.error(file, where, message)
        if not bad:
            rows.append(KeypointRow(name, yx, number))
    return rows


def read_pairs_csv(path: Path, root: Path, log: ProblemLog) -> list[PairRow]:
    """``from,to`` pair files (GFLA/CFLD DeepFashion, Market-1501): from = source, to = target."""
    lines = _read_lines(path, root, log)
    if lines is None:
        return []
    file = _rel(path, root)
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or [h.strip() for h in header[:2]] != ["from", "to"]:
        log.error(file, "line 1", f"expected the header 'from,to', got {header}")
        return []
    rows = []
    for number, fields in enumerate(reader, start=2):
        if not fields or not "".join(fields).strip():
            continue
        if len(fields) < 2:
            log.error(file, f"line {number}", f"expected 'from,to', got {fields}")
            continue
        source, target = fields[0].strip(), fields[1].strip()
        reasons = [r for r in (unsafe_path_reason(source), unsafe_path_reason(target)) if r]
        for reason in reasons:
            log.error(file, f"line {number}", reason)
        if not reasons:
            rows.append(PairRow(source, target, number))
    return rows


def read_nted_pairs(path: Path, root: Path, log: ProblemLog) -> list[PairRow]:
    """NTED/PIDM ``*_pairs.txt``: ``target,source[,source...]`` image paths per line."""
    lines = _read_lines(path, root, log)
    if lines is None:
        return []
    file = _rel(path, root)
    rows = []
    for number, text in enumerate(lines, start=1):
        fields = [f.strip() for f in text.split(",") if f.strip()]
        if not fields:
            continue
        if len(fields) < 2:
            log.error(
                file,
                f"line {number}",
                f"expected 'target,source[,source...]', got {text.strip()!r}",
            )
            continue
        reasons = [r for r in map(unsafe_path_reason, fields) if r]
        for reason in reasons:
            log.error(file, f"line {number}", reason)
        if not reasons:
            target, *sources = fields
            rows.extend(PairRow(source, target, number) for source in sources)
    return rows


def read_nted_pose(path: Path, root: Path, log: ProblemLog) -> np.ndarray | None:
    """An NTED/PIDM pose file: 18 rows ``x y`` in the padded 256x256 frame, -1 for missing.

    Returns (18, 2) integer (y, x) in the 256x176 frame (x - 40), or None after logging problems.
    """
    lines = _read_lines(path, root, log)
    if lines is None:
        return None
    file = _rel(path, root)
    rows = [line.split() for line in lines if line.strip()]
    if len(rows) != NUM_KEYPOINTS:
        log.error(file, "", f"has {len(rows)} keypoint rows, expected {NUM_KEYPOINTS}")
        return None
    yx = np.empty((NUM_KEYPOINTS, 2), dtype=np.int64)
    ok = True
    for k, fields in enumerate(rows):
        if len(fields) != 2:
            log.error(file, f"row {k + 1}", f"expected 'x y', got {' '.join(fields)!r}")
            ok = False
            continue
        try:
            x, y = (float(v) for v in fields)
        except ValueError:
            log.error(file, f"row {k + 1}", f"non-numeric value in {' '.join(fields)!r}")
            ok = False
            continue
        missing = x == MISSING and y == MISSING
        yx[k] = (MISSING, MISSING) if missing else (round(y), round(x) - NTED_BORDER)
    if not ok:
        return None
    bad = frame_problems(yx, (NTED_FRAME[0], NTED_FRAME[1] - 2 * NTED_BORDER))
    for message in bad:
        log.error(file, "", message)
    return None if bad else yx


def pixel_rows(keypoints: np.ndarray) -> tuple[list[int], list[int]]:
    """(18, 2) float pixel (x, y), NaN for missing -> integer ys, xs with MISSING: the pixel that
    holds each joint (floor), as the annotation files store it."""
    hidden = np.isnan(keypoints).any(axis=1)
    pixels = np.floor(np.nan_to_num(keypoints)).astype(int)
    ys = [MISSING if m else int(p[1]) for p, m in zip(pixels, hidden, strict=True)]
    xs = [MISSING if m else int(p[0]) for p, m in zip(pixels, hidden, strict=True)]
    return ys, xs


def keypoint_file_text(rows: list[tuple[str, np.ndarray]]) -> str:
    """A ``name:keypoints_y:keypoints_x`` file of (name, (18, 2) float pixel (x, y)) rows."""
    lines = [KEYPOINT_HEADER]
    for name, keypoints in rows:
        ys, xs = pixel_rows(keypoints)
        lines.append(f"{name}: {ys}: {xs}")
    return "\n".join(lines) + "\n"


def pairs_file_text(pairs: list[tuple[str, str]]) -> str:
    """A ``from,to`` file of (source, target) names."""
    return PAIRS_HEADER + "\n" + "".join(f"{source},{target}\n" for source, target in pairs)
