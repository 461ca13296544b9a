"""The page's actions: its inputs (pictures as arrays, the chosen pose, the mask, the sampling
settings) -> a :class:`DNAF` call -> (image, record). A problem with the inputs becomes a
``gr.Error`` whose message the page shows; nothing else of it reaches the browser."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import gradio as gr
import numpy as np
from PIL import Image

from dnaf.applications.api import DNAF
from dnaf.applications.app.choices import Choices
from dnaf.core.errors import DnafError
from dnaf.io.framing import fit_image, fit_keypoints
from dnaf.pipeline import Guidance

logger = logging.getLogger(__name__)

POSE_FROM = ("gallery", "photo")
"""Where the target pose comes from: the pose gallery, or a photo of a person (extracted)."""
MASK_FROM = ("drawn", "uploaded", "upper garment")
"""The try-on region: painted over the person, a mask picture, or the upper garment of a test
person (datasets with part label maps)."""


@dataclass(frozen=True)
class Sampling:
    """The settings every action takes, as the page's controls give them."""

    steps: int
    mode: str
    pose_scale: float
    appearance_scale: float
    seed: int

    def guidance(self) -> Guidance:
        return Guidance(self.mode, float(self.pose_scale), float(self.appearance_scale))

    def checked(self) -> Sampling:
        if self.steps is None or int(self.steps) < 1:
            raise _refused("steps must be at least 1")
        if self.seed is None or int(self.seed) < 0:
            raise _refused("the seed must be a whole number from 0")
        if self.pose_scale is None or self.appearance_scale is None:
            raise _refused("both guidance scales need a value")
        return self


def _refused(message: str) -> gr.Error:
    """An input error for the page to show; the server's log gets one line, not a traceback."""
    logger.warning("page input refused: %s", message)
    return gr.Error(message, print_exception=False)


def _required(
    picture: np.ndarray | None, what: str, hint: str = "upload one or pick one of the examples"
) -> np.ndarray:
    if picture is None:
        raise _refused(f"no {what}: {hint}")
    return picture


def drawn_mask(editor: dict | None, size: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: wherever a layer of the image editor's value was painted, at ``size``."""
    layers = [layer for layer in (editor or {}).get("layers") or [] if layer is not None]
    painted = [np.asarray(layer)[..., 3] > 0 for layer in layers if np.asarray(layer).ndim == 3]
    if not painted or not any(p.any() for p in painted):
        raise _refused("nothing is painted: brush over the region to replace, or pick another mask")
    mask = np.logical_or.reduce([p for p in painted if p.shape == painted[0].shape])
    if mask.shape != tuple(size):  # the editor's canvas may differ from the person picture
        mask = np.asarray(Image.fromarray(mask).resize((size[1], size[0]), Image.Resampling.NEAREST))
    return mask


class Actions:
    """What the page's buttons do, over one loaded model and the page's choices."""

    def __init__(self, engine: DNAF, choices: Choices) -> None:
        self.engine, self.choices = engine, choices

    def pose_keypoints(self, position: int | None) -> np.ndarray:
        if position is None or not 0 <= position < len(self.choices.poses):
            raise _refused("no pose chosen: click one in the pose gallery")
        return self.choices.poses[position][1]

    def transfer(
        self,
        source: np.ndarray | None,
        pose_from: str,
        pose_position: int | None,
        pose_photo: np.ndarray | None,
        sampling: Sampling,
    ) -> tuple[np.ndarray, dict]:
        """The source picture in the chosen pose."""
        source = _required(source, "source picture")
        sampling = sampling.checked()
        if pose_from == "photo":
            pose, origin = _required(pose_photo, "pose photo"), {"pose": "extracted from the uploaded photo"}
        else:
            pose = self.pose_keypoints(pose_position)
            origin = {"pose": f"{self.choices.origin}: {self.choices.poses[pose_position][0]}"}
        try:
            image, record = self.engine.transfer(
                source, pose, int(sampling.seed), int(sampling.steps), sampling.guidance()
            )
        except (DnafError, ValueError) as error:
            raise _refused(str(error)) from None
        return image, {**record, **origin}

    def try_on(
        self,
        person: np.ndarray | None,
        person_name: str | None,
        garment: np.ndarray | None,
        mask_from: str,
        mask_drawn: dict | None,
        mask_uploaded: np.ndarray | None,
        sampling: Sampling,
    ) -> tuple[np.ndarray, dict]:
        """The garment's look inside the mask over the person; the person's pose is the test
        picture's keypoints when the person is one (``person_name``), else extracted."""
        person, garment = _required(person, "person picture"), _required(garment, "garment picture")
        sampling = sampling.checked()
        mask = self.mask(person, person_name, mask_from, mask_drawn, mask_uploaded)
        keypoints = self.test_keypoints(person, person_name)
        try:
            image, record = self.engine.try_on(
                person, garment, mask, keypoints, int(sampling.seed), int(sampling.steps), sampling.guidance()
            )
        except (DnafError, ValueError) as error:
            raise _refused(str(error)) from None
        origin = "the test picture's keypoints" if keypoints is not None else "extracted from the person picture"
        return image, {**record, "person": person_name or "uploaded", "mask": mask_from, "pose": origin}

    def mask(
        self,
        person: np.ndarray,
        person_name: str | None,
        mask_from: str,
        mask_drawn: dict | None,
        mask_uploaded: np.ndarray | None,
    ) -> np.ndarray:
        """The try-on region as the page gives it (the API checks that it matches the person)."""
        if mask_from == "uploaded":
            return _required(mask_uploaded, "mask picture", "upload one, or paint the region")
        if mask_from == "drawn":
            return drawn_mask(mask_drawn, person.shape[:2])
        if person_name is None:
            raise _refused("the upper-garment mask needs a person picked from the examples")
        try:
            return self.choices.upper_garment(person_name, person.shape[:2])
        except (DnafError, FileNotFoundError) as error:
            raise _refused(str(error)) from None

    def test_keypoints(self, person: np.ndarray, person_name: str | None) -> np.ndarray | None:
        """A test person's annotated keypoints, fitted to the model's frame as the picture will be;
        None for an uploaded person (the API extracts the pose)."""
        names = [name for name, _ in self.choices.poses]
        if person_name not in names:
            return None
        framing = fit_image(person, self.engine.size)[1]
        return fit_keypoints(self.choices.poses[names.index(person_name)][1], framing)
