"""How the test pairs are batched, dealt to shards, seeded and named.

Batches are cut from the test pairs in index order and dealt to shards round-robin, so the
number of shards never changes which pairs share a batch; each pair's noise comes from its own
seed. Together this makes every image independent of the shard count, bit for bit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from dnaf.core.errors import DataError, UsageError
from dnaf.data.index import DatasetIndex


def output_name(source: str, target: str) -> str:
    """``<source stem>_2_<target stem>.png`` (the convention of PIDM/NTED result folders)."""
    return f"{Path(source).stem}_2_{Path(target).stem}.png"


def pair_seed(base: int, source: str, target: str) -> int:
    """A 63-bit seed from the base seed and the pair's names (not its position)."""
    digest = hashlib.sha256(f"{base}:{source}:{target}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def pairs_to_sample(index: DatasetIndex) -> pd.DataFrame:
    """The test pairs with their output file names; duplicates kept once."""
    pairs = index.pairs.loc[index.pairs["split"] == "test", ["source", "target"]].drop_duplicates()
    pairs = pairs.reset_index(drop=True)
    pairs["file"] = [output_name(s, t) for s, t in zip(pairs["source"], pairs["target"], strict=True)]
    clashes = pairs["file"].duplicated(keep=False)
    if clashes.any():
        raise DataError(f"pairs map to the same output file: {sorted(pairs.loc[clashes, 'file'])[:4]}")
    return pairs


def seeded_pairs(index: DatasetIndex, base_seed: int) -> pd.DataFrame:
    """:func:`pairs_to_sample` with each pair's seed (column ``seed``)."""
    pairs = pairs_to_sample(index)
    pairs["seed"] = [pair_seed(base_seed, s, t) for s, t in zip(pairs["source"], pairs["target"], strict=True)]
    return pairs


def shard_batches(count: int, batch_size: int, shard: int, num_shards: int) -> list[range]:
    """The batches (ranges of pair positions) that shard ``shard`` of ``num_shards`` samples."""
    if not 0 <= shard < num_shards:
        raise UsageError(f"shard must be in [0, {num_shards}), got {shard}")
    batches = [range(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]
    return batches[shard::num_shards]
