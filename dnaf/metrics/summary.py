"""The metrics.json document: the five numbers (with part maps, also the colour and texture metrics)
and the record of how they were obtained.

Its schema is workflow/schemas/metrics.schema.yaml. A metric that could not be computed is null,
with the reason and the fix under ``unavailable``.
"""

from __future__ import annotations

import math
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

from dnaf.metrics.protocols import Protocol, kept
from dnaf.metrics.spectrum import PAD_FACTOR
from dnaf.metrics.stripes import CO_DOMINANT, PROMINENCE
from dnaf.metrics.texture import GARMENTS, HF_TEXTURE, HIGH_FREQUENCY, TEXTURE_METRICS, average

SCHEMA = "dnaf-metrics/3"
PACKAGES = ("dnaf", "torch", "torchvision", "numpy", "scipy", "scikit-image", "lpips", "clean-fid", "pillow")
DEFINITIONS = {
    "ssim": "skimage structural_similarity, win_size 51, data_range 1, images in [0, 1] (every peer's 'SSIM')",
    "ssim_256": "skimage structural_similarity, Gaussian window of the protocol's sigma, use_sample_covariance "
    "False, 0-255 scale, data_range = max - min of the generated image ('SSIM_256')",
    "psnr": "data_range 1, per image, averaged",
    "lpips": "lpips v0.1, AlexNet, generated vs ground truth, input as the protocol says, averaged",
    "fid": "torchvision Inception-v3 blocks to the 2048-d pool, input in [0, 1] resized bilinearly to 299 and "
    "mapped by x * (std / 0.5) + (mean - 0.5) / 0.5 (ImageNet mean, std); or clean-fid (protocol clean); "
    "Frechet distance of pytorch-fid / clean-fid",
    "fid_real_set": "every training image at the evaluation size, less the last incomplete batch where the "
    "protocol drops it (counts.fid_real)",
}
COLOUR_DEFINITION = (
    "per-part colour error: mean absolute difference (R, G, B in [0, 1]) between the generated and the "
    "ground-truth mean colour inside each ground-truth part mask, averaged over the parts of each pair "
    "(background excluded) and over pairs; only where part label maps exist (the synthetic demo)"
)
BACKGROUND_DEFINITION = (
    "background noise: standard deviation of the generated picture's luminance (0-255) inside the ground truth's "
    "background mask eroded by 2 px, mean over pairs (background_std_truth: the same on the ground truth, the "
    "floor); only where part label maps exist"
)
TEXTURE_DEFINITIONS = {
    "texture_distance": "per garment (upper, lower; inside the ground truth's mask eroded by 1 px): luminance in "
    "the mask's bounding box, outside the mask filled by its window-weighted mean, mean removed, radial Hann "
    f"window, zero-padded to a square power of two >= {PAD_FACTOR} x the box's longest side; mean over the grid of "
    "|ln A_gen - ln A_true| weighted by (A_gen^2 + A_true^2) / 2, amplitudes floored at 8-bit rounding noise "
    "(nats); mean over garments and pairs; only where part label maps exist",
    "stripe_period_error": "|P_gen - P_true| / P_true between the generated spectrum's highest peak and the nearest "
    f"ground-truth peak within {CO_DOMINANT} of its highest; only garments whose truth has a peak >= {PROMINENCE:g} "
    "x the band's median amplitude (a dominant stripe); mean over garments and pairs",
    "stripe_orientation_error": "degrees between the orientations (atan2(fy, fx) modulo 180) of the same peaks, in "
    "[0, 90]; same garments as stripe_period_error",
    "hf_energy_ratio": f"energy at |f| >= {HIGH_FREQUENCY} cycles/pixel, generated / true (generated floored at "
    f"8-bit rounding noise's); only garments whose truth holds >= {HF_TEXTURE:g} x that noise there; geometric "
    "mean over garments and pairs",
}


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


def _average(scores: pd.DataFrame, metric: str, column: str) -> float | None:
    if column not in scores:
        return None
    value = average(metric, scores[column].to_numpy(dtype=float))
    return None if math.isnan(value) else value


def texture_parts(scores: pd.DataFrame) -> dict[str, dict]:
    """garment -> its pairs scored, those with a dominant stripe in the truth, and each metric's mean."""
    found = {}
    for name in GARMENTS:
        if f"texture_distance_{name}" in scores:
            found[name] = {
                "pairs": int(scores[f"texture_distance_{name}"].notna().sum()),
                "striped_pairs": int(scores[f"stripe_period_error_{name}"].notna().sum()),
            } | {metric: _average(scores, metric, f"{metric}_{name}") for metric in TEXTURE_METRICS}
    return found


def metrics_document(
    *,
    dataset: str,
    method: str,
    scores: pd.DataFrame,
    test_pairs: int,
    size: tuple[int, int],
    generated_size: tuple[int, int] | None,
    protocol: Protocol,
    fid: float | None,
    fid_counts: tuple[int, int] | None,
    unavailable: dict[str, str],
    weights: dict[str, str | None],
    warnings: list[str] = (),
    meaningful: bool = True,
) -> dict:
    """``warnings``: what makes the numbers less than comparable (random weights, small sets);
    ``meaningful``: false when the numbers come from random weights."""
    ordered = scores.sort_values("file")
    lpips_kept = kept(len(ordered), protocol.lpips_batch, protocol.lpips_drop_last)
    lpips = _mean(ordered["lpips"].iloc[:lpips_kept]) if "lpips" not in unavailable else None
    parts = [c for c in scores.columns if c.startswith("colour_") and c != "colour_error"]
    return {
        "schema": SCHEMA,
        "dataset": dataset,
        "method": method,
        "meaningful": meaningful,
        "warnings": list(warnings),
        "fid": fid,
        "lpips": lpips,
        "ssim": _mean(scores["ssim"]),
        "ssim_256": _mean(scores["ssim_256"]),
        "psnr": _mean(scores["psnr"]),
        "colour_error": _mean(scores["colour_error"]) if "colour_error" in scores else None,
        "colour_error_parts": {c.removeprefix("colour_"): _mean(scores[c]) for c in parts},
        **{metric: _average(scores, metric, metric) for metric in TEXTURE_METRICS},
        "texture_parts": texture_parts(scores),
        "background_std": _mean(scores["background_std"]) if "background_std" in scores else None,
        "background_std_truth": _mean(scores["background_std_truth"]) if "background_std_truth" in scores else None,
        "unavailable": unavailable,
        "protocol": {
            "size": list(size),
            "generated_size": list(generated_size) if generated_size else None,
            **protocol.record(),
            **DEFINITIONS,
            "colour_error": COLOUR_DEFINITION,
            **TEXTURE_DEFINITIONS,
            "background_std": BACKGROUND_DEFINITION,
        },
        "counts": {
            "test_pairs": test_pairs,
            "generated": len(scores),
            "lpips": lpips_kept if lpips is not None else None,
            "fid_real": fid_counts[0] if fid_counts else None,
            "fid_generated": fid_counts[1] if fid_counts else None,
        },
        "weights": weights,
        "versions": library_versions(),
    }
