"""Training checkpoints without pickle: trainable weights, optimiser, LR schedule, EMA, the loss
scaler (fp16), the random stream of every slot (dnaf.training.order) and the progress, as
safetensors plus JSON.

A checkpoint is written into a staging folder and renamed to ``step-NNNNNNN`` when complete, so a
crash never leaves a folder that looks complete but is not; the newest K are kept.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.numpy import load_file as load_numpy
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import load_file, save_file

from dnaf.core.errors import UsageError
from dnaf.training.order import BatchLayout

PREFIX = "step-"


@dataclass(frozen=True)
class Progress:
    """How far a run got: optimizer steps, and the pairs consumed (the epoch and how many pairs of
    its order), with the batch layout they were consumed in."""

    step: int
    epoch: int
    position: int
    processes: int
    batch_size: int
    gradient_accumulation: int

    @property
    def layout(self) -> BatchLayout:
        return BatchLayout(self.batch_size, self.processes, self.gradient_accumulation)

    def save(self, checkpoint: Path) -> None:
        (checkpoint / "progress.json").write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, checkpoint: Path) -> Progress:
        record = json.loads((checkpoint / "progress.json").read_text())
        missing = sorted(set(cls.__dataclass_fields__) - set(record))
        if missing:  # older checkpoints held only the step and the process count
            raise UsageError(
                f"{checkpoint} was written by an older dnaf that did not record where in the data it "
                f"stood ({', '.join(missing)} missing from progress.json): finish the run with that "
                "version, or delete the checkpoints to train from scratch"
            )
        return cls(**{name: int(record[name]) for name in cls.__dataclass_fields__})


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


def save_random_state(state: dict, path: Path) -> None:
    """A random state as :func:`dnaf.training.streams.capture` gives it (torch, the current CUDA
    device, numpy, Python) -> path.safetensors, path.numpy.safetensors and path.json."""
    tensors = {"torch": state["torch"]} | ({"cuda": state["cuda"]} if state["cuda"] is not None else {})
    save_file(tensors, path.with_suffix(".safetensors"))
    kind, keys, position, has_gauss, gauss = state["numpy"]
    save_numpy({"numpy": keys}, path.with_suffix(".numpy.safetensors"))
    version, python_state, python_gauss = state["python"]
    extra = {"numpy": [kind, position, has_gauss, gauss], "python": [version, list(python_state), python_gauss]}
    path.with_suffix(".json").write_text(json.dumps(extra))


def load_random_state(path: Path) -> dict:
    tensors = load_file(path.with_suffix(".safetensors"))
    extra = json.loads(path.with_suffix(".json").read_text())
    kind, position, has_gauss, gauss = extra["numpy"]
    keys = load_numpy(path.with_suffix(".numpy.safetensors"))["numpy"]
    version, python_state, python_gauss = extra["python"]
    return {
        "torch": tensors["torch"],
        "cuda": tensors.get("cuda"),
        "numpy": (kind, keys, position, has_gauss, gauss),
        "python": (version, tuple(python_state), python_gauss),
    }


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


def _check_fits(checkpoint: Path, state: dict[str, torch.Tensor], parameters: dict[str, torch.Tensor]) -> None:
    """Refuse a checkpoint of another model (the model config changed since it was written)."""
    problems = [f"{name}: not in the checkpoint" for name in sorted(parameters.keys() - state.keys())]
    problems += [f"{name}: not in the configured model" for name in sorted(state.keys() - parameters.keys())]
    problems += [
        f"{name}: shape {tuple(state[name].shape)} in the checkpoint, {tuple(p.shape)} configured"
        for name, p in sorted(parameters.items())
        if name in state and state[name].shape != p.shape
    ]
    if problems:
        listed = "\n  ".join(problems[:10]) + (f"\n  ... {len(problems) - 10} more" if len(problems) > 10 else "")
        raise UsageError(
            f"{checkpoint} does not fit the configured model (was the model config changed since it was "
            f"written?); delete {checkpoint.parent} to train from scratch, or restore the config:\n  {listed}"
        )


def trainable_weights(model) -> dict[str, torch.nn.Parameter]:
    """The trainable parameters by their name in the model (the keys of a checkpoint's weights)."""
    return {
        name: parameter
        for module in model.trainable_modules()
        for name, parameter in module.named_parameters(prefix=_prefix(model, module))
    }


def _prefix(model, module: torch.nn.Module) -> str:
    """The attribute name of ``module`` in ``model`` (adapter, injectors, unet, appearance)."""
    for name, child in model.named_children():
        if child is module:
            return name
    raise ValueError("module is not a direct child of the model")


def load_trainable(checkpoint: Path, model) -> None:
    """The checkpoint's trainable weights into ``model`` (a DNAFModel), refused with every
    difference listed when they do not fit it."""
    state = load_state_dict(checkpoint / "trainable")
    parameters = trainable_weights(model)
    _check_fits(checkpoint, state, parameters)
    with torch.no_grad():
        for name, parameter in parameters.items():
            parameter.copy_(state[name])
