"""MediaPipe's keypoints against known ones: the visibility threshold of `pose_extraction`.

Writes synthetic people (the demo generator at 256x176, whose keypoints are known exactly and whose
hidden joints, e.g. the face seen from the back, are marked missing), runs the MediaPipe detector
and reports, per view, the median joint error (in picture heights) as labelled and with left and
right swapped (`median_error_swapped`): a single-picture detector labels a person seen from the
back as if facing the camera. On the front views, for each visibility threshold: how many kept
joints lie within `--tolerance` of the truth (precision), how many true joints are kept within
it (recall), and how many joints hidden in the truth are kept. Also the time per picture.
Synthetic people are not photographs: the astronaut test (tests/test_pose_extraction.py) checks
a real one. Run: python benchmarks/pose_threshold.py [--identities 20]. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from dnaf.data.config import DatasetConfig, SyntheticConfig
from dnaf.data.index import DatasetIndex
from dnaf.data.keypoints import MIRROR
from dnaf.data.load import inspect_dataset
from dnaf.demo.generate import write_demo_dataset
from dnaf.io.images import load_rgb
from dnaf.pose.detectors import MediaPipeDetector

SIZE = (256, 176)
THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=20)
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        synthetic = SyntheticConfig(train_identities=args.identities, test_identities=1, poses_per_identity=4)
        write_demo_dataset(root / "data", synthetic, SIZE, "csv", workers=1)
        dataset = DatasetConfig(format="deepfashion-csv", root=root / "data", image_size=SIZE,
                                skeleton_size=SIZE, disjoint_identities=True)  # fmt: skip
        index: DatasetIndex = inspect_dataset(dataset, root / "data", workers=1, images=False)[0]
        detector = MediaPipeDetector(min_visibility=0.0)  # thresholds are applied below
        names = list(index.images.index)
        truths, found, seconds = [], [], 0.0
        for name in names:
            picture = load_rgb(root / "data" / index.images.at[name, "path"])
            started = time.perf_counter()
            people = detector.detect(picture)
            seconds += time.perf_counter() - started
            truths.append(index.keypoints(name))
            found.append(people[0] if people else None)
    truth = np.stack(truths)  # (N, 18, 2)
    detected = np.stack([p.keypoints if p else np.full((18, 2), np.nan) for p in found])
    confidence = np.stack([p.confidence if p else np.zeros(18) for p in found])
    # normalised (x, y) -> distance in units of the picture height
    error = np.hypot((detected[..., 0] - truth[..., 0]) * SIZE[1] / SIZE[0], detected[..., 1] - truth[..., 1])
    mirrored = detected[:, list(MIRROR)]
    mirrored_error = np.hypot((mirrored[..., 0] - truth[..., 0]) * SIZE[1] / SIZE[0], mirrored[..., 1] - truth[..., 1])
    views = {}
    for view in ("front", "side", "back"):
        members = np.array([name.endswith(f"{view}.jpg") for name in names]) & np.array([p is not None for p in found])
        views[view] = {"pictures": int(sum(name.endswith(f"{view}.jpg") for name in names)),
                       "people_found": int(members.sum()),
                       "median_error": round(float(np.nanmedian(error[members])), 4),
                       "median_error_swapped": round(float(np.nanmedian(mirrored_error[members])), 4)}  # fmt: skip
    front = np.array([name.endswith("front.jpg") for name in names])
    truth, detected, confidence, error = truth[front], detected[front], confidence[front], error[front]
    true_present = ~np.isnan(truth).any(axis=2)
    rows = []
    for threshold in THRESHOLDS:
        kept = ~np.isnan(detected).any(axis=2) & (confidence >= threshold)
        correct = kept & true_present & (np.nan_to_num(error, nan=np.inf) <= args.tolerance)
        precision = correct.sum() / max(kept.sum(), 1)
        recall = correct.sum() / true_present.sum()
        hidden_kept = (kept & ~true_present).sum() / max((~true_present).sum(), 1)
        rows.append({"min_visibility": threshold, "precision": round(float(precision), 4),
                     "recall": round(float(recall), 4),
                     "hidden_joints_kept": round(float(hidden_kept), 4)})  # fmt: skip
    print(json.dumps({
        "benchmark": "pose_threshold", "detector": "mediapipe 0.10.21 (model_complexity 1)",
        "pictures": len(truths), "size": list(SIZE), "people_found": sum(p is not None for p in found),
        "ms_per_picture": round(1000 * seconds / len(truths), 1), "views": views,
        "front_views": {"tolerance_of_height": args.tolerance, "thresholds": rows},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
