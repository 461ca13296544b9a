"""Data loader delivery rate at the paper size (256x176) against the model's step rate.

Writes a synthetic dataset at 256x176 (skeletons rendered lazily, as in training without a cache,
and from the cache), then times the training DataLoader (pairs/s) with 0 and N worker processes.
Compare with `train_samples_per_s` of benchmarks/step_cost.py: the loader must deliver faster.
Run: python benchmarks/data_loading.py [--workers 2] [--batches 20]. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from dnaf.data.config import SyntheticConfig
from dnaf.data.load import inspect_dataset
from dnaf.demo.generate import write_demo_dataset
from dnaf.pairs.dataset import PairDataset, ordered_pairs
from dnaf.pose.cache import SkeletonCache, render_poses

SIZE = (256, 176)


def rate(dataset: PairDataset, workers: int, batches: int, batch_size: int) -> float:
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers)
    iterator = iter(loader)
    next(iterator)  # start-up (worker processes) is not delivery
    started = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    from dnaf.config import Config

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        synthetic = SyntheticConfig(train_identities=60, test_identities=2, poses_per_identity=4)
        write_demo_dataset(root, synthetic, SIZE, "csv", workers=args.workers)
        dataset_config = Config().datasets.demo.model_copy(update={"image_size": SIZE})
        index, _ = inspect_dataset(dataset_config, root, images=False)
        pairs = ordered_pairs(index, "train", True)
        results = {}
        for mode in ("lazy", "cached"):
            cache = Path(tmp) / f"poses-{mode}"
            if mode == "cached":
                render_poses(index, cache, SIZE, workers=args.workers)
            for workers in sorted({0, args.workers}):
                if mode == "lazy":  # every pass starts from an empty cache
                    for path in cache.glob("*.png"):
                        path.unlink()
                dataset = PairDataset(index, root, SkeletonCache(index, cache, SIZE), pairs, SIZE, hflip=0.5)
                results[f"{mode}_pairs_per_s_{workers}_workers"] = round(
                    rate(dataset, workers, args.batches, args.batch_size), 1
                )
    print(json.dumps({"size": list(SIZE), "batch_size": args.batch_size, **results, "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
