"""DNAFPipeline: batches of (source image, target skeleton) in, generated images out.

Per image, the Swin pyramid, the text embedding (a buffer) and the pose residuals are computed
once; at each step ONE reference row (the source latent noised to the step's timestep) serves
every guidance branch, because it depends only on the source, the timestep and the text:

- ``none``: rows (pose, style) + reference: 2 rows per image per step;
- ``appearance``: e(p,0) + w_s (e(p,s) - e(p,0)): 3 rows;
- ``disentangled`` (CFLD's form): e(0,0) + w_p (e(p,0) - e(0,0)) + w_s (e(p,s) - e(p,0)): 4 rows.
  With w_p = 1 the e(0,0) row has weight 0 and the formula is the ``appearance`` one, so it runs
  as that: 3 rows, the same images.

Each image draws its initial noise and its source noise from its own generator, so an image
depends only on its inputs and seed, not on the rest of the batch (with deterministic samplers:
DDIM with eta 0, DPM-Solver++).

Inpainting (appearance transfer inside a mask): given known images and a region, at every step
the sample outside the region (dilated by one cell of the diffusion space) is replaced by the known
image noised to that step, and by the clean known image at the end.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, SchedulerMixin
from tqdm import tqdm

from dnaf.models.dnaf_model import DNAFModel

GuidanceMode = Literal["none", "appearance", "disentangled"]
SamplerName = Literal["ddim", "dpmsolver++"]


def make_sampler(name: SamplerName, training_scheduler: SchedulerMixin) -> SchedulerMixin:
    """A sampler with the training noise schedule and prediction type."""
    if name == "ddim":
        return DDIMScheduler.from_config(training_scheduler.config, clip_sample=False, set_alpha_to_one=False)
    if name == "dpmsolver++":
        return DPMSolverMultistepScheduler.from_config(training_scheduler.config, algorithm_type="dpmsolver++")
    raise ValueError(f"unknown sampler {name!r}; expected 'ddim' or 'dpmsolver++'")


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


Precision = Literal["float32", "bfloat16", "float16"]


class DNAFPipeline:
    def __init__(self, model: DNAFModel, scheduler: SchedulerMixin, precision: Precision = "float32") -> None:
        """``precision``: the denoiser, encoders and decoder run under autocast to it (no copy of
        the weights); samples and the sampler's arithmetic stay float32."""
        self.model = model
        self.scheduler = scheduler
        self.precision = precision

    def _branches(self, guidance: Guidance, batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (pose_keep, ref_index), each (branches * batch,), in the order the outputs combine."""
        images = torch.arange(batch, device=device)
        none = torch.full_like(images, -1)
        on, off = (
            torch.ones(batch, dtype=torch.bool, device=device),
            torch.zeros(batch, dtype=torch.bool, device=device),
        )
        if guidance.rows == "none":
            return on, images
        if guidance.rows == "appearance":  # [(p, s), (p, 0)]
            return torch.cat([on, on]), torch.cat([images, none])
        return torch.cat([off, on, on]), torch.cat([none, none, images])  # [(0,0), (p,0), (p,s)]

    @staticmethod
    def _combine(prediction: torch.Tensor, guidance: Guidance) -> torch.Tensor:
        if guidance.rows == "none":
            return prediction
        if guidance.rows == "appearance":
            styled, plain = prediction.chunk(2)
            return plain + guidance.appearance_scale * (styled - plain)
        empty, posed, styled = prediction.chunk(3)
        return empty + guidance.pose_scale * (posed - empty) + guidance.appearance_scale * (styled - posed)

    def _region(self, region: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) pixel region (1 = generate) -> the diffusion space: a cell is inside when
        any of its pixels is, then dilated by one cell."""
        cells = F.max_pool2d(region.float(), self.model.latent_factor)
        return F.max_pool2d(cells, 3, stride=1, padding=1)

    @torch.no_grad()
    def __call__(
        self,
        sources: torch.Tensor,
        skeletons: torch.Tensor,
        generators: list[torch.Generator],
        num_inference_steps: int = 50,
        guidance: Guidance = Guidance(),
        progress: bool = False,
        inpaint: tuple[torch.Tensor, torch.Tensor] | None = None,
        source_skeletons: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """sources (B, 3, H, W) in [-1, 1]; skeletons (B, 3, H, W) in [0, 1] at the same size; one
        generator per image; ``inpaint`` = (known images (B, 3, H, W) in [-1, 1], region
        (B, 1, H, W), 1 where to generate); ``source_skeletons`` (B, 3, H, W) in [0, 1], the
        sources' own poses (needed only by a model with ``reference_pose: source``). Returns
        (B, 3, H, W) images in [-1, 1]."""
        # float32 leaves the caller's autocast as it is (training validates under its mixed precision)
        half = self.precision != "float32"
        context = torch.autocast(sources.device.type, getattr(torch, self.precision)) if half else nullcontext()
        with context:
            return self._sample(
                sources, skeletons, generators, num_inference_steps, guidance, progress, inpaint, source_skeletons
            )

    def _sample(
        self, sources, skeletons, generators, num_inference_steps, guidance, progress, inpaint, source_skeletons
    ) -> torch.Tensor:
        model, scheduler = self.model, self.scheduler
        batch = sources.shape[0]
        if skeletons.shape[0] != batch or len(generators) != batch:
            raise ValueError(f"got {batch} sources, {skeletons.shape[0]} skeletons and {len(generators)} generators")
        device, dtype = sources.device, model.unet.dtype
        source_sample = model.encode(sources).to(dtype)  # (B, C, h, w)
        tokens = model.appearance_tokens(sources.to(dtype))
        pose_keep, ref_index = self._branches(guidance, batch, device)
        posed = model.pose_residuals(skeletons.to(dtype))
        residuals = [feature.repeat(guidance.branches, 1, 1, 1) * pose_keep.view(-1, 1, 1, 1) for feature in posed]
        ref_residuals = model.reference_pose(None if source_skeletons is None else source_skeletons.to(dtype))

        shape = source_sample.shape[1:]
        noise = [torch.randn(shape, generator=g, device=g.device, dtype=torch.float32) for g in generators]
        source_noise = [torch.randn(shape, generator=g, device=g.device, dtype=torch.float32) for g in generators]
        sample = torch.stack(noise).to(device, dtype) * scheduler.init_noise_sigma
        source_noise = torch.stack(source_noise).to(device, dtype)
        if inpaint is not None:
            known = model.encode(inpaint[0].to(device)).to(dtype)
            region = self._region(inpaint[1].to(device)).to(dtype)
            known_noise = [torch.randn(shape, generator=g, device=g.device, dtype=torch.float32) for g in generators]
            known_noise = torch.stack(known_noise).to(device, dtype)

        scheduler.set_timesteps(num_inference_steps, device=device)
        for t in tqdm(scheduler.timesteps, disable=not progress, desc="sampling", leave=False):
            steps = t.expand(batch).to(device)
            if inpaint is not None:
                sample = region * sample + (1 - region) * scheduler.add_noise(known, known_noise, steps)
            rows = scheduler.scale_model_input(sample, t).repeat(guidance.branches, 1, 1, 1)
            reference = ref_steps = None
            if model.reads_reference(int(t)):
                reference, ref_steps = model.reference_rows(source_sample, source_noise, steps, scheduler)
            prediction = model(
                rows, steps.repeat(guidance.branches), residuals, ref_index, reference, ref_steps, tokens, ref_residuals
            )
            combined = self._combine(prediction.to(sample.dtype), guidance)  # the sampler works in float32
            sample = scheduler.step(combined, t, sample).prev_sample
        if inpaint is not None:
            sample = region * sample + (1 - region) * known
        return model.decode(sample).float()
