"""The DNAF denoiser: frozen UNet + pose adapter + appearance injectors + noise-aware attention.

One UNet call carries ``M`` main rows (the images being generated, possibly several guidance
branches of one image) and ``R`` reference rows (each source latent noised to the same
timestep). ``ref_index[m]`` names the reference row main row ``m`` reads, -1 for none.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, T2IAdapter, UNet2DConditionModel
from torch import nn

from dnaf.models.appearance import AppearanceEncoder
from dnaf.models.config import ModelConfig
from dnaf.models.injectors import AppearanceInjectors
from dnaf.models.noise_aware_attention import RowRouting, install_noise_aware_attention
from dnaf.models.prompt import PromptEmbedding


class DNAFModel(nn.Module):
    def __init__(
        self,
        config: ModelConfig,
        unet: UNet2DConditionModel,
        adapter: T2IAdapter,
        prompt: PromptEmbedding,
        vae: AutoencoderKL | None = None,
        appearance: AppearanceEncoder | None = None,
        injectors: AppearanceInjectors | None = None,
    ) -> None:
        super().__init__()
        if config.injectors != (injectors is not None) or (injectors is not None and appearance is None):
            raise ValueError("config.injectors must match the injectors and appearance encoder given")
        if (config.space == "latent") != (vae is not None):
            raise ValueError(f"space '{config.space}' {'needs' if vae is None else 'takes no'} VAE")
        self.config = config
        self.unet = unet
        self.adapter = adapter
        self.vae = vae
        self.appearance = appearance
        self.injectors = injectors
        self.prompt = prompt
        # processors and hooks are not saved with the weights: every composition installs them,
        # idempotently, so that models and pipelines over one UNet share them
        self.routing = install_noise_aware_attention(unet) if config.noise_aware else RowRouting()
        if injectors is not None:
            injectors.attach(unet)
        self.requires_grad_(False)
        for module in self.trainable_modules():
            module.requires_grad_(True)

    def train(self, mode: bool = True) -> DNAFModel:
        """Only the trainable modules follow ``mode``; the frozen ones stay in eval mode, so that
        their dropout and stochastic depth (Swin's drop_path_rate 0.1 in transformers' defaults)
        never fire: a frozen module computes in training exactly what it computes at test time."""
        super().train(mode)
        for module in self.frozen_modules():
            module.eval()
        return self

    def frozen_modules(self) -> list[nn.Module]:
        """The base models that are not trained: UNet, VAE, Swin unless the config trains them."""
        trainable = {id(module) for module in self.trainable_modules()}
        return [m for m in (self.unet, self.vae, self.appearance) if m is not None and id(m) not in trainable]

    def trainable_modules(self) -> list[nn.Module]:
        modules: list[nn.Module] = [self.adapter]
        if self.injectors is not None:
            modules.append(self.injectors)
        if self.config.train_unet:
            modules.append(self.unet)
        if self.config.train_swin and self.appearance is not None:
            modules.append(self.appearance)
        return modules

    # -- the spaces ---------------------------------------------------------------------------
    @property
    def latent_factor(self) -> int:
        """Pixels per latent cell along each side (8 for SD1.5's VAE, 1 in pixel space)."""
        if self.vae is None:
            return self.config.pixel_patch
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> the diffusion space: scaled VAE latent means, or the pixels
        folded into patches (B, 3 p^2, H / p, W / p)."""
        if self.vae is None:
            return F.pixel_unshuffle(images, self.config.pixel_patch)
        posterior = self.vae.encode(images.to(self.vae.dtype)).latent_dist
        return posterior.mean * self.vae.config.scaling_factor

    @torch.no_grad()
    def decode(self, sample: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`encode`: -> (B, 3, H, W) in [-1, 1] (clamped)."""
        if self.vae is None:
            return F.pixel_shuffle(sample, self.config.pixel_patch).clamp(-1, 1)
        sample = self.vae.decode(sample.to(self.vae.dtype) / self.vae.config.scaling_factor).sample
        return sample.clamp(-1, 1)

    # -- conditions ---------------------------------------------------------------------------
    def pose_residuals(self, skeletons: torch.Tensor, keep: torch.Tensor | None = None) -> list[torch.Tensor]:
        """(B, 3, H, W) skeletons in [0, 1] -> adapter features per UNet level; rows where ``keep`` is
        False (pose dropped) are zero."""
        features = self.adapter(skeletons.to(self.adapter.dtype))
        if keep is not None:
            mask = keep.to(features[0].dtype).view(-1, 1, 1, 1)
            features = [feature * mask for feature in features]
        return features

    def appearance_tokens(self, sources: torch.Tensor) -> dict[int, torch.Tensor] | None:
        """(R, 3, H, W) source images in [-1, 1] -> Swin tokens per stage (None without injectors)."""
        if self.appearance is None:
            return None
        return self.appearance(sources)

    # -- the reference rows ---------------------------------------------------------------------
    def reference_rows(
        self, source_sample: torch.Tensor, source_noise: torch.Tensor, timesteps: torch.Tensor, scheduler
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(R, C, h, w) clean sources, their noise and the main rows' (R,) timesteps -> the
        reference rows and their timesteps (``model.reference_timestep``): the source noised to
        the same timestep, or the clean source at t = 0."""
        if self.config.reference_timestep == "clean":
            return source_sample, torch.zeros_like(timesteps)
        return scheduler.add_noise(source_sample, source_noise, timesteps), timesteps

    def reference_pose(self, source_skeletons: torch.Tensor | None) -> list[torch.Tensor] | None:
        """Adapter residuals of the reference rows: those of the sources' own skeletons (R, 3, H,
        W) with ``model.reference_pose: source``, else None (zero residuals)."""
        if self.config.reference_pose != "source":
            return None
        if source_skeletons is None:
            raise ValueError("model.reference_pose: source needs the sources' skeletons")
        return self.pose_residuals(source_skeletons)

    def reads_reference(self, timestep: int) -> bool:
        """Whether main rows at ``timestep`` read a reference (``model.reference_until``): the
        sampler leaves the reference rows out of the steps where none would be read."""
        until = self.config.reference_until
        return self.config.noise_aware and (until is None or timestep < until)

    # -- the denoiser -------------------------------------------------------------------------
    def forward(
        self,
        sample: torch.Tensor,
        timesteps: torch.Tensor,
        residuals: list[torch.Tensor] | None,
        ref_index: torch.Tensor,
        ref_sample: torch.Tensor | None = None,
        ref_timesteps: torch.Tensor | None = None,
        tokens: dict[int, torch.Tensor] | None = None,
        ref_residuals: list[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Predict for the M main rows.

        sample (M, C, h, w) and timesteps (M,): the rows being denoised; residuals: adapter
        features, each (M, C_l, h_l, w_l), zero rows for a dropped pose; ref_index (M,) long:
        reference row (and Swin tokens) of each main row, -1 = no style; ref_sample (R, C, h, w)
        and ref_timesteps (R,): the reference rows (noise-aware feature); tokens: {stage: (R, L,
        C)} Swin tokens; ref_residuals: adapter features of the reference rows, each (R, C_l,
        h_l, w_l) (``model.reference_pose: source``), None = zero. Returns (M, C, h, w) in the
        scheduler's prediction type.
        """
        num_main = sample.shape[0]
        with_refs = self.config.noise_aware and ref_sample is not None
        attention_index = ref_index  # which reference row each main row's self-attention reads
        sources = None if ref_sample is None else torch.arange(ref_sample.shape[0], device=ref_index.device)
        if with_refs and self.config.reference_until is not None:
            attention_index, sources = self._read_late(ref_index, timesteps, ref_sample.shape[0])
            ref_sample, ref_timesteps = ref_sample[sources], ref_timesteps[sources]
            ref_residuals = None if ref_residuals is None else [r[sources] for r in ref_residuals]
            with_refs = len(sources) > 0
        if with_refs and not self.config.reference_grad and torch.is_grad_enabled():
            self._record_reference(ref_sample.to(sample.dtype), ref_timesteps, tokens, ref_residuals, sources)
            self.routing.set(num_main, attention_index, mode="read")
            residuals = None if residuals is None else list(residuals)  # the UNet pops from the list
            return self._unet(sample, timesteps, residuals, ref_index if tokens is not None else None, tokens)
        rows, steps, row_ref = sample, timesteps, ref_index
        if with_refs:
            num_refs = ref_sample.shape[0]
            rows = torch.cat([sample, ref_sample.to(sample.dtype)])
            steps = torch.cat([timesteps, ref_timesteps])
            row_ref = torch.cat([ref_index, sources])  # a reference row reads its own source's tokens
            if residuals is not None:  # a fresh list every call: the UNet pops from it
                extra = ref_residuals or [r.new_zeros((num_refs, *r.shape[1:])) for r in residuals]
                residuals = [torch.cat([r, e.to(r.dtype)]) for r, e in zip(residuals, extra, strict=True)]
        elif residuals is not None:
            residuals = list(residuals)
        self.routing.set(num_main, attention_index if with_refs else None)
        prediction = self._unet(rows, steps, residuals, row_ref if tokens is not None else None, tokens)
        return prediction[:num_main]

    def _read_late(
        self, ref_index: torch.Tensor, timesteps: torch.Tensor, num_refs: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``model.reference_until``: only main rows below it read their reference. -> (the row
        each main row reads among the kept reference rows, or -1; the kept reference rows): those
        no main row reads are left out of the call, which is what makes this form cheap."""
        reads = ref_index.masked_fill(timesteps >= self.config.reference_until, -1)  # (M,)
        kept = torch.unique(reads[reads >= 0])  # (K,) sorted; one host sync per call
        position = torch.zeros(num_refs, dtype=torch.long, device=ref_index.device)
        position[kept] = torch.arange(len(kept), device=ref_index.device)
        return torch.where(reads >= 0, position[reads.clamp(min=0)], reads), kept

    @torch.no_grad()
    def _record_reference(self, ref_sample, ref_timesteps, tokens, ref_residuals, sources) -> None:
        """The detached reference pass: the reference rows alone, without a graph (with zero pose
        residuals, or the source's own with ``reference_pose: source``, as in the joint form),
        each reading its own source's tokens; their keys and values recorded."""
        self.routing.record()
        residuals = None if ref_residuals is None else list(ref_residuals)
        self._unet(ref_sample, ref_timesteps, residuals, sources if tokens is not None else None, tokens)

    def _unet(self, rows, steps, residuals, row_ref, tokens) -> torch.Tensor:
        if self.injectors is not None:
            self.injectors.state.set(tokens or {}, row_ref)
        text = self.prompt(rows.shape[0], rows.dtype)
        return self.unet(rows, steps, encoder_hidden_states=text, down_intrablock_additional_residuals=residuals).sample
