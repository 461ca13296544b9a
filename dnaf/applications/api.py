"""The Python API of the applications (the CLI's ``transfer`` and ``try-on`` call it).

    from dnaf import DNAF
    dnaf = DNAF("results/demo/train/model", skeleton_size=(256, 176))
    image, record = dnaf.transfer("painting.jpg", "dancer.jpg", seed=0)  # pose from a photo
    image, record = dnaf.transfer(Image.open("me.jpg"), keypoints, seed=0)
    dressed, record = dnaf.try_on("me.jpg", "shirt.jpg", "mask.png", seed=0)  # my own pose

Pictures are (H, W, 3) uint8 arrays, PIL images or image files; keypoints (18, 2) normalised
(x, y) with NaN for missing joints (see :mod:`dnaf.applications.poses`). A pose given as a
picture is extracted from it (``pose_extraction`` settings). The source may be any picture, a
person or an artwork: it only enters as the appearance reference. Results are (H, W, 3) uint8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dnaf.applications.poses import Picture, as_picture, from_picture
from dnaf.core.device import default_device
from dnaf.core.errors import DataError
from dnaf.data.keypoints import NUM_KEYPOINTS
from dnaf.io.framing import Fit, fit_image, fit_keypoints
from dnaf.pipeline import DNAFPipeline, Guidance, Precision, SamplerName, make_sampler
from dnaf.pose.config import PoseExtractionConfig
from dnaf.pose.render import render_skeleton, skeleton_at

DEFAULT_GUIDANCE = Guidance()


class DNAF:
    """A trained DNAF model (a folder written by ``dnaf train``) ready for the applications."""

    def __init__(
        self,
        model_dir: Path | str,
        device: str | None = None,
        skeleton_size: tuple[int, int] | None = None,
        sampler: SamplerName = "ddim",
        pose_extraction: PoseExtractionConfig | None = None,
        precision: Precision = "float32",
    ) -> None:
        self.device = default_device(device)
        self.pose_extraction = pose_extraction or PoseExtractionConfig()
        self.pipeline = DNAFPipeline.from_pretrained(Path(model_dir)).to(self.device)
        self.pipeline.scheduler = make_sampler(sampler, self.pipeline.scheduler, self.pipeline.denoiser.config.space)
        self.pipeline.set_progress_bar_config(disable=True)
        self.precision = precision
        self.size = tuple(self.pipeline.config.image_size)
        self.skeleton_size = tuple(skeleton_size or self.size)
        self.model_dir = str(model_dir)

    def skeleton(self, keypoints: np.ndarray) -> np.ndarray:
        """The pose image the model was trained with: drawn at ``skeleton_size``, box-filtered to
        the model's frame."""
        return skeleton_at(render_skeleton(keypoints, self.skeleton_size), self.size)

    def _generate(self, source, keypoints, seed, steps, guidance, known=None, region=None, source_keypoints=None):
        generator = torch.Generator(self.device).manual_seed(seed)
        source_pose = None if source_keypoints is None else self.skeleton(source_keypoints)
        images = self.pipeline(
            source, self.skeleton(keypoints), steps, guidance, generator, inpaint_image=known, mask_image=region,
            precision=self.precision, source_pose=source_pose,
        ).images  # fmt: skip
        return np.asarray(images[0])

    def _reference_pose(self, picture: np.ndarray, framing, what: str) -> tuple[np.ndarray | None, dict]:
        """The reference picture's own keypoints (in the model's frame) when the model reads its
        reference with the reference's pose (``reference_pose: source``), else None."""
        if self.pipeline.denoiser.config.reference_pose != "source":
            return None, {}
        keypoints, record = from_picture(picture, self.pose_extraction, what)
        return fit_keypoints(keypoints, framing), {"reference_pose": record}

    def _pose(self, pose: np.ndarray | Picture, fit: Fit) -> tuple[np.ndarray, dict]:
        """Keypoints as given, or extracted from a picture and brought to the model's frame the
        way the picture would be."""
        if isinstance(pose, np.ndarray) and pose.shape == (NUM_KEYPOINTS, 2):
            return pose, {}
        picture = as_picture(pose, "pose picture")
        keypoints, record = from_picture(picture, self.pose_extraction)
        return fit_keypoints(keypoints, fit_image(picture, self.size, fit)[1]), record

    def _record(self, seed, steps, guidance) -> dict:
        return {"model": self.model_dir, "size": list(self.size), "skeleton_size": list(self.skeleton_size),
                "seed": seed, "steps": steps, "guidance": vars(guidance)}  # fmt: skip

    def transfer(
        self,
        source: Picture,
        pose: np.ndarray | Picture,
        seed: int = 0,
        steps: int = 50,
        guidance: Guidance = DEFAULT_GUIDANCE,
        fit: Fit = "pad",
    ) -> tuple[np.ndarray, dict]:
        """``source`` (any picture) shown in ``pose`` (keypoints, or a picture of a person whose
        pose is extracted), at the model's frame."""
        source = as_picture(source, "source")
        fitted, framing = fit_image(source, self.size, fit)
        keypoints, pose_record = self._pose(pose, fit)
        source_keypoints, source_record = self._reference_pose(source, framing, "source picture")
        record = {"application": "transfer", "source_framing": framing, **pose_record, **source_record,
                  **self._record(seed, steps, guidance)}  # fmt: skip
        return self._generate(fitted, keypoints, seed, steps, guidance, source_keypoints=source_keypoints), record

    def try_on(
        self,
        person: Picture,
        garment: Picture,
        mask: Picture,
        person_keypoints: np.ndarray | Picture | None = None,
        seed: int = 0,
        steps: int = 50,
        guidance: Guidance = DEFAULT_GUIDANCE,
        fit: Fit = "pad",
    ) -> tuple[np.ndarray, dict]:
        """Appearance transfer inside ``mask`` (H, W) bool or uint8 (non-zero = replace): the garment
        picture is the appearance reference, the person's pose drives the adapter, and everything
        outside the mask stays the person's pixels exactly (at the model's frame). The pose:
        ``person_keypoints`` (in the model's frame), a picture to extract it from, or, by default,
        the person photo's own."""
        person, garment = as_picture(person, "person"), as_picture(garment, "garment")
        mask = mask if isinstance(mask, np.ndarray) else as_picture(mask, "mask")
        if mask.ndim == 3:
            mask = mask.max(axis=2)
        if mask.shape[:2] != person.shape[:2]:
            raise DataError(f"the mask is {mask.shape[0]}x{mask.shape[1]}, the person image "
                             f"{person.shape[0]}x{person.shape[1]}: they must match")  # fmt: skip
        fitted_person, framing = fit_image(person, self.size, fit)
        if person_keypoints is None:
            keypoints, pose_record = from_picture(person, self.pose_extraction, "person picture")
            person_keypoints = fit_keypoints(keypoints, framing)
        else:
            person_keypoints, pose_record = self._pose(person_keypoints, fit)
        mask_rgb = np.repeat(((mask > 0) * 255).astype(np.uint8)[..., None], 3, axis=2)
        fitted_mask, _ = fit_image(mask_rgb, self.size, fit, pad_colour=(0, 0, 0), resample=Image.Resampling.NEAREST)
        region = fitted_mask[..., 0] > 127
        fitted_garment, garment_framing = fit_image(garment, self.size, fit)
        garment_keypoints, garment_record = self._reference_pose(garment, garment_framing, "garment picture")
        generated = self._generate(fitted_garment, person_keypoints, seed, steps, guidance, fitted_person, region,
                                   garment_keypoints)  # fmt: skip
        composite = np.where(region[..., None], generated, fitted_person)
        record = {"application": "try-on", "person_framing": framing, "garment_framing": garment_framing,
                  "mask_pixels": int(region.sum()), **pose_record, **garment_record,
                  **self._record(seed, steps, guidance)}  # fmt: skip
        return composite, record
