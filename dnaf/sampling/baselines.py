"""Reference outputs that need no model: copying the source image as the "generated" one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dnaf.data.index import DatasetIndex
from dnaf.io.atomic import atomic_write_bytes
from dnaf.io.images import decoded_size, encode_image, load_rgb
from dnaf.sampling.shards import pairs_to_sample


def write_copy_source(index: DatasetIndex, root: Path, out: Path) -> pd.DataFrame:
    """Every test pair's source image as its output (PNG, named as ``dnaf sample`` names it);
    existing complete files are kept (resumable). Returns the manifest (source, target, file)."""
    pairs = pairs_to_sample(index)
    out.mkdir(parents=True, exist_ok=True)
    for source, file in zip(pairs["source"], pairs["file"], strict=True):
        if decoded_size(out / file) is None:
            atomic_write_bytes(out / file, encode_image(load_rgb(root / index.images.at[source, "path"])))
    return pairs[["source", "target", "file"]]
