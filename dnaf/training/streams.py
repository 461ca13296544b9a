"""The random streams of one process's slots (dnaf.training.order): the global random generators
(torch, the current CUDA device, numpy, Python) switched to a slot's stream around its forward
pass, so that a slot draws the same noise whichever process runs it.

With one forward pass per step (no gradient accumulation) a process has one slot and its stream
is simply the global state, seeded with seed + process index as before, with nothing switched.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from accelerate.utils import set_seed

from dnaf.core.device import has_cuda
from dnaf.training import checkpoints
from dnaf.training.order import BatchLayout

logger = logging.getLogger(__name__)


def capture() -> dict:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state() if has_cuda() else None,
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def restore(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if has_cuda() and state["cuda"] is not None:
        torch.cuda.set_rng_state(state["cuda"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def seeded(seed: int) -> dict:
    """A fresh stream's state (the global state is left as it was)."""
    before = capture()
    set_seed(seed)
    state = capture()
    restore(before)
    return state


class RandomStreams:
    def __init__(self, layout: BatchLayout, process: int) -> None:
        self.layout, self.process = layout, process
        self.states: dict[int, dict] = {}
        """forward pass -> its slot's stream, while it is not in use (with accumulation only)."""

    def _slots(self) -> list[int]:
        return [self.layout.slot(self.process, forward) for forward in range(self.layout.accumulation)]

    def start(self, seed: int) -> None:
        """A new run: slot s draws from seed + s (slot s is process s without accumulation)."""
        if self.layout.accumulation > 1:
            self.states = {forward: seeded(seed + slot) for forward, slot in enumerate(self._slots())}

    @contextmanager
    def use(self, forward: int) -> Iterator[None]:
        if self.layout.accumulation == 1:
            yield
            return
        restore(self.states[forward])
        try:
            yield
        finally:
            self.states[forward] = capture()

    def save(self, folder: Path) -> None:
        for forward, slot in enumerate(self._slots()):
            state = self.states[forward] if self.layout.accumulation > 1 else capture()
            checkpoints.save_random_state(state, folder / f"random_{slot}")

    def load(self, folder: Path, seed: int, step: int) -> None:
        """The streams of this process's slots from a checkpoint. A slot the checkpoint lacks (the
        batch size changed, so the slots did) starts a new stream, seeded from (seed, step, slot)."""
        states = {}
        for forward, slot in enumerate(self._slots()):
            path = folder / f"random_{slot}"
            if path.with_suffix(".safetensors").is_file():
                states[forward] = checkpoints.load_random_state(path)
            else:
                states[forward] = seeded(int(np.random.SeedSequence([seed, step, slot]).generate_state(1)[0]))
                logger.warning("%s has no random stream for slot %d: it starts a new one", folder, slot)
        if self.layout.accumulation > 1:
            self.states = states
        else:
            restore(states[0])
