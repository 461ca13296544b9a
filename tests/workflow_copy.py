"""The repository copied into a temporary folder, a demo reduced to seconds, and commands run there
with this environment's tools first on PATH: what the DVC, SLURM and dry-run tests share."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .conftest import REPO

# The demo reduced to 15 pictures, 3 training steps at batch 4, 2 sampling steps and no downloads.
REDUCED_DEMO: dict[str, Any] = {
    "datasets": {"demo": {"synthetic": {"train_identities": 3, "test_identities": 2, "poses_per_identity": 3}}},
    "experiments": {
        "demo": {
            "train": {
                "max_steps": 3, "batch_size": 4, "log_every": 1, "checkpoint_every": 3, "validate_every": 3,
                "validation_pairs": 2, "validation_steps": 2,
            },
            "sample": {"steps": 2, "shards": 2, "batch_size": 3},
            "evaluate": {"allow_download": False},
        }
    },
}  # fmt: skip


def copy_repository(dest: Path) -> Path:
    """Every file git tracks or would track (untracked, not ignored), as a fresh clone of the
    working tree would have them; symbolic links stay links."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if not source.exists() and not source.is_symlink():  # deleted in the working tree
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return dest


def copy_workflow(dest: Path) -> Path:
    """Only what Snakemake reads: the Snakefile, workflow/, config/ and envs/."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Snakefile", dest / "Snakefile")
    for folder in ("workflow", "config", "envs"):
        shutil.copytree(REPO / folder, dest / folder, symlinks=True)
    return dest


def merged(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in layer.items():
        result[key] = merged(base.get(key) or {}, value) if isinstance(value, dict) else value
    return result


def layer_config(path: Path, layer: dict[str, Any]) -> None:
    """Write ``layer`` over the YAML config at ``path`` (as a user editing it would)."""
    path.write_text(yaml.safe_dump(merged(yaml.safe_load(path.read_text()), layer), sort_keys=False))


def tool_environment(**extra: str) -> dict[str, str]:
    """This interpreter's folder first on PATH: snakemake, dvc and dnaf of the test environment."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **extra)


def run(cwd: Path, *args: str, timeout: float = 900, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args), cwd=cwd, env=tool_environment(**env), capture_output=True, text=True, timeout=timeout
    )


def job_counts(dry_run_output: str) -> dict[str, int]:
    """Snakemake's "Job stats" table as {rule: jobs}."""
    lines = dry_run_output[dry_run_output.index("Job stats:") :].splitlines()[3:]
    counts = {}
    for line in lines:
        name, _, count = line.partition(" ")
        if name == "total" or not count.strip().isdigit():
            break
        counts[name] = int(count)
    return counts
