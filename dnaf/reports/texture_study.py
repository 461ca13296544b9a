"""The texture study's table: per model, the texture metrics, the seed-to-seed spreads and the
training cost (docs/texture-study.md)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from dnaf.reports.table import ARROWS, BETTER, COLOUR_COLUMNS, TEXTURE_COLUMNS, cell

STABILITY_COLUMNS = (("spectrum_spread", "seed spread: spectrum", "{:.3f}"),
                     ("period_spread", "seed spread: period", "{:.3f}"),
                     ("orientation_spread", "seed spread: orientation (°)", "{:.1f}"))  # fmt: skip
"""From `dnaf seed-stability` (dnaf.metrics.texture_stability): lower is more stable."""


def training_rate(train_log: Path) -> float:
    """Median training samples per second over the log lines of a run (train_log.csv)."""
    rates = pd.read_csv(train_log)["samples_per_s"].dropna()
    return float(rates.median()) if len(rates) else math.nan


def study_table(metrics: list[dict], stability: list[dict], rates: list[float]) -> str:
    """One row per model: colour and texture metrics, background noise, seed spreads, training
    samples/s and the time per step relative to the cheapest model's (the pose-only one)."""
    header = ["model", *(f"{title} ({ARROWS[BETTER[key]]})" for key, title, _ in COLOUR_COLUMNS + TEXTURE_COLUMNS),
              *(f"{title} (↓)" for _, title, _ in STABILITY_COLUMNS), "train samples/s", "step cost"]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    fastest = max(rates)
    for document, spreads, rate in zip(metrics, stability, rates, strict=True):
        cost = fastest / rate if rate > 0 else math.nan
        row = [document["method"], *(cell(document, key, form) for key, _, form in COLOUR_COLUMNS + TEXTURE_COLUMNS)]
        row += [*(cell(spreads, key, form) for key, _, form in STABILITY_COLUMNS), f"{rate:.1f}", f"{cost:.2f} x"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
