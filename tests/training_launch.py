"""`dnaf train` launched as separate processes (accelerate launch, gloo on CPU), every draw of
noise recorded per rank by tests/record_randomness.py: what the multi-process training tests share."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RECORDER = Path(__file__).with_name("record_randomness.py")


def training_command(processes: int, root: Path, index: Path, poses: Path, out: Path, run: dict) -> list[str]:
    """One process: the recorder run directly; several: through accelerate launch on this machine."""
    launch = [sys.executable]
    if processes > 1:
        launch += [
            "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
            "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        ]  # fmt: skip
    return [
        *launch, str(RECORDER), "train", "--dataset", "demo", "--root", str(root), "--index", str(index),
        "--poses", str(poses), "--out", str(out), "--config-json", json.dumps({"experiments": {"demo": run}}),
    ]  # fmt: skip


def training_environment(record: Path) -> dict[str, str]:
    record.mkdir(parents=True, exist_ok=True)
    return dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1", DNAF_RECORD_DIR=str(record))


def read_draws(record: Path, processes: int) -> dict[int, list[dict]]:
    """rank -> its draws in order (two per forward pass: the target's noise, then the source's)."""
    return {
        rank: [json.loads(line) for line in (record / f"rank{rank}.jsonl").read_text().splitlines()]
        for rank in range(processes)
    }


def launch_training(
    processes: int, root: Path, index: Path, poses: Path, out: Path, run: dict, record: Path
) -> tuple[dict[int, list[dict]], str]:
    """Train to the end; -> (each rank's draws, the launcher's standard error)."""
    command = training_command(processes, root, index, poses, out, run)
    result = subprocess.run(command, env=training_environment(record), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return read_draws(record, processes), result.stderr
