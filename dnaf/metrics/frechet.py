"""FID statistics and distance: clean-fid's Frechet distance (pytorch-fid's, which every peer
copies) on (mean, covariance) of features, with the failures of small sets made clear."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings

import numpy as np
from cleanfid.fid import frechet_distance as _clean_fid_distance

from dnaf.core.errors import DataError

logger = logging.getLogger(__name__)


class FidError(DataError):
    """The Frechet distance cannot be computed from these sets; the message names them."""


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) features -> mean (D,) and covariance (D, D) with N - 1 in the denominator, as every
    FID implementation of the peers computes them."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"expected (N >= 2, D) features, got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def small_set_warning(name: str, count: int, dimension: int) -> str | None:
    """The warning for a set with fewer images than feature dimensions (singular covariance)."""
    if count > dimension:
        return None
    return (
        f"FID: the {name} set has {count} images, not more than the {dimension} feature dimensions: its covariance "
        "is singular, the distance is biased and may not be computable; published FIDs use thousands of images"
    )


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, sets: str = "the two sets"
) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)) (clean-fid's implementation: a non-finite
    square root is retried with 1e-6 added to the diagonals; an imaginary part over 1e-3 on the
    diagonal is an error). ``sets`` names the sets and their counts in the error."""
    printed = io.StringIO()
    try:  # clean-fid prints its retry notice and scipy warns of singular matrices: both go to the log
        with contextlib.redirect_stdout(printed), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            distance = float(_clean_fid_distance(mu1, sigma1, mu2, sigma2))
    except (ValueError, np.linalg.LinAlgError) as error:
        raise FidError(
            f"FID of {sets}: the matrix square root of the covariance product failed ({error}). The covariances are "
            "singular or nearly so: too few images for the feature dimension, or degenerate images (e.g. all "
            "alike). Score more images; no number is reported"
        ) from None
    notices = [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]
    for notice in [printed.getvalue().strip(), *notices]:
        if notice:
            logger.warning("FID of %s: %s", sets, notice)
    if not math.isfinite(distance):
        raise FidError(f"FID of {sets}: the distance is {distance}; no number is reported")
    return distance
