"""DNAFPipeline: source images and target poses in, generated images out, as a diffusers pipeline.

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

The pipeline is a ``DiffusionPipeline``: ``save_pretrained`` writes every component (safetensors)
and ``model_index.json``, ``from_pretrained`` reads them back. The noise-aware attention processors
and the injector hooks are not weights: the denoiser composed over the components installs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import PIL.Image
import torch
import torch.nn.functional as F
from diffusers import (
    AutoencoderKL,
    DDIMScheduler,
    DiffusionPipeline,
    DPMSolverMultistepScheduler,
    SchedulerMixin,
    T2IAdapter,
    UNet2DConditionModel,
)
from diffusers.image_processor import VaeImageProcessor
from diffusers.utils import BaseOutput
from huggingface_hub import snapshot_download

from dnaf.core.version import __version__
from dnaf.io.atomic import atomic_folder
from dnaf.io.batches import PictureInput, picture_batch, region_batch
from dnaf.io.images import resize_rgb
from dnaf.models.appearance import AppearanceEncoder
from dnaf.models.config import ModelConfig
from dnaf.models.dnaf_model import DNAFModel
from dnaf.models.guidance import Guidance, GuidanceMode
from dnaf.models.injectors import AppearanceInjectors
from dnaf.models.noise_aware_attention import installed_routing
from dnaf.models.prompt import PromptEmbedding
from dnaf.models.saving import read_model_index
from dnaf.pose.condition import KeypointsInput, skeleton_batch

SamplerName = Literal["ddim", "dpmsolver++"]
Precision = Literal["float32", "bfloat16", "float16"]
OutputType = Literal["pil", "np", "pt", "latent"]
DENOISER_PARTS = ("unet", "vae", "adapter", "appearance_encoder", "injectors", "prompt")
PICKLE_PATTERNS = ["*.bin", "*.ckpt", "*.pt", "*.pth", "*.pkl"]
ATTENTION_IS_FIXED = (
    "DNAF's noise-aware self-attention needs its own processor in every attn1 of the UNet (it also reads the "
    "noised source's keys and values); attention slicing and xFormers would replace it. It already runs PyTorch's "
    "scaled_dot_product_attention, which picks the memory-efficient and flash kernels itself."
)


def _is_hub_id(name: str | Path) -> bool:
    """'owner/name' or 'name', given as a string; anything else is meant as a local folder."""
    return isinstance(name, str) and re.fullmatch(r"[\w.-]+(/[\w.-]+)?", name) is not None and not name.startswith(".")


def make_sampler(name: SamplerName, training_scheduler: SchedulerMixin, space: str = "latent") -> SchedulerMixin:
    """A sampler with the training noise schedule and prediction type. DDIM's last step: in latent
    space it ends at alpha_0 = 1 - beta_0, as diffusers' SD1.5 setting and the peers sample; in
    pixel space it ends at alpha = 1, because 1 - beta_0 leaves sqrt(beta_0) of the noise in the
    picture (0.029 of [-1, 1] with SD's schedule): on the demo it was 40 % of the background's
    grain (benchmarks/background_noise.py, docs/demo.md)."""
    if name == "ddim":
        return DDIMScheduler.from_config(
            training_scheduler.config, clip_sample=False, set_alpha_to_one=space == "pixel"
        )
    if name == "dpmsolver++":
        return DPMSolverMultistepScheduler.from_config(training_scheduler.config, algorithm_type="dpmsolver++")
    raise ValueError(f"unknown sampler {name!r}; expected 'ddim' or 'dpmsolver++'")


@dataclass
class DNAFPipelineOutput(BaseOutput):
    images: list[PIL.Image.Image] | np.ndarray | torch.Tensor
    """``pil``: a list of PIL images; ``np``: (B, H, W, 3) in [0, 1]; ``pt``: (B, 3, H, W) in [0, 1];
    ``latent``: the final sample (B, C, h, w) in the diffusion space (in pixel space the image
    folded into p x p patches)."""


class DNAFPipeline(DiffusionPipeline):
    """Pose-guided person image synthesis: frozen UNet + T2I-Adapter on the skeleton + Swin
    appearance injectors + noise-aware self-attention. ``vae`` is None in pixel space (the CPU
    demo), ``appearance_encoder`` and ``injectors`` are None for a model without injectors."""

    model_cpu_offload_seq = "appearance_encoder->adapter->unet->vae"
    # called inside the UNet's forward (the injectors from its hooks, the prompt by the denoiser),
    # so no offload hook of their own would move them in time: they stay on the device
    _exclude_from_cpu_offload = ["injectors", "prompt"]
    _optional_components = ["vae", "appearance_encoder", "injectors"]
    _callback_tensor_inputs = ["latents"]

    def __init__(
        self,
        unet: UNet2DConditionModel,
        adapter: T2IAdapter,
        prompt: PromptEmbedding,
        scheduler: SchedulerMixin,
        vae: AutoencoderKL | None = None,
        appearance_encoder: AppearanceEncoder | None = None,
        injectors: AppearanceInjectors | None = None,
        model_config: dict | None = None,
        image_size: list[int] | tuple[int, int] = (256, 176),
        skeleton_size: list[int] | tuple[int, int] | None = None,
        guidance_mode: str = "disentangled",
        pose_scale: float = 1.0,
        appearance_scale: float = 2.0,
        dnaf_version: str = __version__,
    ) -> None:
        """``model_config``: :class:`dnaf.models.config.ModelConfig` as a dict; ``image_size``
        (height, width) the model generates at; ``skeleton_size``: where keypoints are drawn
        before being box-filtered to ``image_size`` (the dataset's, default ``image_size``);
        the guidance arguments are the defaults of ``__call__``; ``dnaf_version``: the package
        version that saved the model."""
        super().__init__()
        if guidance_mode not in get_args(GuidanceMode):
            raise ValueError(f"guidance_mode must be one of {get_args(GuidanceMode)}, got {guidance_mode!r}")
        self.register_modules(
            unet=unet, vae=vae, adapter=adapter, appearance_encoder=appearance_encoder, injectors=injectors,
            prompt=prompt, scheduler=scheduler,
        )  # fmt: skip
        self.register_to_config(
            model_config=ModelConfig.model_validate(model_config or {}).model_dump(mode="json"),
            image_size=list(image_size), skeleton_size=list(skeleton_size or image_size), guidance_mode=guidance_mode,
            pose_scale=pose_scale, appearance_scale=appearance_scale, dnaf_version=dnaf_version,
        )  # fmt: skip
        # not a registered component: the composition of the registered modules (the same objects)
        self.denoiser = self._compose()
        self.image_processor = VaeImageProcessor(vae_scale_factor=self.denoiser.latent_factor)

    def _compose(self) -> DNAFModel:
        """The denoiser over the registered modules; it installs the processors and hooks."""
        config = ModelConfig.model_validate(self.config.model_config)
        return DNAFModel(
            config, self.unet, self.adapter, self.prompt, self.vae, self.appearance_encoder, self.injectors
        )

    def __setattr__(self, name: str, value: object) -> None:
        """A component replaced after construction (``pipe.adapter = ...``) is composed in."""
        replaced = self.__dict__.get(name)
        super().__setattr__(name, value)
        if name in DENOISER_PARTS and "denoiser" in self.__dict__:
            if name == "injectors" and replaced is not None:
                replaced.detach()  # its hooks would go on injecting
            self.denoiser = self._compose()

    @classmethod
    def from_model(
        cls,
        model: DNAFModel,
        sampler: SchedulerMixin,
        image_size: tuple[int, int],
        skeleton_size: tuple[int, int] | None = None,
    ) -> DNAFPipeline:
        """A pipeline over the modules of ``model`` (shared, not copied) sampling with ``sampler``."""
        return cls(
            unet=model.unet, adapter=model.adapter, prompt=model.prompt, scheduler=sampler, vae=model.vae,
            appearance_encoder=model.appearance, injectors=model.injectors,
            model_config=model.config.model_dump(mode="json"), image_size=image_size, skeleton_size=skeleton_size,
        )  # fmt: skip

    # -- saving and loading ---------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, **kwargs) -> DNAFPipeline:
        """A local folder, or a Hugging Face Hub repository, which is downloaded first (diffusers
        refuses a Hub pipeline whose components are classes of another package, like ours; from
        a local folder it imports them, running no code from the download). Weights are read
        from safetensors only. A folder in the format before this pipeline raises
        :class:`dnaf.models.saving.OldModelFormatError`, which says how to convert it."""
        folder = Path(pretrained_model_name_or_path)
        if not folder.exists() and _is_hub_id(pretrained_model_name_or_path):
            hub = {
                key: kwargs.pop(key) for key in ("revision", "token", "cache_dir", "local_files_only") if key in kwargs
            }
            folder = Path(snapshot_download(str(pretrained_model_name_or_path), ignore_patterns=PICKLE_PATTERNS, **hub))
        read_model_index(folder)
        return super().from_pretrained(folder, use_safetensors=True, **kwargs)

    def save_pretrained(self, save_directory: str | Path, **kwargs) -> None:
        """diffusers' ``save_pretrained`` (safetensors), written beside ``save_directory`` and
        renamed into it: a reader sees the old folder, the complete new one, or none."""
        self.register_to_config(dnaf_version=__version__)
        if kwargs.get("push_to_hub"):
            kwargs.setdefault("repo_id", Path(save_directory).name)  # not the staging folder's name
        with atomic_folder(Path(save_directory)) as staging:
            super().save_pretrained(staging, **kwargs)

    # -- attention ------------------------------------------------------------------------------
    def set_attention_slice(self, slice_size: int | str | None) -> None:
        """Refused (``enable_attention_slicing`` calls it): see ``ATTENTION_IS_FIXED``."""
        if slice_size is not None:
            raise ValueError(ATTENTION_IS_FIXED)

    def set_use_memory_efficient_attention_xformers(self, valid: bool, attention_op: Callable | None = None) -> None:
        """Refused (``enable_xformers_memory_efficient_attention`` calls it)."""
        if valid:
            raise ValueError(ATTENTION_IS_FIXED)

    def _check_attention(self) -> None:
        if self.denoiser.config.noise_aware and installed_routing(self.unet) is not self.denoiser.routing:
            raise ValueError(
                "the UNet's self-attention processors were replaced (unet.set_attn_processor or the like): load the "
                f"pipeline again. {ATTENTION_IS_FIXED}"
            )

    # -- sampling -------------------------------------------------------------------------------
    @property
    def default_guidance(self) -> Guidance:
        return Guidance(self.config.guidance_mode, self.config.pose_scale, self.config.appearance_scale)

    def _region(self, region: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) pixel region (1 = generate) -> the diffusion space: a cell is inside when
        any of its pixels is, then dilated by one cell."""
        cells = F.max_pool2d(region.float(), self.denoiser.latent_factor)
        return F.max_pool2d(cells, 3, stride=1, padding=1)

    @torch.no_grad()
    def __call__(
        self,
        source_image: PictureInput,
        pose: PictureInput | KeypointsInput,
        num_inference_steps: int = 50,
        guidance: Guidance | None = None,
        generator: torch.Generator | list[torch.Generator] | None = None,
        latents: torch.Tensor | None = None,
        inpaint_image: PictureInput | None = None,
        mask_image: PictureInput | None = None,
        output_type: OutputType = "pil",
        return_dict: bool = True,
        callback_on_step_end: Callable[[DNAFPipeline, int, torch.Tensor, dict], dict] | None = None,
        callback_on_step_end_tensor_inputs: tuple[str, ...] = ("latents",),
        precision: Precision = "float32",
        source_pose: PictureInput | KeypointsInput | None = None,
    ) -> DNAFPipelineOutput | tuple:
        """Generate each source's person in the given pose.

        ``source_image``: PIL image(s), (H, W, 3) / (B, H, W, 3) arrays (uint8, or float in
        [0, 1]) or (3, H, W) / (B, 3, H, W) tensors in [-1, 1]; ``pose``: skeleton picture(s) in
        the same forms (tensors in [0, 1], as T2I-Adapter takes them), or keypoints (18, 2)
        normalised (x, y) with NaN for a missing joint (a list, or (B, 18, 2)), drawn here.
        Pictures are brought to ``config.image_size``; a batch of one source or pose serves a
        batch of the other. ``generator``: one per image (an image then depends only on its
        inputs and seed), or one for the batch. ``latents``: (B, C, h, w) initial noise instead of
        the generator's (which still draws the reference noise). ``guidance``: default the
        config's. ``inpaint_image`` (as the source) and ``mask_image`` (non-zero = generate,
        (H, W) or (B, 1, H, W)): keep the known image outside the mask (try-on). ``precision``:
        the denoiser, encoders and decoder run under autocast to it (no copy of the weights);
        samples and the sampler's arithmetic stay float32; float32 leaves a caller's autocast on.
        ``source_pose``: the sources' own poses, in the forms of ``pose``, one per source; needed
        only by a model trained with ``reference_pose: source``.
        """
        unknown = set(callback_on_step_end_tensor_inputs) - set(self._callback_tensor_inputs)
        if unknown:
            raise ValueError(
                f"callback_on_step_end_tensor_inputs: {sorted(unknown)} not in {self._callback_tensor_inputs}"
            )
        if output_type not in ("pil", "np", "pt", "latent"):
            raise ValueError(f"output_type must be 'pil', 'np', 'pt' or 'latent', got {output_type!r}")
        if (inpaint_image is None) != (mask_image is None):
            raise ValueError("inpainting needs both inpaint_image and mask_image")
        self._check_attention()
        device, size = self._execution_device, tuple(self.config.image_size)
        resize = partial(resize_rgb, method="bicubic-antialias")
        sources = picture_batch(source_image, size, signed=True, resize=resize, what="source_image").to(device)
        skeletons = skeleton_batch(pose, size, tuple(self.config.skeleton_size)).to(device)
        batch = max(len(sources), len(skeletons))
        if {len(sources), len(skeletons)} - {1, batch}:
            raise ValueError(f"got {len(sources)} source images and {len(skeletons)} poses")
        sources, skeletons = sources.expand(batch, -1, -1, -1), skeletons.expand(batch, -1, -1, -1)
        source_skeletons = None
        if source_pose is not None:
            source_skeletons = skeleton_batch(source_pose, size, tuple(self.config.skeleton_size)).to(device)
            if len(source_skeletons) not in (1, batch):
                raise ValueError(f"got {batch} images and {len(source_skeletons)} source poses")
            source_skeletons = source_skeletons.expand(batch, -1, -1, -1)
        generators = generator if isinstance(generator, list) else [generator] * batch
        if len(generators) != batch:
            raise ValueError(f"got {batch} images and {len(generators)} generators")
        inpaint = None
        if inpaint_image is not None:
            known = picture_batch(inpaint_image, size, signed=True, resize=resize, what="inpaint_image")
            inpaint = (known.to(device), region_batch(mask_image, size).to(device))

        # float32 leaves the caller's autocast as it is (training validates under its mixed precision)
        half = precision != "float32"
        with torch.autocast(device.type, getattr(torch, precision)) if half else nullcontext():
            sample = self._sample(
                sources, skeletons, generators, num_inference_steps, guidance or self.default_guidance, latents,
                inpaint, callback_on_step_end, tuple(callback_on_step_end_tensor_inputs), source_skeletons,
            )  # fmt: skip
            images = sample if output_type == "latent" else self.denoiser.decode(sample).float()
        self.maybe_free_model_hooks()
        images = self.image_processor.postprocess(images, output_type=output_type)
        return DNAFPipelineOutput(images=images) if return_dict else (images,)

    def _noise(
        self, shape: torch.Size, generators: list[torch.Generator | None], device: torch.device, dtype: torch.dtype
    ) -> torch.Tensor:
        """(B, *shape): one draw per image from its generator (float32 on the generator's device)."""
        draws = [
            torch.randn(shape, generator=g, device=device if g is None else g.device, dtype=torch.float32)
            for g in generators
        ]
        return torch.stack(draws).to(device, dtype)

    def _sample(
        self,
        sources: torch.Tensor,
        skeletons: torch.Tensor,
        generators: list[torch.Generator | None],
        num_inference_steps: int,
        guidance: Guidance,
        latents: torch.Tensor | None,
        inpaint: tuple[torch.Tensor, torch.Tensor] | None,
        step_end: Callable | None,
        step_end_inputs: tuple[str, ...],
        source_skeletons: torch.Tensor | None,
    ) -> torch.Tensor:
        """The sampling loop: sources (B, 3, H, W) in [-1, 1], skeletons (B, 3, H, W) in [0, 1],
        one generator per image, ``inpaint`` = (known images (B, 3, H, W) in [-1, 1], region
        (B, 1, H, W), 1 = generate), ``source_skeletons`` the sources' own poses (B, 3, H, W) or
        None -> the final sample (B, C, h, w) in the diffusion space."""
        model, scheduler = self.denoiser, self.scheduler
        batch = sources.shape[0]
        device, dtype = sources.device, model.unet.dtype
        source_sample = model.encode(sources).to(dtype)  # (B, C, h, w)
        tokens = model.appearance_tokens(sources.to(dtype))
        pose_keep, ref_index = guidance.branch_rows(batch, device)
        posed = model.pose_residuals(skeletons.to(dtype))
        residuals = [feature.repeat(guidance.branches, 1, 1, 1) * pose_keep.view(-1, 1, 1, 1) for feature in posed]
        ref_residuals = model.reference_pose(None if source_skeletons is None else source_skeletons.to(dtype))

        shape = source_sample.shape[1:]
        noise = self._noise(shape, generators, device, dtype)  # drawn with latents too: the same source noise
        if latents is not None:
            if latents.shape != (batch, *shape):
                raise ValueError(f"latents must have shape {(batch, *shape)}, got {tuple(latents.shape)}")
            noise = latents.to(device, dtype)
        sample = noise * scheduler.init_noise_sigma
        source_noise = self._noise(shape, generators, device, dtype)
        if inpaint is not None:
            known = model.encode(inpaint[0]).to(dtype)
            region = self._region(inpaint[1]).to(dtype)
            known_noise = self._noise(shape, generators, device, dtype)

        scheduler.set_timesteps(num_inference_steps, device=device)
        for i, t in enumerate(self.progress_bar(scheduler.timesteps)):
            steps = t.expand(batch).to(device)
            if inpaint is not None:
                sample = region * sample + (1 - region) * scheduler.add_noise(known, known_noise, steps)
            rows = scheduler.scale_model_input(sample, t).repeat(guidance.branches, 1, 1, 1)
            reference = ref_steps = None  # no reference rows at steps where none is read
            if model.reads_reference(int(t)):
                reference, ref_steps = model.reference_rows(source_sample, source_noise, steps, scheduler)
                if model.config.reference_timestep == "same":
                    # add_noise gives the sampler's own space (Euler's x + sigma * noise): the
                    # reference is scaled into the model's input like the main rows (identity for
                    # DDIM, DPM-Solver); a clean reference is already the model's input at t = 0
                    reference = scheduler.scale_model_input(reference, t)
            prediction = model(
                rows, steps.repeat(guidance.branches), residuals, ref_index, reference, ref_steps, tokens, ref_residuals
            )
            combined = guidance.combine(prediction.to(sample.dtype))  # the sampler works in float32
            sample = scheduler.step(combined, t, sample).prev_sample
            if step_end is not None:
                available = {"latents": sample}
                outputs = step_end(self, i, t, {name: available[name] for name in step_end_inputs})
                sample = outputs.get("latents", sample)
        if inpaint is not None:
            sample = region * sample + (1 - region) * known
        return sample
