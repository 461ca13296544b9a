"""FID statistics of the real set (ALL training images at the evaluation size, less the last
incomplete batch where the protocol drops it), computed once and cached in a safetensors file
whose metadata records what they were computed from.

A cache whose record differs from what is asked (extractor, size, resize, batches, weights, the
list of images) is recomputed, never silently reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save

from dnaf.data.index import DatasetIndex
from dnaf.io.atomic import atomic_write_bytes
from dnaf.metrics.fid import FidExtractor
from dnaf.metrics.frechet import feature_statistics
from dnaf.metrics.inputs import EvaluationInputError
from dnaf.metrics.protocols import Protocol, cache_key, kept

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FidStatistics:
    mu: np.ndarray
    sigma: np.ndarray
    record: dict


def real_set(index: DatasetIndex, root: Path, protocol: Protocol) -> tuple[list[str], list[Path]]:
    """Names and files of the real set: every training image, sorted by name, less the last
    incomplete batch when the protocol drops it."""
    names = sorted(index.images.index[index.images["split"] == "train"])
    used = names[: kept(len(names), protocol.fid_batch, protocol.fid_drop_last)]
    if len(used) < 2:
        raise EvaluationInputError(f"FID real set under protocol {protocol.name}", [
            f"{len(names)} training image(s) in the index leave {len(used)} (batches of {protocol.fid_batch}, last "
            f"incomplete one dropped: {protocol.fid_drop_last}); at least 2 are needed"])  # fmt: skip
    return used, [root / index.images.at[name, "path"] for name in used]


def real_record(
    names: list[str], files: list[Path], root: Path, size: tuple[int, int], extractor: FidExtractor
) -> dict:
    """What the statistics were computed from: a cache whose record differs is not reused."""
    protocol = extractor.protocol
    paths = [str(Path(f).relative_to(root)) for f in files]
    return {
        "set": "all training images" + (f", less the last incomplete batch of {protocol.fid_batch}"
                                        if protocol.fid_drop_last else ""),
        "images": len(names),
        "names_sha256": hashlib.sha256("\n".join(names).encode()).hexdigest(),
        "root": str(Path(root).resolve()),
        "paths_sha256": hashlib.sha256("\n".join(paths).encode()).hexdigest(),
        "size": list(size),
        "resize": protocol.real_resize,
        "extractor": protocol.fid_extractor,
        "weights": extractor.weights,
    }  # fmt: skip


def save_statistics(path: Path, statistics: FidStatistics) -> None:
    tensors = {"mu": torch.from_numpy(statistics.mu), "sigma": torch.from_numpy(statistics.sigma)}
    atomic_write_bytes(path, save(tensors, metadata={"record": json.dumps(statistics.record, sort_keys=True)}))


def load_statistics(path: Path) -> FidStatistics:
    with safe_open(path, framework="np") as handle:
        record = json.loads((handle.metadata() or {}).get("record", "{}"))
        return FidStatistics(handle.get_tensor("mu"), handle.get_tensor("sigma"), record)


def real_statistics(
    index: DatasetIndex, root: Path, size: tuple[int, int], extractor: FidExtractor, cache: Path
) -> FidStatistics:
    """The real set's statistics from ``cache`` when its record matches, else computed and cached."""
    names, files = real_set(index, root, extractor.protocol)
    record = real_record(names, files, root, size, extractor)
    if cache.is_file():
        cached = load_statistics(cache)
        if cached.record == record:
            logger.info("FID real-set statistics from the cache %s (%d images)", cache, len(names))
            return cached
        changed = sorted(k for k in record if cached.record.get(k) != record[k])
        logger.warning("recomputing %s: it was computed with a different %s", cache, ", ".join(changed))
    logger.info(
        "FID real-set statistics: %d training images at %dx%d (%s)", len(files), *size, cache_key(extractor.protocol)
    )
    statistics = FidStatistics(*feature_statistics(extractor.features(files, extractor.protocol.real_resize)), record)
    cache.parent.mkdir(parents=True, exist_ok=True)
    save_statistics(cache, statistics)
    return statistics
