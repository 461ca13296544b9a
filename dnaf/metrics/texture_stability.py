"""Seed-to-seed stability of the texture: how much do a pair's garments change with the noise alone?

The paper credits the noise-aware feature with "more stable texture and stripes". For several
outputs of one pair (one per seed), the features behind the texture metrics are taken per garment
(dnaf.metrics.spectrum, inside the ground truth's mask) and their spread over the seeds reported:

- ``spectrum_spread``: the standard deviation over seeds of each bin's log amplitude (floored as
  in the texture distance), averaged over the grid with each bin weighted by its mean power over
  the seeds (nats; 0 when every seed gives the same amplitudes);
- ``period_spread``: the standard deviation of the dominant stripe's signed relative period
  deviation from the ground truth's stripe (dnaf.metrics.stripes.stripe_deviation);
- ``orientation_spread``: the circular standard deviation (modulo 180) of its signed orientation
  gap, in degrees; both NaN when the ground truth has no dominant stripe;
- ``hf_energy_spread``: the standard deviation of ln(high-frequency energy ratio) (nats; ln 2 for
  two seeds a factor 4 apart); NaN when the ground truth holds no high-frequency texture.

Standard deviations are of the population (ddof 0). A pair's value is the mean over its garments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import circstd

from dnaf.data.index import DatasetIndex
from dnaf.data.parts import PART_LABELS, load_part_map, part_map_file
from dnaf.io.images import load_rgb
from dnaf.metrics.spectrum import garment, garment_mask, garment_spectrum, log_amplitude, spectrum_side
from dnaf.metrics.stripes import stripe_deviation
from dnaf.metrics.texture import GARMENTS, hf_energy_ratio

SPREADS = ("spectrum_spread", "period_spread", "orientation_spread", "hf_energy_spread")


def garment_spread(made: Sequence[np.ndarray], truth: np.ndarray, mask: np.ndarray) -> dict[str, float] | None:
    """The four spreads of one garment over the (H, W, 3) outputs ``made``; None when it is too small."""
    region = garment(mask)
    if region is None:
        return None
    side = spectrum_side(region)
    true_spectrum = garment_spectrum(truth, region, side)
    spectra = [garment_spectrum(image, region, side) for image in made]
    logs = np.stack([log_amplitude(s, true_spectrum.floor) for s in spectra])  # (seeds, P, P)
    power = np.mean([s.amplitude**2 for s in spectra], axis=0)  # (P, P)
    spread = float((power * logs.std(axis=0)).sum() / power.sum()) if power.sum() > 0 else 0.0
    periods, orientations = np.array([stripe_deviation(true_spectrum, s) for s in spectra]).T
    ratios = np.array([hf_energy_ratio(true_spectrum, s) for s in spectra])
    striped = not np.isnan(periods).any()
    return {
        "spectrum_spread": spread,
        "period_spread": float(periods.std()) if striped else math.nan,
        "orientation_spread": float(circstd(orientations, high=90, low=-90)) if striped else math.nan,
        "hf_energy_spread": float(np.log(ratios).std()) if not np.isnan(ratios).any() else math.nan,
    }


def seed_stability(made: Sequence[np.ndarray], truth: np.ndarray, parts: np.ndarray) -> dict[str, float]:
    """Outputs of one pair for several seeds (at least 2, (H, W, 3) each), its ground truth and the
    truth's (H, W) part map -> each spread for the pair (mean over garments) and per garment
    (``<spread>_<garment>``); NaN where undefined."""
    if len(made) < 2:
        raise ValueError(f"the spread over seeds needs at least 2 outputs of the pair, got {len(made)}")
    shapes = {image.shape for image in made} | {truth.shape}
    if len(shapes) > 1 or truth.shape[:2] != parts.shape:
        raise ValueError(f"images {sorted(shapes)} and part map {parts.shape} differ in size")
    per_garment = {name: garment_spread(made, truth, garment_mask(parts, PART_LABELS[name])) for name in GARMENTS}
    scores = {}
    for key in SPREADS:
        values = [found[key] for found in per_garment.values() if found and not math.isnan(found[key])]
        scores[key] = float(np.mean(values)) if values else math.nan
    for name, found in per_garment.items():
        scores |= {f"{key}_{name}": found[key] if found else math.nan for key in SPREADS}
    return scores


def seeded_repeats(pairs: pd.DataFrame, count: int, seeds: int) -> pd.DataFrame:
    """``count`` test pairs spread evenly over ``pairs`` (source, target, file, seed), each ``seeds``
    times: seed k is the pair's own seed plus k, the file ``<stem>_seed<k>.png`` (column ``repeat``)."""
    if seeds < 2:
        raise ValueError(f"the spread over seeds needs at least 2 seeds, got {seeds}")
    chosen = pairs.iloc[np.linspace(0, len(pairs) - 1, min(count, len(pairs))).round().astype(int)]
    rows = []
    for _, pair in chosen.drop_duplicates("file").iterrows():
        stem = Path(pair["file"]).stem
        rows += [{"source": pair["source"], "target": pair["target"], "pair": pair["file"], "repeat": k,
                  "file": f"{stem}_seed{k}.png", "seed": int(pair["seed"]) + k} for k in range(seeds)]  # fmt: skip
    return pd.DataFrame(rows)


def stability_scores(
    index: DatasetIndex, root: Path, parts: Path, repeats: pd.DataFrame, samples: Path, size: tuple[int, int]
) -> pd.DataFrame:
    """Per pair of :func:`seeded_repeats`: its spreads over the seeds, at the scoring ``size``."""
    rows = []
    for name, group in repeats.groupby("pair", sort=True):
        target = group["target"].iloc[0]
        truth = load_rgb(root / index.images.at[target, "path"], size)
        labels = load_part_map(part_map_file(parts, target), size)
        made = [load_rgb(samples / file, size, "bicubic-antialias") for file in group["file"]]
        rows.append({"pair": name, "seeds": len(made)} | seed_stability(made, truth, labels))
    return pd.DataFrame(rows)


def stability_summary(scores: pd.DataFrame) -> dict:
    """Each spread's mean over the pairs where it is defined, with that count."""
    summary: dict = {"pairs": len(scores), "seeds": int(scores["seeds"].max()) if len(scores) else 0}
    for key in SPREADS:
        values = scores[key].dropna()
        summary[key] = float(values.mean()) if len(values) else None
        summary[f"{key}_pairs"] = len(values)
    return summary
