"""The Python API of the applications (the CLI's ``transfer`` and ``try-on`` call it).

    from dnaf import DNAF
    dnaf = DNAF("results/demo/train/model", skeleton_size=(256, 176))
    image, record = dnaf.transfer(load_rgb("painting.jpg"), keypoints, seed=0)
    dressed, record = dnaf.try_on(person, garment, mask, person_keypoints, seed=0)

Images are (H, W, 3) uint8 arrays; keypoints (18, 2) normalised (x, y) with NaN for missing
joints (see :mod:`dnaf.applications.poses`). The source may be any picture, a person or an
artwork: it only enters as the appearance reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dnaf.core.device import default_device
from dnaf.core.errors import DataError
from dnaf.io.framing import Fit, fit_image
from dnaf.io.tensors import to_tensor, to_uint8
from dnaf.models.saving import load_model, model_image_size
from dnaf.pipeline import DNAFPipeline, Guidance, SamplerName, make_sampler
from dnaf.pose.render import render_skeleton, skeleton_at

DEFAULT_GUIDANCE = Guidance()


def _batch(image: np.ndarray, signed: bool, device: torch.device) -> torch.Tensor:
    return to_tensor(image, signed=signed).unsqueeze(0).to(device)


def _uint8(images: torch.Tensor) -> np.ndarray:
    return to_uint8(images[:1])[0]


class DNAF:
    """A trained DNAF model (a folder written by ``dnaf train``) ready for the applications."""

    def __init__(
        self,
        model_dir: Path | str,
        device: str | None = None,
        skeleton_size: tuple[int, int] | None = None,
        sampler: SamplerName = "ddim",
    ) -> None:
        self.device = default_device(device)
        model, scheduler = load_model(Path(model_dir))
        self.size = model_image_size(Path(model_dir))
        self.skeleton_size = tuple(skeleton_size or self.size)
        self.pipeline = DNAFPipeline(model.to(self.device).eval(), make_sampler(sampler, scheduler))
        self.model_dir = str(model_dir)

    def skeleton(self, keypoints: np.ndarray) -> np.ndarray:
        """The pose image the model was trained with: drawn at ``skeleton_size``, box-filtered to
        the model's frame."""
        return skeleton_at(render_skeleton(keypoints, self.skeleton_size), self.size)

    def _generate(self, source, keypoints, seed, steps, guidance, inpaint=None) -> np.ndarray:
        generator = torch.Generator(self.device).manual_seed(seed)
        images = self.pipeline(
            _batch(source, True, self.device), _batch(self.skeleton(keypoints), False, self.device), [generator],
            num_inference_steps=steps, guidance=guidance, inpaint=inpaint,
        )  # fmt: skip
        return _uint8(images)

    def _record(self, seed, steps, guidance) -> dict:
        return {"model": self.model_dir, "size": list(self.size), "skeleton_size": list(self.skeleton_size),
                "seed": seed, "steps": steps, "guidance": vars(guidance)}  # fmt: skip

    def transfer(
        self,
        source: np.ndarray,
        keypoints: np.ndarray,
        seed: int = 0,
        steps: int = 50,
        guidance: Guidance = DEFAULT_GUIDANCE,
        fit: Fit = "pad",
    ) -> tuple[np.ndarray, dict]:
        """``source`` (any picture) shown in the pose ``keypoints``, at the model's frame."""
        fitted, framing = fit_image(source, self.size, fit)
        record = {"application": "transfer", "source_framing": framing, **self._record(seed, steps, guidance)}
        return self._generate(fitted, keypoints, seed, steps, guidance), record

    def try_on(
        self,
        person: np.ndarray,
        garment: np.ndarray,
        mask: np.ndarray,
        person_keypoints: np.ndarray,
        seed: int = 0,
        steps: int = 50,
        guidance: Guidance = DEFAULT_GUIDANCE,
        fit: Fit = "pad",
    ) -> tuple[np.ndarray, dict]:
        """Appearance transfer inside ``mask`` (H, W) bool or uint8 (non-zero = replace): the garment
        picture is the appearance reference, the person's pose drives the adapter, and everything
        outside the mask stays the person's pixels exactly (at the model's frame)."""
        if mask.ndim == 3:
            mask = mask.max(axis=2)
        if mask.shape[:2] != person.shape[:2]:
            raise DataError(f"the mask is {mask.shape[0]}x{mask.shape[1]}, the person image "
                             f"{person.shape[0]}x{person.shape[1]}: they must match")  # fmt: skip
        fitted_person, framing = fit_image(person, self.size, fit)
        mask_rgb = np.repeat(((mask > 0) * 255).astype(np.uint8)[..., None], 3, axis=2)
        fitted_mask, _ = fit_image(mask_rgb, self.size, fit, pad_colour=(0, 0, 0), resample=Image.Resampling.NEAREST)
        region = fitted_mask[..., 0] > 127
        fitted_garment, garment_framing = fit_image(garment, self.size, fit)
        inpaint = (_batch(fitted_person, True, self.device),
                   torch.from_numpy(region[None, None].astype(np.float32)).to(self.device))  # fmt: skip
        generated = self._generate(fitted_garment, person_keypoints, seed, steps, guidance, inpaint)
        composite = np.where(region[..., None], generated, fitted_person)
        record = {"application": "try-on", "person_framing": framing, "garment_framing": garment_framing,
                  "mask_pixels": int(region.sum()), **self._record(seed, steps, guidance)}  # fmt: skip
        return composite, record
