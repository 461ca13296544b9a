"""The order in which training consumes its pairs, and its random draws, whatever the process count.

Each epoch is a permutation of the pairs drawn from (seed, epoch), cut into optimizer steps of one
global batch (batch_size x processes x gradient_accumulation) each; the tail that does not fill a
step is left out of that epoch (another tail every epoch). A forward pass over all processes takes
the next batch_size x processes pairs, process r the r-th run of batch_size among them, as
accelerate's sharding of a loader hands them out. Every such run is a *slot* of the step
(processes x gradient_accumulation of them) with its own random stream (noise, timesteps, dropped
conditions). So a step consumes the same pairs with the same draws on 1, 2 or 16 processes, and
a checkpoint written by N processes goes on on M with the same global batch: only the order of
the reductions (DDP's mean against accumulation) differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dnaf.core.errors import ConfigError


@dataclass(frozen=True)
class BatchLayout:
    """How one optimizer step's pairs are spread over processes and forward passes."""

    batch_size: int
    """Pairs per process per forward pass."""
    processes: int
    accumulation: int
    """Forward passes per process per optimizer step."""

    @property
    def forward_pairs(self) -> int:
        """Pairs one forward pass consumes over all processes."""
        return self.batch_size * self.processes

    @property
    def global_batch(self) -> int:
        return self.forward_pairs * self.accumulation

    @property
    def slots(self) -> int:
        """Runs of batch_size pairs in one step, each with its own random stream."""
        return self.processes * self.accumulation

    def slot(self, process: int, forward: int) -> int:
        """The slot of a process's ``forward``-th pass of a step (0 <= forward < accumulation)."""
        return forward * self.processes + process

    def steps_per_epoch(self, pairs: int) -> int:
        return pairs // self.global_batch


def elastic_accumulation(global_batch: int, batch_size: int, processes: int, checkpoint: Path) -> int:
    """The gradient accumulation that keeps a checkpoint's ``global_batch`` on ``processes``
    processes of ``batch_size`` pairs; a ConfigError naming what to set where there is none."""
    per_forward = batch_size * processes
    if global_batch % per_forward == 0:
        return global_batch // per_forward
    if global_batch % processes:
        counts = [n for n in range(1, global_batch + 1) if global_batch % n == 0]
        raise ConfigError(
            f"{checkpoint} was trained with a global batch of {global_batch} pairs per step, which "
            f"{processes} processes cannot share evenly: resume on a process count that divides it "
            f"({', '.join(map(str, counts))})"
        )
    sizes = [b for b in range(1, global_batch // processes + 1) if (global_batch // processes) % b == 0]
    raise ConfigError(
        f"{checkpoint} was trained with a global batch of {global_batch} pairs per step; {processes} "
        f"processes of train.batch_size {batch_size} cannot make it up with a whole gradient accumulation: "
        f"set train.batch_size to one of {', '.join(map(str, sizes))}"
    )


class GlobalOrder(torch.utils.data.Sampler[list[int]]):
    """The batch sampler of one process: its runs of the global order, from a position (pairs of
    the epoch already consumed, by all processes together) to the end of the epoch's whole steps."""

    def __init__(self, pairs: int, seed: int, layout: BatchLayout, process: int) -> None:
        self.pairs, self.seed, self.layout, self.process = pairs, seed, layout, process
        self.epoch = self.position = 0

    def start(self, epoch: int, position: int) -> None:
        if position % self.layout.forward_pairs:
            raise ValueError(f"position {position} is not a whole forward pass of {self.layout.forward_pairs}")
        self.epoch, self.position = epoch, position

    def _end(self) -> int:
        return self.layout.steps_per_epoch(self.pairs) * self.layout.global_batch

    def __len__(self) -> int:
        return max(0, self._end() - self.position) // self.layout.forward_pairs

    def __iter__(self) -> Iterator[list[int]]:
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.pairs)
        size = self.layout.batch_size
        for start in range(self.position, self._end(), self.layout.forward_pairs):
            first = start + self.process * size
            yield order[first : first + size].tolist()
