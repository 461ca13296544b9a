"""Cached diffusion-space samples of the training images: the VAE encodes once, not every step."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from safetensors.torch import load_file
from safetensors.torch import save as save_bytes
from tqdm import tqdm

from dnaf.core.errors import DataError
from dnaf.io.atomic import atomic_write_bytes
from dnaf.io.images import load_rgb
from dnaf.io.tensors import to_tensor

logger = logging.getLogger(__name__)


class LatentCache:
    """name -> (C, h, w) latent (float16) of every training image at the training resolution."""

    def __init__(self, latents: dict[str, torch.Tensor]) -> None:
        self.latents = latents

    @classmethod
    def prepare(cls, trainer, accelerator, batch_size: int = 16) -> LatentCache:
        """Encode on the main process into ``out/latents.safetensors`` (kept for a resume); the
        other processes wait and read the file."""
        path = Path(trainer.paths.out) / "latents.safetensors"
        names = sorted({name for pair in trainer.dataset.pairs for name in pair})
        if accelerator.is_main_process and not path.is_file():
            latents = cls._encode(trainer, names, accelerator.device, batch_size)
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, save_bytes(latents))
        accelerator.wait_for_everyone()
        latents = load_file(path)
        missing = set(names) - set(latents)
        if missing:
            raise DataError(f"{path} lacks {len(missing)} training images (delete it to re-encode)")
        return cls(latents)

    @staticmethod
    @torch.no_grad()
    def _encode(trainer, names: list[str], device, batch_size: int) -> dict[str, torch.Tensor]:
        root, images = trainer.paths.root, trainer.index.images
        latents = {}
        for start in tqdm(range(0, len(names), batch_size), desc="encoding latents"):
            chunk = names[start : start + batch_size]
            pixels = torch.stack(
                [to_tensor(load_rgb(root / images.at[n, "path"], trainer.resolution), signed=True) for n in chunk]
            ).to(device)
            encoded = trainer.model.encode(pixels).to(torch.float16).cpu()
            latents.update({name: latent.contiguous() for name, latent in zip(chunk, encoded, strict=True)})
        logger.info("encoded %d training images", len(latents))
        return latents

    def lookup(self, batch: dict, device) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (target latents, source latents) of a batch, (B, C, h, w) each."""
        target = torch.stack([self.latents[n] for n in batch["target_name"]]).to(device)
        source = torch.stack([self.latents[n] for n in batch["source_name"]]).to(device)
        return target, source
