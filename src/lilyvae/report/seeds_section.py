"""The report's section on models across seeds (``seeds.json``, which the demo writes):
each model's held-out balanced accuracy over its seeds, with its 95% interval, and the
comparisons, with a verdict only where the intervals separate."""

from __future__ import annotations

from lilyvae.report.html_blocks import escape, table_html


def _interval(entry: dict | None) -> str:
    if not entry:
        return "-"
    if entry.get("low") is None:
        return f"none ({entry.get('n', 0)} values)"
    return f"[{entry['low']:.3f}, {entry['high']:.3f}]"


def seeds_section(seeds: dict | None) -> list[str]:
    """The section's HTML parts; nothing when the run has no ``seeds.json``."""
    if not seeds or not seeds.get("models"):
        return []
    compared = seeds.get("compared") or []
    columns = ["model", "seeds"]
    for metric in compared:
        columns += [f"{metric} (mean)", "95% interval of the mean"]
    rows = []
    for name, model in seeds["models"].items():
        row = [name, ", ".join(str(s) for s in model.get("seeds", []))]
        for metric in compared:
            entry = model.get("metrics", {}).get(metric)
            row += [None if not entry else entry.get("mean"), _interval(entry)]
        rows.append(row)
    verdicts = [
        [c["label"], c["metric"], c["a"], c["b"], c["verdict"]] for c in seeds["comparisons"]
    ]
    return [
        '<h2 id="seeds">Across seeds</h2>',
        table_html(columns, rows),
        table_html(["comparison", "metric", "model", "against", "verdict"], verdicts),
        f'<p class="note">{escape(seeds.get("interval", ""))}. The tables above score '
        "each model's first seed; these, every seed.</p>",
    ]
