"""``starts.jsonl`` in a run folder: one line each time ``dnaf train`` starts there (the step and
epoch it starts from, its processes and their hosts, the SLURM job) and one when it ends
(finished, or stopped on a signal at a step). A run that crossed time limits shows each
allocation and where it took over."""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import gather_object


def _append(path: Path, record: dict) -> None:
    with path.open("a") as handle:  # one short line: a crash leaves whole lines before it
        handle.write(json.dumps({"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), **record}) + "\n")


def record_start(path: Path, accelerator: Accelerator, step: int, epoch: int, accumulation: int) -> None:
    hosts = gather_object([socket.gethostname()]) if accelerator.num_processes > 1 else [socket.gethostname()]
    if accelerator.is_main_process:
        _append(path, {
            "event": "start", "step": step, "epoch": epoch, "processes": accelerator.num_processes,
            "gradient_accumulation": accumulation, "hosts": hosts, "slurm_job": os.environ.get("SLURM_JOB_ID"),
        })  # fmt: skip


def record_end(path: Path, accelerator: Accelerator, step: int, stopped_by: str | None) -> None:
    if accelerator.is_main_process:
        _append(path, {"event": "stopped" if stopped_by else "finished", "step": step, "signal": stopped_by})
