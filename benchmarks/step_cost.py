"""Cost of a DNAF step against plain SD1.5 + T2I-Adapter, at SD1.5 scale with random weights.

Builds the SD1.5 UNet/VAE, a full T2I-Adapter and Swin-B from their published configurations
(random weights, nothing downloaded) and times, at 256x176 (latent 4x32x22):

- training: forward + backward of one step (latents cached; the Swin pyramid of the sources,
  without grad, counted in the step) for DNAF (2B rows: main + noised source, injectors) versus
  plain SD + adapter (B rows);
- sampling: one denoising step with guidance: DNAF appearance guidance (3 rows per image: two
  branches + one shared reference) versus SD + adapter classifier-free guidance (2 rows); the
  adapter residuals and Swin tokens are computed once per batch, outside the step, as in the
  pipeline;
- guidance rows: a DNAF step with disentangled guidance at w_p = 2 (CFLD's: 4 rows) against w_p = 1,
  which the pipeline runs as the appearance form (3 rows, the same images).

Each case runs in a fresh process, so its peak memory is its own. Prints one JSON line.
Run: python benchmarks/step_cost.py [--batch 2] [--repeats 3] [--device cpu|cuda] [--dtype float32|bfloat16]
[--only-guidance]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import time

import torch
import torch.nn.functional as F

HEIGHT, WIDTH = 256, 176
PROMPT_TOKENS, TEXT_DIM = 77, 768


def build(device: str, dtype: torch.dtype):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import SwinBackbone, SwinConfig

    from dnaf.models.appearance import AppearanceEncoder
    from dnaf.models.build import SWIN_OUT_FEATURES, make_adapter, make_injectors
    from dnaf.models.config import ModelConfig
    from dnaf.models.dnaf_model import DNAFModel

    torch.manual_seed(0)
    config = ModelConfig()  # the paper recipe: full adapter, injectors, noise-aware attention
    unet = UNet2DConditionModel(cross_attention_dim=TEXT_DIM)  # the other defaults are SD1.5's
    vae = AutoencoderKL(
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(128, 256, 512, 512),
        layers_per_block=2,
        latent_channels=4,
    )
    swin = SwinBackbone(
        SwinConfig(embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32], out_features=list(SWIN_OUT_FEATURES))
    )
    appearance = AppearanceEncoder(swin)
    injectors = make_injectors(config, unet, appearance, 8)
    adapter = make_adapter(config, unet, 8)
    prompt = torch.randn(1, PROMPT_TOKENS, TEXT_DIM)
    model = DNAFModel(config, unet, adapter, prompt, vae, appearance, injectors).to(device)
    if dtype != torch.float32:  # frozen parts in the compute dtype, trainable ones stay float32
        for module in (model.unet, model.vae, model.appearance):
            module.to(dtype)
    return model


def run_case(case: str, batch: int, repeats: int, device: str, dtype_name: str) -> dict:
    torch.set_num_threads(os.cpu_count() or 1)
    dtype = getattr(torch, dtype_name)
    model = build(device, dtype)
    counts = {
        "unet": sum(p.numel() for p in model.unet.parameters()),
        "adapter": sum(p.numel() for p in model.adapter.parameters()),
        "injectors": sum(p.numel() for p in model.injectors.parameters()),
        "swin": sum(p.numel() for p in model.appearance.parameters()),
    }
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(batch, 4, HEIGHT // 8, WIDTH // 8, generator=g).to(device, dtype)
    sources = (torch.rand(batch, 3, HEIGHT, WIDTH, generator=g) * 2 - 1).to(device, dtype)
    skeletons = torch.rand(batch, 3, HEIGHT, WIDTH, generator=g).to(device)
    t = torch.randint(0, 1000, (batch,), generator=g).to(device)
    images = torch.arange(batch, device=device)
    none = torch.full_like(images, -1)
    autocast = torch.autocast(device_type=device, dtype=dtype, enabled=dtype != torch.float32)

    def train_step(dnaf: bool) -> None:
        with torch.no_grad():
            tokens = model.appearance_tokens(sources) if dnaf else None
        with autocast:
            residuals = model.pose_residuals(skeletons)
            if dnaf:
                prediction = model(latents, t, residuals, images, latents.flip(0), t, tokens)
            else:
                prediction = model(latents, t, residuals, none)
            loss = F.mse_loss(prediction.float(), latents.float())
        loss.backward()
        model.zero_grad(set_to_none=True)

    with torch.no_grad(), autocast:  # once per batch in the pipeline, not per step
        sample_tokens = model.appearance_tokens(sources)
        single_residuals = model.pose_residuals(skeletons)
        sample_residuals = [r.repeat(2, 1, 1, 1) for r in single_residuals]

    @torch.no_grad()
    def guided_step(pose_scale: float) -> None:
        from dnaf.pipeline import DNAFPipeline, Guidance

        guidance = Guidance("disentangled", pose_scale, 2.0)
        pose_keep, ref_index = DNAFPipeline(model, None)._branches(guidance, batch, device)
        with autocast:
            residuals = [r.repeat(guidance.branches, 1, 1, 1) * pose_keep.view(-1, 1, 1, 1) for r in single_residuals]
            rows = latents.repeat(guidance.branches, 1, 1, 1)
            model(rows, t.repeat(guidance.branches), residuals, ref_index, latents, t, sample_tokens)

    @torch.no_grad()
    def sample_step(dnaf: bool) -> None:
        with autocast:
            residuals = list(sample_residuals)
            rows = latents.repeat(2, 1, 1, 1)
            if dnaf:  # [(p, s), (p, 0)] + one reference row per image
                model(rows, t.repeat(2), residuals, torch.cat([images, none]), latents, t, sample_tokens)
            else:  # classifier-free guidance: conditional and unconditional rows
                model(rows, t.repeat(2), residuals, torch.cat([none, none]))

    step = {"train_plain": lambda: train_step(False), "train_dnaf": lambda: train_step(True)}
    step |= {"sample_plain": lambda: sample_step(False), "sample_dnaf": lambda: sample_step(True)}
    step |= {"guided_wp2": lambda: guided_step(2.0), "guided_wp1": lambda: guided_step(1.0)}
    model.train(case.startswith("train"))
    step[case]()  # warm-up
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        step[case]()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    result = {"case": case, "seconds": statistics.median(times), "params": counts}
    if device == "cuda":
        result["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    else:
        result["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--only-guidance", action="store_true", help="time only the guidance-rows cases")
    args = parser.parse_args()
    results = {}
    context = multiprocessing.get_context("spawn")
    cases = ("guided_wp2", "guided_wp1")
    if not args.only_guidance:
        cases = ("train_plain", "train_dnaf", "sample_plain", "sample_dnaf", *cases)
    for case in cases:
        with context.Pool(1) as pool:
            results[case] = pool.apply(run_case, (case, args.batch, args.repeats, args.device, args.dtype))
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else f"cpu ({os.cpu_count()} threads)"
    summary = {
        "device": device_name,
        "dtype": args.dtype,
        "size": [HEIGHT, WIDTH],
        "batch": args.batch,
        "guided_step_s": {
            "wp2_4_rows": results["guided_wp2"]["seconds"],
            "wp1_3_rows": results["guided_wp1"]["seconds"],
        },
        "guided_wp1_ratio": results["guided_wp1"]["seconds"] / results["guided_wp2"]["seconds"],
    }
    if args.only_guidance:
        print(json.dumps(summary))
        return
    summary |= {
        "train_step_s": {"plain": results["train_plain"]["seconds"], "dnaf": results["train_dnaf"]["seconds"]},
        "train_ratio": results["train_dnaf"]["seconds"] / results["train_plain"]["seconds"],
        "sample_step_s": {"plain": results["sample_plain"]["seconds"], "dnaf": results["sample_dnaf"]["seconds"]},
        "sample_ratio": results["sample_dnaf"]["seconds"] / results["sample_plain"]["seconds"],
        "guided_step_s": {
            "wp2_4_rows": results["guided_wp2"]["seconds"],
            "wp1_3_rows": results["guided_wp1"]["seconds"],
        },
        "guided_wp1_ratio": results["guided_wp1"]["seconds"] / results["guided_wp2"]["seconds"],
        "peak_gib": {case: round(r["peak_gib"], 2) for case, r in results.items()},
        "params": results["train_dnaf"]["params"],
        "train_samples_per_s": {
            "plain": args.batch / results["train_plain"]["seconds"],
            "dnaf": args.batch / results["train_dnaf"]["seconds"],
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
