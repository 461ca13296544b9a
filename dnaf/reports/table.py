"""Tables of several metrics.json documents (one row per method), as Markdown or HTML cells."""

from __future__ import annotations

COLUMNS = (("fid", "FID", "{:.3f}"), ("lpips", "LPIPS", "{:.4f}"), ("ssim", "SSIM", "{:.4f}"),
           ("ssim_256", "SSIM_256", "{:.4f}"), ("psnr", "PSNR", "{:.2f}"))  # fmt: skip
COLOUR_COLUMN = ("colour_error", "colour error", "{:.4f}")
"""Shown when a document has it: only synthetic data has part label maps."""
BETTER = {"fid": "lower", "lpips": "lower", "ssim": "higher", "ssim_256": "higher", "psnr": "higher",
          "colour_error": "lower"}  # fmt: skip


def columns(documents: list[dict]) -> tuple[tuple[str, str, str], ...]:
    """The metric columns of a table of these documents."""
    with_colour = any(d.get("colour_error") is not None for d in documents)
    return COLUMNS + ((COLOUR_COLUMN,) if with_colour else ())


def cell(document: dict, key: str, form: str) -> str:
    value = document.get(key)
    return form.format(value) if value is not None else "n/a"


def metrics_rows(documents: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: method, the five metrics ('n/a' when unavailable) and the colour error where
    there is one, images scored."""
    shown = columns(documents)
    header = ["method", *(f"{title} ({'↓' if BETTER[key] == 'lower' else '↑'})" for key, title, _ in shown), "images"]
    rows = [
        [d["method"], *(cell(d, key, form) for key, _, form in shown), str(d["counts"]["generated"])] for d in documents
    ]
    return header, rows


def unavailable_notes(documents: list[dict]) -> list[str]:
    """One line per distinct reason a metric is missing."""
    notes = {}
    for document in documents:
        for metric, reason in document.get("unavailable", {}).items():
            notes.setdefault(f"{metric.upper()} n/a: {reason}", None)
    return list(notes)


def markdown_table(documents: list[dict]) -> str:
    header, rows = metrics_rows(documents)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    protocol = documents[0]["protocol"]
    lines += [
        "",
        f"{documents[0]['dataset']} test set, scored at {protocol['size'][0]}x{protocol['size'][1]} "
        f"(generated at {'x'.join(map(str, protocol['generated_size'] or []))}, resized {protocol['resize']}); "
        f"FID protocol {protocol['fid_protocol']}.",
    ]
    lines += [f"- {note}" for note in unavailable_notes(documents)]
    return "\n".join(lines) + "\n"
