"""FID statistics and distance: clean-fid's Frechet distance on (mean, covariance) of features."""

from __future__ import annotations

import numpy as np
from cleanfid.fid import frechet_distance as _clean_fid_distance


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) features -> mean (D,) and covariance (D, D) with N - 1 in the denominator, as every
    FID implementation of the peers computes them."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"expected (N >= 2, D) features, got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)) (clean-fid's implementation)."""
    return float(_clean_fid_distance(mu1, sigma1, mu2, sigma2))
