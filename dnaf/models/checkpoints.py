"""The pretrained base checkpoints on disk: what must be there, and fetching them when online."""

from __future__ import annotations

import logging
from pathlib import Path

from dnaf.core.errors import DataError

logger = logging.getLogger(__name__)

SD15_REPO = "stable-diffusion-v1-5/stable-diffusion-v1-5"
SWIN_REPO = "microsoft/swin-base-patch4-window7-224"

# Each requirement: alternative sets of files, any one complete set satisfies it.
SD15_FILES: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("unet/config.json",),),
    (("unet/diffusion_pytorch_model.safetensors",),),
    (("vae/config.json",),),
    (("vae/diffusion_pytorch_model.safetensors",),),
    (("text_encoder/config.json",),),
    (("text_encoder/model.safetensors",),),
    (("tokenizer/vocab.json", "tokenizer/merges.txt"), ("tokenizer/tokenizer.json",)),
    (("scheduler/scheduler_config.json",),),
)
SWIN_FILES: tuple[tuple[tuple[str, ...], ...], ...] = ((("config.json",),), (("model.safetensors",),))
_SD15_PATTERNS = ["unet/*", "vae/*", "text_encoder/*", "tokenizer/*", "scheduler/*", "model_index.json"]


class MissingCheckpointError(DataError, FileNotFoundError):
    """The base model folders are missing files; the message lists all of them and the fix."""


def missing_files(folder: Path, required: tuple[tuple[tuple[str, ...], ...], ...]) -> list[str]:
    """Paths of each unmet requirement (its first alternative, the others named in brackets)."""
    folder = Path(folder)
    missing = []
    for alternatives in required:
        if any(all((folder / name).is_file() for name in files) for files in alternatives):
            continue
        first, *others = alternatives
        text = ", ".join(str(folder / name) for name in first if not (folder / name).is_file())
        if others:
            text += " (or " + "; ".join(", ".join(str(folder / n) for n in files) for files in others) + ")"
        missing.append(text)
    return missing


def check_pretrained_folders(stable_diffusion: Path, swin: Path | None) -> None:
    """Raise one :class:`MissingCheckpointError` naming every missing file of both folders."""
    problems = missing_files(stable_diffusion, SD15_FILES)
    if swin is not None:
        problems += missing_files(swin, SWIN_FILES)
    if not problems:
        return
    pickled = [p for p in problems if p.endswith(".safetensors") and Path(p).with_suffix(".bin").is_file()]
    hint = (
        "\nOnly pickle (.bin) weights were found for: " + ", ".join(pickled) + "; dnaf loads safetensors only."
        if pickled
        else ""
    )
    raise MissingCheckpointError(
        "the pretrained base models are incomplete; missing:\n  "
        + "\n  ".join(problems)
        + hint
        + f"\nGet them with `dnaf download-models` (Hugging Face: {SD15_REPO}, {SWIN_REPO}) or copy the"
        " folders from a machine that has them; the paths are model.stable_diffusion and model.swin in the config."
    )


def download_models(stable_diffusion: Path, swin: Path) -> None:
    """Fetch SD1.5 (diffusers format, safetensors) and Swin-B with huggingface_hub."""
    from huggingface_hub import snapshot_download

    for repo, folder, patterns in (
        (SD15_REPO, stable_diffusion, _SD15_PATTERNS),
        (SWIN_REPO, swin, ["config.json", "model.safetensors", "preprocessor_config.json"]),
    ):
        logger.info("downloading %s into %s", repo, folder)
        ignore = ["*.bin", "*.ckpt", "*fp16*", "*non_ema*"]
        snapshot_download(repo_id=repo, local_dir=folder, allow_patterns=patterns, ignore_patterns=ignore)
    check_pretrained_folders(stable_diffusion, swin)
