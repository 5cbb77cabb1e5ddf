"""The pieces every HTML report of lilyvae is made of: the style sheet, escaping,
tables and embedded figures. A page holds no script and loads nothing."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from lilyvae.errors import LilyVAEError
from lilyvae.evaluation import format_value
from lilyvae.run_folder import MANIFEST

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1em 2em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
.note { color: #555; font-size: 0.85em; max-width: 1100px; }
.banner { padding: 0.8em 1em; margin: 1em 0; border-radius: 4px; font-weight: 600; }
.synthetic { background: #fde2e1; border: 2px solid #c0392b; color: #7b1d14; }
.insample { background: #fff3cd; border: 2px solid #d39e00; color: #6b4f00; }
.heldout { background: #e3f1e3; border: 1px solid #5a9a5a; color: #1f4d1f; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #444; margin-top: 0.3em; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.75em; }
details { margin: 0.4em 0; }
nav a { margin-right: 1em; }
.scroll { overflow-x: auto; }
table.fields { table-layout: fixed; width: 100%; max-width: 1100px; }
table.fields th:first-child, table.fields td:first-child { width: 16em; }
table.fields td { text-align: left; overflow-wrap: anywhere; }
"""


def escape(text) -> str:
    """Text safe in HTML, attribute values included."""
    return html.escape(str(text), quote=True)


def table_html(columns, rows, cls: str = "metrics") -> str:
    """A table that scrolls sideways when wide; values as the metric tables format them."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(format_value(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table class="{cls}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def figure_html(path: Path, title: str, caption: str) -> str:
    """A PNG embedded as base64, with its title and caption."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure id="fig-{escape(path.stem)}"><img src="data:image/png;base64,{data}" '
        f'alt="{escape(title)}"><figcaption><b>{escape(title)}.</b> {escape(caption)}'
        "</figcaption></figure>"
    )


def figures_section(figures_dir: Path, manifest: dict | None) -> list[str]:
    """Every figure of a ``figures.json`` manifest, embedded, with its caption, and
    the figures not drawn."""
    parts = ['<h2 id="figures">Figures</h2>']
    if manifest is None:
        return parts + ['<p class="note">No figures: run <code>lilyvae figures</code> first.</p>']
    for fig in manifest.get("figures", []):
        path = figures_dir / fig["file"]
        if not path.is_file():
            raise LilyVAEError(f"{path}: listed in {MANIFEST} but missing")
        parts.append(figure_html(path, fig["title"], fig["caption"]))
    if manifest.get("skipped"):
        parts.append(
            '<p class="note">Figures not drawn: '
            + escape("; ".join(f"{k}: {v}" for k, v in manifest["skipped"].items()))
            + "</p>"
        )
    return parts


def document(title: str, parts: list[str]) -> str:
    """The whole page: its title, the style sheet and the parts in order."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
