"""Training checkpoints without pickle: trainable weights, optimiser, LR schedule, EMA and every
process's random state, as safetensors plus JSON.

A checkpoint is written into a staging folder and renamed to ``step-NNNNNNN`` when complete, so a
crash never leaves a folder that looks complete but is not; the newest K are kept.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file as load_numpy
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import load_file, save_file

from dnaf.core.device import has_cuda

PREFIX = "step-"


def checkpoint_name(step: int) -> str:
    return f"{PREFIX}{step:07d}"


def list_checkpoints(directory: Path) -> list[Path]:
    """Complete checkpoints, oldest first (staging folders start with '.')."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_dir() and p.name.startswith(PREFIX))


def _split(state: dict, prefix: str, tensors: dict[str, torch.Tensor]) -> dict:
    """Move the tensors of a nested state dict into ``tensors``; return the JSON-able rest."""
    if isinstance(state, torch.Tensor):
        tensors[prefix] = state.detach().cpu().contiguous()
        return {"__tensor__": prefix}
    if isinstance(state, dict):
        return {"__dict__": [[k, _split(v, f"{prefix}/{k}", tensors)] for k, v in state.items()]}
    if isinstance(state, (list, tuple)):
        return [_split(v, f"{prefix}/{i}", tensors) for i, v in enumerate(state)]
    return state


def _join(structure, tensors: dict[str, torch.Tensor]):
    if isinstance(structure, dict) and "__tensor__" in structure:
        return tensors[structure["__tensor__"]]
    if isinstance(structure, dict) and "__dict__" in structure:
        return {k: _join(v, tensors) for k, v in structure["__dict__"]}
    if isinstance(structure, list):
        return [_join(v, tensors) for v in structure]
    return structure


def save_state_dict(state: dict, path: Path) -> None:
    """Any nested state dict (optimiser, scheduler, EMA) -> path.safetensors + path.json."""
    tensors: dict[str, torch.Tensor] = {}
    structure = _split(state, "s", tensors)
    save_file(tensors, path.with_suffix(".safetensors"))
    path.with_suffix(".json").write_text(json.dumps(structure))


def load_state_dict(path: Path) -> dict:
    return _join(json.loads(path.with_suffix(".json").read_text()), load_file(path.with_suffix(".safetensors")))


def save_random_state(path: Path) -> None:
    """This process's torch, CUDA, numpy and Python random states."""
    tensors = {"torch": torch.get_rng_state()}
    if has_cuda():
        tensors |= {f"cuda{i}": state for i, state in enumerate(torch.cuda.get_rng_state_all())}
    save_file(tensors, path.with_suffix(".safetensors"))
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    save_numpy({"numpy": keys}, path.with_suffix(".numpy.safetensors"))
    version, python_state, python_gauss = random.getstate()
    extra = {"numpy": [kind, position, has_gauss, gauss], "python": [version, list(python_state), python_gauss]}
    path.with_suffix(".json").write_text(json.dumps(extra))


def load_random_state(path: Path) -> None:
    tensors = load_file(path.with_suffix(".safetensors"))
    torch.set_rng_state(tensors["torch"])
    if has_cuda():
        torch.cuda.set_rng_state_all([tensors[f"cuda{i}"] for i in range(torch.cuda.device_count())])
    extra = json.loads(path.with_suffix(".json").read_text())
    kind, position, has_gauss, gauss = extra["numpy"]
    np.random.set_state((kind, load_numpy(path.with_suffix(".numpy.safetensors"))["numpy"], position, has_gauss, gauss))
    version, python_state, python_gauss = extra["python"]
    random.setstate((version, tuple(python_state), python_gauss))


def staging_folder(directory: Path, step: int) -> Path:
    return directory / f".{checkpoint_name(step)}.partial"


def publish(directory: Path, step: int, keep: int) -> Path:
    """Rename the staging folder into place and delete all but the newest ``keep`` checkpoints."""
    final = directory / checkpoint_name(step)
    if final.exists():
        shutil.rmtree(final)
    staging_folder(directory, step).rename(final)
    for old in list_checkpoints(directory)[:-keep]:
        shutil.rmtree(old)
    return final
