"""The training loss curve as a PNG, from the JSON-lines training log."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)


def plot_loss(log: Path, out: Path) -> None:
    if not log.is_file():
        return
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
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
