"""Tables of several metrics.json documents (one row per method, or per protocol), as Markdown or
HTML cells."""

from __future__ import annotations

COLUMNS = (("fid", "FID", "{:.3f}"), ("lpips", "LPIPS", "{:.4f}"), ("ssim", "SSIM", "{:.4f}"),
           ("ssim_256", "SSIM_256", "{:.4f}"), ("psnr", "PSNR", "{:.2f}"))  # fmt: skip
COLOUR_COLUMNS = (("colour_error", "colour error", "{:.4f}"), ("background_std", "background noise", "{:.2f}"))
"""Shown when a document has them: only synthetic data has part label maps."""
TEXTURE_COLUMNS = (("texture_distance", "texture distance", "{:.3f}"),
                   ("stripe_period_error", "period error", "{:.3f}"),
                   ("stripe_orientation_error", "orientation error (°)", "{:.1f}"),
                   ("hf_energy_ratio", "HF energy ratio", "{:.3f}"))  # fmt: skip
"""Shown when a document has them: the garments' texture, also from part label maps."""
BETTER = {"fid": "lower", "lpips": "lower", "ssim": "higher", "ssim_256": "higher", "psnr": "higher",
          "colour_error": "lower", "texture_distance": "lower", "stripe_period_error": "lower",
          "stripe_orientation_error": "lower", "hf_energy_ratio": "one", "background_std": "lower"}  # fmt: skip
ARROWS = {"lower": "↓", "higher": "↑", "one": "→1"}


def columns(documents: list[dict]) -> tuple[tuple[str, str, str], ...]:
    """The metric columns of a table of these documents."""
    with_colour = any(d.get("colour_error") is not None for d in documents)
    with_texture = any(d.get("texture_distance") is not None for d in documents)
    return COLUMNS + (COLOUR_COLUMNS if with_colour else ()) + (TEXTURE_COLUMNS if with_texture else ())


def cell(document: dict, key: str, form: str) -> str:
    value = document.get(key)
    return form.format(value) if value is not None else "n/a"


def metrics_rows(documents: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: method, the five metrics ('n/a' when unavailable), the colour error and the
    texture metrics where there are some, images scored."""
    shown = columns(documents)
    header = ["method", *(f"{title} ({ARROWS[BETTER[key]]})" for key, title, _ in shown), "images"]
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


def warning_notes(documents: list[dict]) -> list[str]:
    """One line per distinct warning (random weights, small sets)."""
    return list(dict.fromkeys(f"WARNING: {note}" for d in documents for note in d.get("warnings", [])))


def _markdown(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def markdown_table(documents: list[dict]) -> str:
    """One row per method, all scored under one protocol."""
    lines = _markdown(*metrics_rows(documents))
    protocol = documents[0]["protocol"]
    lines += [
        "",
        f"{documents[0]['dataset']} test set, scored at {protocol['size'][0]}x{protocol['size'][1]} "
        f"(generated at {'x'.join(map(str, protocol['generated_size'] or []))}) under protocol {protocol['name']} "
        f"(real images resized {protocol['real_resize']}, generated {protocol['generated_resize']}).",
    ]
    lines += [f"- {note}" for note in warning_notes(documents) + unavailable_notes(documents)]
    return "\n".join(lines) + "\n"


def protocol_table(documents: list[dict], refused: dict[str, str] | None = None) -> str:
    """One method scored under several protocols: one row per protocol, with what it matches;
    ``refused``: protocols that could not score the folder, and why."""
    header, rows = metrics_rows(documents)
    header = ["protocol", *header[1:], "matches"]
    rows = [[d["protocol"]["name"], *row[1:], d["protocol"]["matches"]] for d, row in zip(documents, rows, strict=True)]
    lines = [f"{documents[0]['method']} on the {documents[0]['dataset']} test set under each evaluation protocol", ""]
    lines += _markdown(header, rows)
    lines += ["", *(f"- {note}" for note in warning_notes(documents) + unavailable_notes(documents))]
    lines += [f"- NOT SCORED under {name}: {' '.join(reason.split())}" for name, reason in (refused or {}).items()]
    return "\n".join(lines) + "\n"


def summary_line(document: dict) -> str:
    shown = ", ".join(f"{title} {cell(document, key, form)}" for key, title, form in columns([document]))
    return f"{document['method']} on {document['dataset']}: {shown}"
