"""Stopping a training run to resume it later: on SIGTERM (a preemption, or SLURM's end of the
time limit) or SIGUSR1 (asked for before the time limit with ``sbatch --signal``) the run finishes
the optimizer step it is in, writes a checkpoint on every process and exits with
:data:`~dnaf.core.errors.EXIT_RESUME`. The same command run again resumes from that checkpoint."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from dnaf.core.errors import EXIT_RESUME, DnafError

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class TrainingStopped(DnafError):
    """Training stopped on a signal after writing a checkpoint; running it again resumes."""

    exit_code = EXIT_RESUME


class StopRequest:
    """While active, the stop signals set a flag instead of ending the process; the training
    loop reads it between steps (the handler itself only records the signal, which is safe at any
    point of the step)."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(number)
            logger.warning("%s: stopping after this step with a checkpoint", self.received.name)

    def __enter__(self) -> StopRequest:
        for number in STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()
