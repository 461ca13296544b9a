"""Where a user's photos and their identities come from: one subfolder per person, or a CSV of
file and identity. Every problem of the listing is reported at once."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from dnaf.core.errors import DataError
from dnaf.data.annotation_files import unsafe_path_reason
from dnaf.pose.extraction import PHOTO_SUFFIXES, Photo

IDENTITY_COLUMNS = ("file", "identity")


@dataclass(frozen=True)
class PersonPhoto:
    photo: Photo
    """``photo.name``: the path relative to the photo folder."""
    identity: str
    """The user's label of the person (a folder name or the CSV's identity)."""


def _is_photo(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in PHOTO_SUFFIXES


def photos_by_folder(images: Path) -> tuple[list[PersonPhoto], list[tuple[str, str]]]:
    """Each subfolder of ``images`` is one person (its photos found recursively); returns them and
    the photos left out (file, reason): those directly under ``images`` belong to nobody."""
    if not images.is_dir():
        raise DataError(f"{images}: no such folder of photos")
    found, left_out = [], []
    for entry in sorted(images.iterdir()):
        if _is_photo(entry):
            left_out.append((entry.name, "not inside a person's folder (one subfolder per person)"))
        elif entry.is_dir():
            for path in sorted(p for p in entry.rglob("*") if _is_photo(p)):
                found.append(PersonPhoto(Photo(path, path.relative_to(images).as_posix()), entry.name))
    if not found:
        raise DataError(f"{images}: no photos in subfolders; expected one subfolder of photos per person")
    return found, left_out


def photos_from_table(images: Path, table: Path) -> list[PersonPhoto]:
    """A CSV with the columns ``file`` (relative to ``images``) and ``identity``."""
    try:
        with table.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise DataError(f"{table}: cannot read ({error.strerror})") from None
    if not rows or any(column not in rows[0] for column in IDENTITY_COLUMNS):
        raise DataError(f"{table}: expected a header with the columns {', '.join(IDENTITY_COLUMNS)}")
    found, problems, seen = [], [], {}
    for line, row in enumerate(rows, start=2):
        file, identity = (row[column].strip() if row[column] else "" for column in IDENTITY_COLUMNS)
        reason = unsafe_path_reason(file) or (None if identity else "empty identity")
        if reason is None and file in seen:
            reason = f"{file} is listed again (first on line {seen[file]})"
        if reason is None and not _is_photo(images / file):
            reason = f"{images / file}: no such photo"
        if reason:
            problems.append(f"{table}: line {line}: {reason}")
            continue
        seen[file] = line
        found.append(PersonPhoto(Photo(images / file, file), identity))
    if problems:
        raise DataError(f"{len(problems)} problem(s) in the identity table:\n" + "\n".join(problems))
    return found
