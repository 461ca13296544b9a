"""A self-contained HTML report: the metrics table, the protocol record, pictures (embedded)."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from dnaf.reports.table import metrics_rows, unavailable_notes, warning_notes

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
td:first-child,th:first-child{text-align:left}img{max-width:100%;image-rendering:pixelated}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:85%}.note{color:#844}
.warning{background:#fdd;border:2px solid #c33;padding:.6em 1em;font-weight:bold}"""


def _image(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    caption = html.escape(caption)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{caption}"><figcaption>{caption}</figcaption></figure>'
    )


def render_report(title: str, documents: list[dict], pictures: list[tuple[Path, str]]) -> str:
    """``documents``: metrics.json contents, the first being the main run; ``pictures``: (PNG, caption),
    those whose file does not exist are left out."""
    header, rows = metrics_rows(documents)
    table = "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
    table += "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    table += "</table>"
    banner = ""
    if not all(d.get("meaningful", True) for d in documents):
        banner = ('<p class="warning">NOT MEANINGFUL: these numbers were computed with seeded random weights '
                  "(a rehearsal of the code path), not with the published networks.</p>")  # fmt: skip
    notes = "".join(
        f'<p class="note">{html.escape(n)}</p>' for n in warning_notes(documents) + unavailable_notes(documents)
    )
    record = {k: documents[0][k] for k in ("protocol", "counts", "weights", "versions")}
    figures = "".join(_image(path, caption) for path, caption in pictures if path.is_file())
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{banner}<h2>Metrics</h2>{table}{notes}"
        f"<h2>Pictures</h2>{figures}<h2>Protocol record ({html.escape(documents[0]['method'])})</h2>"
        f"<pre>{html.escape(json.dumps(record, indent=2))}</pre></body></html>\n"
    )
