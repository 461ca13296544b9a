"""Identifiers of the weights a metric used, for the protocol record of metrics.json."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_id(path: Path) -> str:
    """``<file name> sha256:<first 16 hex digits>`` of a local weights file."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{Path(path).name} sha256:{digest.hexdigest()[:16]}"


def torchvision_id(weights) -> str:
    """``torchvision <file name>`` of a torchvision weights enum member (its file name carries
    the hash prefix torchvision checks downloads against)."""
    return f"torchvision {weights.url.rsplit('/', 1)[-1]}"
