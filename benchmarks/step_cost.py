"""Cost of a DNAF step against plain SD1.5 + T2I-Adapter, at SD1.5 scale with random weights.

Builds the SD1.5 UNet/VAE, a full T2I-Adapter and Swin-B from their published configurations
(random weights, nothing downloaded) and compares, at 256x176 (latent 4x32x22):

- training: forward + backward of one step (latents cached; the Swin pyramid of the sources,
  without grad, counted in the step) for plain SD + adapter (B rows), DNAF (2B rows: main + noised
  source, injectors) and DNAF with the detached reference (`model.reference_grad: false`: a
  no-graph pass over the B reference rows, then B main rows); and, against the same baseline, two
  parts of a DNAF step alone: the Swin pass (`swin_tokens`) and the detached reference pass with
  its Swin pass (`reference_pass`);
- sampling: one denoising step with guidance: DNAF appearance guidance (3 rows per image: two
  branches + one shared reference) versus SD + adapter classifier-free guidance (2 rows); adapter
  residuals and Swin tokens computed once per batch; on a GPU (or with `--half`) also DNAF under
  bfloat16 autocast (`sample.precision`; a CPU without bfloat16 units emulates it, 37x slower on
  this one);
- guidance rows: disentangled guidance at w_p = 2 (4 rows) against w_p = 1 (3 rows).

A ratio is measured interleaved in one process, after a warm-up of both steps: A B A B ... for
`--pairs` pairs; the result is the median of the per-pair ratios B / A with their min and max, so
that a change of machine load between two steps moves one pair, not the ratio. Peak memory needs
a process per case: `--memory` adds it (fresh processes, one step each). Prints one JSON line.
Run: python benchmarks/step_cost.py [--batch 2] [--pairs 7] [--device cpu|cuda] [--dtype float32|bfloat16]
[--cases train sample guided] [--half] [--memory]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import multiprocessing
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

HEIGHT, WIDTH = 256, 176
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameters
INT_MAX = 2**31 - 1


def keep_freed_memory() -> None:
    """Let glibc reuse freed memory instead of returning it to the system: a training step at this
    size allocates gigabytes of activations, which malloc otherwise maps and unmaps at every step,
    and the page faults made one step take 1.4 to 4 times another (measured 2026-12-01). PyTorch's
    caching allocator keeps memory the same way on a GPU."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    libc = ctypes.CDLL(name)
    libc.mallopt(M_MMAP_MAX, 0)  # no block of its own for a large allocation: all from the reusable heap
    libc.mallopt(M_TRIM_THRESHOLD, INT_MAX)  # and the heap's free top is kept


PROMPT_TOKENS, TEXT_DIM = 77, 768


def build(device: str, dtype: torch.dtype):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import SwinBackbone, SwinConfig

    from dnaf.models.appearance import AppearanceEncoder
    from dnaf.models.build import SWIN_OUT_FEATURES, make_adapter, make_injectors
    from dnaf.models.config import ModelConfig
    from dnaf.models.dnaf_model import DNAFModel
    from dnaf.models.prompt import PromptEmbedding

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
    appearance = AppearanceEncoder(backbone=swin)
    injectors = make_injectors(config, unet, appearance, 8)
    adapter = make_adapter(config, unet, 8)
    prompt = PromptEmbedding.holding(torch.randn(1, PROMPT_TOKENS, TEXT_DIM))
    model = DNAFModel(config, unet, adapter, prompt, vae, appearance, injectors).to(device)
    if dtype != torch.float32:  # frozen parts in the compute dtype, trainable ones stay float32
        for module in (model.unet, model.vae, model.appearance):
            module.to(dtype)
    return model


