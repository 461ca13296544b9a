"""Why is a trained demo model's background grainy where the truth is flat? Sample the same test
pairs with the sampler's end changed, one thing at a time, and measure the background noise
(dnaf.metrics.background: luminance std inside the truth's eroded background mask, 0-255), the
PSNR against the truth and the colour error.

The suspect: DDIM with ``set_alpha_to_one=False`` (diffusers' setting for SD1.5, ours until
2026-12-01) ends at alpha_0 = 1 - beta_0, not 1: its last step returns sqrt(a_0) x0 + sqrt(1 - a_0)
eps, the initial noise still in it at sqrt(beta_0) = 0.029 of [-1, 1] (about 3.7 of 0-255), with
the SD1.5 schedule. In latent space the VAE decoder hides it; in pixel space it is the grain.

Run: python benchmarks/background_noise.py --model results/demo/train/model --data data/demo
  --index results/demo/data --poses results/demo/poses [--pairs 50]. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

from dnaf.config import Config
from dnaf.data.index import DatasetIndex
from dnaf.data.parts import load_part_map, part_map_file, part_maps
from dnaf.io.images import load_rgb, resize_rgb
from dnaf.metrics.background import background_mask, background_std
from dnaf.metrics.colour import colour_error, part_colour_errors, part_mean_colours
from dnaf.models.saving import model_image_size
from dnaf.pairs.dataset import PairDataset
from dnaf.pipeline import DNAFPipeline, Guidance
from dnaf.pose.cache import SkeletonCache
from dnaf.sampling.shards import pairs_to_sample

SEED = 0


def variants(scheduler) -> dict[str, tuple]:
    """name -> (sampler, steps, guidance): one change from today's demo sampling at a time."""
    config = scheduler.config
    ddim = DDIMScheduler.from_config(config, clip_sample=False, set_alpha_to_one=False)
    ddim_one = DDIMScheduler.from_config(config, clip_sample=False, set_alpha_to_one=True)
    trailing = DDIMScheduler.from_config(config, clip_sample=False, set_alpha_to_one=True, timestep_spacing="trailing")
    dpm = DPMSolverMultistepScheduler.from_config(config, algorithm_type="dpmsolver++")
    guided = Guidance("appearance", appearance_scale=1.5)
    return {
        "ddim 25, final alpha 1 - beta_0 (until 2026-12-01)": (ddim, 25, guided),
        "ddim 25, final alpha 1": (ddim_one, 25, guided),
        "ddim 25 trailing (last t = 39), final alpha 1": (trailing, 25, guided),
        "ddim 50, final alpha 1 - beta_0": (ddim, 50, guided),
        "ddim 25, final alpha 1 - beta_0, no guidance": (ddim, 25, Guidance("none")),
        "dpm-solver++ 25 (ends at sigma 0)": (dpm, 25, guided),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="the demo dataset root (data/demo)")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--poses", type=Path, required=True)
    parser.add_argument("--pairs", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(2)
    dataset = Config().datasets.demo
    size = tuple(dataset.image_size)
    index = DatasetIndex.load(args.index)
    pairs = pairs_to_sample(index).iloc[: args.pairs]
    skeleton_cache = SkeletonCache(index, args.poses, dataset.skeleton_size)
    ordered = list(zip(pairs["source"], pairs["target"], strict=True))
    data = PairDataset(index, args.data, skeleton_cache, ordered, model_image_size(args.model))
    items = [data[i] for i in range(len(data))]
    sources = torch.stack([item["source"] for item in items])
    skeletons = torch.stack([item["skeleton"] for item in items])
    truths = [load_rgb(args.data / index.images.at[t, "path"], size) for t in pairs["target"]]
    labels = [load_part_map(part_map_file(part_maps(args.data), t), size) for t in pairs["target"]]
    pipeline = DNAFPipeline.from_pretrained(args.model)
    pipeline.set_progress_bar_config(disable=True)
    floor = np.nanmean([background_std(t, background_mask(m)) for t, m in zip(truths, labels, strict=True)])
    results = {}
    for name, (sampler, steps, guidance) in variants(pipeline.scheduler).items():
        started = time.perf_counter()
        generators = [torch.Generator().manual_seed(SEED + i) for i in range(len(items))]
        pipeline.scheduler = sampler
        images = pipeline(sources, skeletons, steps, guidance, generators, output_type="np").images
        made = [resize_rgb(np.round(image * 255).astype(np.uint8), size, "bicubic-antialias") for image in images]
        noise = [background_std(m, background_mask(lab)) for m, lab in zip(made, labels, strict=True)]
        psnr = [10 * np.log10(255**2 / np.mean((m.astype(float) - t) ** 2)) for m, t in zip(made, truths, strict=True)]
        colour = [
            colour_error(part_colour_errors(m, part_mean_colours(t, lab), lab))
            for m, t, lab in zip(made, truths, labels, strict=True)
        ]
        results[name] = {"background_std": round(float(np.nanmean(noise)), 3), "psnr": round(float(np.mean(psnr)), 3),
                         "colour_error": round(float(np.nanmean(colour)), 4),
                         "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
    print(json.dumps({"benchmark": "background_noise", "model": str(args.model), "pairs": len(items),
                      "size": list(size), "background_std_truth": round(float(floor), 3),
                      "variants": results}))  # fmt: skip


if __name__ == "__main__":
    main()
