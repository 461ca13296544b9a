"""The saved model folder: a diffusers pipeline folder (``model_index.json`` + one subfolder of
safetensors and config per component), written by ``DNAFPipeline.save_pretrained``.

Here: reading its index without loading the weights (the image size it samples at), telling an
old-format folder from a missing one, and comparing two folders' weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from dnaf.core.errors import DataError

MODEL_INDEX = "model_index.json"
PIPELINE_CLASS = "DNAFPipeline"
OLD_RECORD = "dnaf_model.json"
"""The record of the format before the diffusers pipeline (dnaf <= 0.1.0, until 2026-12-01)."""


class NotAModelError(DataError, FileNotFoundError):
    """A folder that is not a model saved by ``dnaf train`` (no index, or no weights)."""


class OldModelFormatError(NotAModelError):
    """A model saved in the format before the diffusers pipeline; the message says how to convert it."""


def read_model_index(folder: Path) -> dict:
    """The ``model_index.json`` of a saved DNAF pipeline; raises :class:`OldModelFormatError` for
    a folder in the old format and :class:`NotAModelError` for anything else."""
    folder = Path(folder)
    path = folder / MODEL_INDEX
    if not path.is_file():
        if (folder / OLD_RECORD).is_file():
            raise OldModelFormatError(
                f"{folder} holds a model in dnaf's format before the diffusers pipeline ({OLD_RECORD}, no "
                f"{MODEL_INDEX}); convert it once with `dnaf convert-model --dataset NAME {folder} NEW_FOLDER` "
                "(NAME: the dataset it was trained on, for its skeleton size)"
            )
        raise NotAModelError(f"{folder} is not a saved DNAF model (no {MODEL_INDEX})")
    index = json.loads(path.read_text())
    if index.get("_class_name") != PIPELINE_CLASS:
        raise NotAModelError(f"{path} describes a {index.get('_class_name')}, not a {PIPELINE_CLASS}")
    return index


def model_image_size(folder: Path) -> tuple[int, int]:
    """(height, width) the saved model was trained at, and samples at."""
    return tuple(read_model_index(folder)["image_size"])


def weight_differences(first: Path, second: Path) -> list[str]:
    """Every weights file and tensor in which two saved model folders differ (empty: identical).
    Raises NotAModelError for a folder that is not a saved model or holds no weights."""
    first, second = Path(first), Path(second)
    for folder in (first, second):
        read_model_index(folder)
        if not any(folder.rglob("*.safetensors")):
            raise NotAModelError(f"{folder} holds no weights (*.safetensors)")
    files = {p.relative_to(first) for p in first.rglob("*.safetensors")}
    other = {p.relative_to(second) for p in second.rglob("*.safetensors")}
    differences = [f"{name}: only in {first}" for name in sorted(files - other)]
    differences += [f"{name}: only in {second}" for name in sorted(other - files)]
    for name in sorted(files & other):
        a, b = load_file(first / name), load_file(second / name)
        differences += [f"{name}: {key} not in both" for key in sorted(a.keys() ^ b.keys())]
        differences += [f"{name}: {key}" for key in sorted(a.keys() & b.keys()) if not torch.equal(a[key], b[key])]
    return differences
