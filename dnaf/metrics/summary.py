"""The metrics.json document: the five numbers and the record of how they were obtained.

Its schema is workflow/schemas/metrics.schema.yaml. A metric that could not be computed is null,
with the reason and the fix under ``unavailable``.
"""

from __future__ import annotations

import math
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

SCHEMA = "dnaf-metrics/1"
PACKAGES = ("dnaf", "torch", "torchvision", "numpy", "scipy", "scikit-image", "lpips", "clean-fid", "pillow")
DEFINITIONS = {
    "ssim": "skimage structural_similarity, win_size 51, data_range 1, images in [0, 1] (CFLD 'SSIM')",
    "ssim_256": "skimage structural_similarity, Gaussian sigma 1.5, use_sample_covariance False, 0-255 scale, "
    "data_range = max - min of the generated image (GFLA/DPTN/CFLD 'SSIM_256')",
    "psnr": "data_range 1, per image, averaged",
    "lpips": "lpips v0.1, AlexNet, images in [-1, 1], generated vs ground truth, averaged",
    "fid_real_set": "all training images at the evaluation size",
}
COLOUR_DEFINITION = (
    "per-part colour error: mean absolute difference (R, G, B in [0, 1]) between the generated and the "
    "ground-truth mean colour inside each ground-truth part mask, averaged over the parts of each pair "
    "(background excluded) and over pairs; only where part label maps exist (the synthetic demo)"
)


def library_versions() -> dict[str, str | None]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _mean(values: pd.Series) -> float | None:
    value = float(values.mean())
    return None if math.isnan(value) else value


def metrics_document(
    *,
    dataset: str,
    method: str,
    scores: pd.DataFrame,
    test_pairs: int,
    size: tuple[int, int],
    generated_size: tuple[int, int] | None,
    resize: str,
    fid_protocol: str,
    fid: float | None,
    fid_counts: tuple[int, int] | None,
    unavailable: dict[str, str],
    weights: dict[str, str | None],
) -> dict:
    lpips = _mean(scores["lpips"]) if "lpips" not in unavailable else None
    parts = [c for c in scores.columns if c.startswith("colour_") and c != "colour_error"]
    return {
        "schema": SCHEMA,
        "dataset": dataset,
        "method": method,
        "fid": fid,
        "lpips": lpips,
        "ssim": _mean(scores["ssim"]),
        "ssim_256": _mean(scores["ssim_256"]),
        "psnr": _mean(scores["psnr"]),
        "colour_error": _mean(scores["colour_error"]) if "colour_error" in scores else None,
        "colour_error_parts": {c.removeprefix("colour_"): _mean(scores[c]) for c in parts},
        "unavailable": unavailable,
        "protocol": {
            "size": list(size),
            "generated_size": list(generated_size) if generated_size else None,
            "resize": resize,
            "fid_protocol": fid_protocol,
            **DEFINITIONS,
            "colour_error": COLOUR_DEFINITION,
        },
        "counts": {
            "test_pairs": test_pairs,
            "generated": len(scores),
            "fid_real": fid_counts[0] if fid_counts else None,
            "fid_generated": fid_counts[1] if fid_counts else None,
        },
        "weights": weights,
        "versions": library_versions(),
    }
