"""Skeleton rendering throughput (images/s): the drawing alone, and the cache writer end to end.

Run: python benchmarks/render_poses.py [--count N] [--workers W]. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from dnaf.data.index import DatasetIndex, make_images_table
from dnaf.demo.appearance import sample_look
from dnaf.demo.figure import build_figure, figure_keypoints, sample_pose
from dnaf.pose.cache import render_poses
from dnaf.pose.render import render_skeleton

SIZE = (256, 176)


def synthetic_keypoints(count: int) -> np.ndarray:
    """(count, 18, 2) normalised keypoints of varied synthetic poses."""
    rng = np.random.default_rng(0)
    points = []
    for _ in range(count):
        figure = build_figure(sample_look(rng), sample_pose(rng), SIZE)
        points.append(figure_keypoints(figure) / np.array([SIZE[1], SIZE[0]]))
    return np.stack(points)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    keypoints = synthetic_keypoints(args.count)

    started = time.perf_counter()
    for points in keypoints:
        render_skeleton(points, SIZE)
    draw_seconds = time.perf_counter() - started

    records = [
        {"name": f"b{i:06d}.jpg", "split": "train", "identity": "b", "path": "-", "keypoints": k}
        for i, k in enumerate(keypoints)
    ]
    index = DatasetIndex(make_images_table(records), None)
    results = {}
    for workers in sorted({1, args.workers}):
        with tempfile.TemporaryDirectory() as cache:
            started = time.perf_counter()
            render_poses(index, Path(cache), SIZE, workers=workers)
            results[f"cache_images_per_s_{workers}_workers"] = round(args.count / (time.perf_counter() - started), 1)
    print(
        json.dumps(
            {
                "size": list(SIZE),
                "count": args.count,
                "draw_images_per_s": round(args.count / draw_seconds, 1),
                "draw_ms_per_image": round(1000 * draw_seconds / args.count, 3),
                **results,
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
