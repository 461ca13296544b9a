"""Per-image SSIM (both variants in use), PSNR, as scikit-image computes them in the peers' scripts.

Inputs are (H, W, 3) images of one size: uint8, or float on the [0, 1] scale (the evaluation's
unit images, which may overshoot a little after a cubic resize).
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def _unit(image: np.ndarray) -> np.ndarray:
    return image / 255.0 if image.dtype == np.uint8 else np.asarray(image, dtype=np.float64)


def _check(ground_truth: np.ndarray, generated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if ground_truth.shape != generated.shape or ground_truth.ndim != 3 or ground_truth.shape[2] != 3:
        raise ValueError(f"expected two (H, W, 3) images of one size, got {ground_truth.shape} and {generated.shape}")
    return _unit(ground_truth), _unit(generated)


def ssim(ground_truth: np.ndarray, generated: np.ndarray) -> float:
    """ "SSIM" of every peer: uniform 51x51 window on [0, 1] images, data_range 1."""
    truth, made = _check(ground_truth, generated)
    return float(structural_similarity(truth, made, data_range=1.0, win_size=51, channel_axis=2))


def ssim_256(ground_truth: np.ndarray, generated: np.ndarray, sigma: float = 1.5) -> float:
    """ "SSIM_256": Gaussian window (sigma 1.5 in GFLA/DPTN/CFLD, 1.2 in PIDM/PCDMs), population
    covariance, 0-255 scale, data_range = max - min of the generated image."""
    truth, made = _check(ground_truth, generated)
    truth, made = truth * 255.0, made * 255.0
    return float(
        structural_similarity(
            truth, made, gaussian_weights=True, sigma=sigma, use_sample_covariance=False,
            data_range=float(made.max() - made.min()), channel_axis=2,
        )
    )  # fmt: skip


def psnr(ground_truth: np.ndarray, generated: np.ndarray) -> float:
    """PSNR on [0, 1] images (data_range 1), per image."""
    truth, made = _check(ground_truth, generated)
    return float(peak_signal_noise_ratio(truth, made, data_range=1.0))
