"""Views of the JSON-lines training log: the loss curve as a PNG, the records as CSV (what
`dvc plots` reads)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)

from dnaf.io.atomic import atomic_write  # noqa: E402

LOG_COLUMNS = ("step", "epoch", "loss", "lr", "samples_per_s")


def _records(log: Path) -> list[dict]:
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def plot_loss(log: Path, out: Path) -> None:
    records = _records(log)
    if not records:
        return
    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=100)
    axis.plot([r["step"] for r in records], [r["loss"] for r in records], lw=1.2)
    axis.set_xlabel("optimiser step")
    axis.set_ylabel("training loss (MSE)")
    axis.set_yscale("log")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.png")
    figure.savefig(tmp)
    plt.close(figure)
    tmp.replace(out)


def write_log_csv(log: Path, out: Path) -> None:
    """The log's records as CSV with a header row (nothing is written for an empty log)."""
    records = _records(log)
    if not records:
        return
    with atomic_write(out) as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
