"""Per-image SSIM (both variants in use), PSNR, as scikit-image computes them (PROTOCOL.md)."""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def _check(ground_truth: np.ndarray, generated: np.ndarray) -> None:
    if ground_truth.shape != generated.shape or ground_truth.ndim != 3 or ground_truth.shape[2] != 3:
        raise ValueError(f"expected two (H, W, 3) images of one size, got {ground_truth.shape} and {generated.shape}")


def ssim(ground_truth: np.ndarray, generated: np.ndarray) -> float:
    """CFLD's "SSIM": uniform 51x51 window on [0, 1] images, data_range 1. Inputs: (H, W, 3) uint8."""
    _check(ground_truth, generated)
    return float(
        structural_similarity(ground_truth / 255.0, generated / 255.0, data_range=1.0, win_size=51, channel_axis=2)
    )


def ssim_256(ground_truth: np.ndarray, generated: np.ndarray, sigma: float = 1.5) -> float:
    """GFLA/DPTN/CFLD "SSIM_256": Gaussian window (sigma 1.5; PIDM/PCDMs use 1.2), population
    covariance, 0-255 scale, data_range = max - min of the generated image."""
    _check(ground_truth, generated)
    generated = generated.astype(np.float64)
    return float(
        structural_similarity(
            ground_truth.astype(np.float64), generated, gaussian_weights=True, sigma=sigma,
            use_sample_covariance=False, data_range=float(generated.max() - generated.min()), channel_axis=2,
        )
    )  # fmt: skip


def psnr(ground_truth: np.ndarray, generated: np.ndarray) -> float:
    """PSNR on [0, 1] images (data_range 1), per image."""
    _check(ground_truth, generated)
    return float(peak_signal_noise_ratio(ground_truth / 255.0, generated / 255.0, data_range=1.0))
