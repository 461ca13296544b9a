"""Order-preserving parallel map over processes, with a progress bar."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from multiprocessing import get_context
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
R = TypeVar("R")
_SERIAL_BELOW = 256  # a process pool costs more than it saves on small sets


def parallel_map(function: Callable[[T], R], items: list[T], workers: int, description: str) -> Iterator[R]:
    """``map`` over a process pool (``workers`` 0 = all cores) with a progress bar, order kept."""
    workers = workers or os.cpu_count() or 1
    bar = dict(total=len(items), desc=description, unit="img", disable=None, mininterval=1.0)
    if workers == 1 or len(items) < _SERIAL_BELOW:
        yield from tqdm(map(function, items), **bar)
        return
    with get_context().Pool(workers) as pool:  # the platform default: fork on Linux, spawn on macOS
        yield from tqdm(pool.imap(function, items, chunksize=64), **bar)