def setup(batch: int, device: str, dtype_name: str) -> dict:
    """The model and one closure per step, sharing inputs."""
    dtype = getattr(torch, dtype_name)
    model = build(device, dtype)
    joint_config = model.config
    detached_config = joint_config.model_copy(update={"reference_grad": False})
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(batch, 4, HEIGHT // 8, WIDTH // 8, generator=g).to(device, dtype)
    sources = (torch.rand(batch, 3, HEIGHT, WIDTH, generator=g) * 2 - 1).to(device, dtype)
    skeletons = torch.rand(batch, 3, HEIGHT, WIDTH, generator=g).to(device)
    t = torch.randint(0, 1000, (batch,), generator=g).to(device)
    images = torch.arange(batch, device=device)
    none = torch.full_like(images, -1)

    def autocast(kind=dtype):
        return torch.autocast(device_type=device, dtype=kind, enabled=kind != torch.float32)

    def train_step(form: str) -> None:
        model.train()
        model.config = detached_config if form == "detached" else joint_config
        with torch.no_grad():
            tokens = model.appearance_tokens(sources) if form != "plain" else None
        with autocast():
            residuals = model.pose_residuals(skeletons)
            if form == "plain":
                prediction = model(latents, t, residuals, none)
            else:
                prediction = model(latents, t, residuals, images, latents.flip(0), t, tokens)
            loss = F.mse_loss(prediction.float(), latents.float())
        loss.backward()
        model.zero_grad(set_to_none=True)
        model.config = joint_config

    with torch.no_grad(), autocast():  # once per batch in the pipeline, not per step
        sample_tokens = model.appearance_tokens(sources)
        single_residuals = model.pose_residuals(skeletons)

    @torch.no_grad()
    def sample_step(dnaf: bool, kind=dtype) -> None:
        model.eval()
        with autocast(kind):
            residuals = [r.repeat(2, 1, 1, 1) for r in single_residuals]
            rows = latents.repeat(2, 1, 1, 1)
            if dnaf:  # [(p, s), (p, 0)] + one reference row per image
                model(rows, t.repeat(2), residuals, torch.cat([images, none]), latents, t, sample_tokens)
            else:  # classifier-free guidance: conditional and unconditional rows
                model(rows, t.repeat(2), residuals, torch.cat([none, none]))

    @torch.no_grad()
    def guided_step(pose_scale: float) -> None:
        from dnaf.pipeline import Guidance

        model.eval()
        guidance = Guidance("disentangled", pose_scale, 2.0)
        pose_keep, ref_index = guidance.branch_rows(batch, device)
        with autocast():
            residuals = [r.repeat(guidance.branches, 1, 1, 1) * pose_keep.view(-1, 1, 1, 1) for r in single_residuals]
            rows = latents.repeat(guidance.branches, 1, 1, 1)
            model(rows, t.repeat(guidance.branches), residuals, ref_index, latents, t, sample_tokens)

    @torch.no_grad()
    def swin_tokens() -> None:  # in every DNAF training step: the frozen Swin over the sources
        model.appearance_tokens(sources)

    @torch.no_grad()
    def reference_pass() -> None:  # in every detached step: the no-graph UNet call over the references
        tokens = model.appearance_tokens(sources)
        with autocast():
            model._record_reference(latents.flip(0), t, tokens)

    steps = {
        "swin_tokens": swin_tokens,
        "reference_pass": reference_pass,
        "train_plain": lambda: train_step("plain"),
        "train_dnaf": lambda: train_step("joint"),
        "train_detached": lambda: train_step("detached"),
        "sample_plain": lambda: sample_step(False),
        "sample_dnaf": lambda: sample_step(True),
        "guided_wp2": lambda: guided_step(2.0),
        "guided_wp1": lambda: guided_step(1.0),
    }
    steps["sample_dnaf_bf16"] = lambda: sample_step(True, torch.bfloat16)  # half precision sampling (autocast)
    counts = {
        "unet": sum(p.numel() for p in model.unet.parameters()),
        "adapter": sum(p.numel() for p in model.adapter.parameters()),
        "injectors": sum(p.numel() for p in model.injectors.parameters()),
        "swin": sum(p.numel() for p in model.appearance.parameters()),
    }
    return {"steps": steps, "params": counts}


def timed(step, device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def interleaved(steps: dict, baseline: str, others: list[str], pairs: int, device: str) -> dict:
    """Each of ``others`` against ``baseline``: warm-up, then baseline and the others in turn,
    ``pairs`` rounds; per-round ratios other / baseline."""
    for name in (baseline, *others):
        steps[name]()  # warm-up
    seconds = {name: [] for name in (baseline, *others)}
    for _ in range(pairs):
        for name in (baseline, *others):
            seconds[name].append(timed(steps[name], device))
    result = {"baseline": baseline, "seconds": {n: round(statistics.median(v), 3) for n, v in seconds.items()}}
    for name in others:
        ratios = [b / a for a, b in zip(seconds[baseline], seconds[name], strict=True)]
        result[f"{name}_ratio"] = {"median": round(statistics.median(ratios), 3), "min": round(min(ratios), 3),
                                   "max": round(max(ratios), 3)}  # fmt: skip
    return result


COMPARISONS = {
    "train": ("train_plain", ["train_dnaf", "train_detached", "swin_tokens", "reference_pass"]),
    "sample": ("sample_plain", ["sample_dnaf", "sample_dnaf_bf16"]),
    "guided": ("guided_wp2", ["guided_wp1"]),
}


def compared(case: str, half: bool) -> tuple[str, list[str]]:
    baseline, others = COMPARISONS[case]
    return baseline, [name for name in others if half or not name.endswith("_bf16")]


def run_comparisons(cases: list[str], batch: int, pairs: int, device: str, dtype_name: str, half: bool) -> dict:
    keep_freed_memory()
    torch.set_num_threads(os.cpu_count() or 1)
    built = setup(batch, device, dtype_name)
    results = {"params": built["params"]}
    for case in cases:
        results[case] = interleaved(built["steps"], *compared(case, half), pairs, device)
    return results


def peak_memory(case: str, batch: int, device: str, dtype_name: str) -> float:
    """GiB at the peak of one step of ``case`` in this (fresh) process: on a GPU the allocator's
    peak; on a CPU the resident set's high-water mark, reset after the model is built (building
    it peaks higher than any step) through /proc/self/clear_refs."""
    torch.set_num_threads(os.cpu_count() or 1)
    step = setup(batch, device, dtype_name)["steps"][case]
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        step()
        return torch.cuda.max_memory_allocated() / 2**30
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident set
    step()
    status = Path("/proc/self/status").read_text()
    peak_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return peak_kib / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=7, help="interleaved rounds per comparison (default: 7)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--cases", nargs="+", default=list(COMPARISONS), choices=list(COMPARISONS))
    parser.add_argument("--half", action="store_true", help="also bfloat16 sampling (default on a GPU)")
    parser.add_argument("--memory", action="store_true", help="also the peak memory of each step (one process each)")
    args = parser.parse_args()
    half = args.half or args.device == "cuda"
    started = time.perf_counter()
    results = run_comparisons(args.cases, args.batch, args.pairs, args.device, args.dtype, half)
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else f"cpu ({os.cpu_count()} threads)"
    summary = {"benchmark": "step_cost", "device": device_name, "dtype": args.dtype, "size": [HEIGHT, WIDTH],
               "batch": args.batch, "pairs": args.pairs, **results}  # fmt: skip
    if args.memory:
        context = multiprocessing.get_context("spawn")
        summary["peak_gib"] = {}
        for case in args.cases:
            baseline, others = compared(case, half)
            for name in (baseline, *others):
                with context.Pool(1) as pool:
                    peak = pool.apply(peak_memory, (name, args.batch, args.device, args.dtype))
                summary["peak_gib"][name] = round(peak, 2)
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
