"""Cost of one training step of the demo's four models (DNAF and its ablations), by pixel patch.

Builds the demo experiment's tiny DNAF (random weights), and each ablation of the config
(``ablations.variants``: pose only, no noise-aware feature, no injectors) and times forward + backward + AdamW of
one batch at the demo's training size, on random data, at one thread (how the demo trains them).
Prints one JSON line: seconds per step for each model and patch size, and each model's cost
relative to pose only.
Run: python benchmarks/demo_step_cost.py [--patches 2 4] [--repeats 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from dnaf.config import Config
from dnaf.models.build import build_tiny
from dnaf.training.step import DiffusionLoss


def step_seconds(patch: int, ablation: str | None, repeats: int) -> float:
    experiment = Config().experiment("demo", ablation)
    model_config = experiment.model.model_copy(update={"pixel_patch": patch})
    size = tuple(experiment.train.resolution)
    model, scheduler = build_tiny(model_config, size)
    scheduler = type(scheduler).from_config(scheduler.config, prediction_type=experiment.train.prediction_type)
    loss = DiffusionLoss(model, scheduler, experiment.train)
    optimizer = torch.optim.AdamW([p for m in model.trainable_modules() for p in m.parameters()], 1e-3)
    batch = experiment.train.batch_size
    data = {
        "source": torch.rand(batch, 3, *size) * 2 - 1,
        "target": torch.rand(batch, 3, *size) * 2 - 1,
        "skeleton": torch.rand(batch, 3, *size),
    }
    times = []
    for _ in range(repeats + 1):  # the first is a warm-up
        started = time.perf_counter()
        loss(data).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    result = {}
    for patch in args.patches:
        runs = {name: name for name in Config().ablations.variants} | {"dnaf": None}
        seconds = {name: step_seconds(patch, ablation, args.repeats) for name, ablation in runs.items()}
        result[f"patch_{patch}"] = {
            "step_s": {k: round(v, 3) for k, v in seconds.items()},
            "relative_to_pose_only": {k: round(v / seconds["pose-only"], 2) for k, v in seconds.items()},
        }
    print(json.dumps({"threads": 1, "batch": Config().experiments.demo.train.batch_size, **result}))


if __name__ == "__main__":
    main()
