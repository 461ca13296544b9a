"""Classifier-free guidance forms of the denoiser: which rows a sampling step computes (pose
kept or dropped, reference read or not) and how their predictions combine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

GuidanceMode = Literal["none", "appearance", "disentangled"]


@dataclass(frozen=True)
class Guidance:
    mode: GuidanceMode = "disentangled"
    pose_scale: float = 1.0
    appearance_scale: float = 2.0

    @property
    def rows(self) -> GuidanceMode:
        """The mode whose rows are computed: ``disentangled`` with w_p = 1 is exactly
        ``appearance`` (its e(0,0) row would be weighted by 1 - w_p = 0)."""
        if self.mode == "disentangled" and self.pose_scale == 1:
            return "appearance"
        return self.mode

    @property
    def branches(self) -> int:
        return {"none": 1, "appearance": 2, "disentangled": 3}[self.rows]

    def branch_rows(self, batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (pose_keep, ref_index), each (branches * batch,), in the order :meth:`combine` reads."""
        images = torch.arange(batch, device=device)
        none = torch.full_like(images, -1)
        on, off = (
            torch.ones(batch, dtype=torch.bool, device=device),
            torch.zeros(batch, dtype=torch.bool, device=device),
        )
        if self.rows == "none":
            return on, images
        if self.rows == "appearance":  # [(p, s), (p, 0)]
            return torch.cat([on, on]), torch.cat([images, none])
        return torch.cat([off, on, on]), torch.cat([none, none, images])  # [(0,0), (p,0), (p,s)]

    def combine(self, prediction: torch.Tensor) -> torch.Tensor:
        """(branches * B, ...) predictions -> (B, ...) guided prediction."""
        if self.rows == "none":
            return prediction
        if self.rows == "appearance":
            styled, plain = prediction.chunk(2)
            return plain + self.appearance_scale * (styled - plain)
        empty, posed, styled = prediction.chunk(3)
        return empty + self.pose_scale * (posed - empty) + self.appearance_scale * (styled - posed)
