"""The report of an ensemble run (``lilyvae bootstrap``, ``lilyvae sweep``): one
self-contained HTML file with the members' metrics and their intervals, the figures,
every member's row, the failures, and the run's manifest.

:func:`lilyvae.report.run_report.build_report` writes it for a directory holding a
``run.json``; the pieces of the page are those of a single run's report
(:mod:`lilyvae.report.html_blocks`).
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path

from lilyvae import __version__
from lilyvae.files import to_json
from lilyvae.report.ensemble_run import ENSEMBLE_MANIFEST, EnsembleFiles
from lilyvae.report.html_blocks import document, escape, figures_section, table_html


def _interval(entry: dict, low: str = "low", high: str = "high") -> str:
    if entry.get(low) is None or entry.get(high) is None:
        return f"no interval (n={entry.get('n', 0)})"
    return f"[{entry[low]:.4g}, {entry[high]:.4g}]"


def _head(run: EnsembleFiles, title: str) -> list[str]:
    written = datetime.datetime.now().isoformat(timespec="seconds")
    parts = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">Run directory <code>{escape(run.root.resolve())}</code> (run '
        f"{escape(run.summary.get('run_id'))}); written {escape(written)} by lilyvae "
        f"{escape(__version__)}.</p>",
        '<nav><a href="#summary">summary</a><a href="#figures">figures</a>'
        '<a href="#members">members</a><a href="#manifest">run manifest</a></nav>',
    ]
    if run.synthetic:
        parts.append(
            '<div class="banner synthetic" id="synthetic-caveat">SYNTHETIC DATA. '
            f"{escape(run.manifest.get('synthetic_notice') or '')} Every number and figure "
            "below describes the synthetic data set made by lilyvae's generator, not the LILY "
            "database.</div>"
        )
    s = run.summary
    cls = "insample" if s.get("failed") or s.get("pending") else "heldout"
    held_out = run.manifest.get("identity", {}).get("split")
    scored = (
        "members scored on held-out boreholes"
        if held_out
        else "no held-out boreholes: only the training losses"
    )
    parts.append(
        f'<div class="banner {cls}" id="status">{escape(s["kind"])}: {escape(run.status)}; '
        f"{escape(scored)}.</div>"
    )
    return parts


def _bootstrap_table(summary: dict) -> str:
    baseline = (summary.get("baseline") or {}).get("metrics") or {}
    rows = [
        [
            name,
            m.get("mean"),
            _interval(m),
            _interval(m, "mean_low", "mean_high"),
            m.get("n"),
            baseline.get(name),
        ]
        for name, m in summary["metrics"].items()
    ]
    columns = ["metric", "mean", "95% of members", "95% interval of the mean", "n"]
    return table_html([*columns, "scaled inputs"], rows)


def _sweep_table(summary: dict) -> str:
    cells = summary["cells"]
    names = list(next((c["metrics"] for c in cells if c["metrics"]), {}))
    rows = []
    for c in cells:
        row = [c["name"], f"{c['ok']}/{c['seeds']}"]
        for name in names:
            m = c["metrics"].get(name) or {}
            mean = m.get("mean")
            shown = "-" if mean is None or not math.isfinite(mean) else f"{mean:.4g}"
            row.append(f"{shown} {_interval(m)}")
        rows.append(row)
    return table_html(["cell", "ok", *(f"{n} (mean, 95% interval)" for n in names)], rows)


def _summary_section(run: EnsembleFiles) -> list[str]:
    s = run.summary
    table = _bootstrap_table(s) if s["kind"] == "bootstrap" else _sweep_table(s)
    parts = [
        '<h2 id="summary">Summary</h2>',
        table,
        f'<p class="note">{escape(s["interval"]["note"])}.</p>',
    ]
    comparison = s.get("group_comparison")
    if comparison:
        tag = "SYNTHETIC data. " if run.synthetic else ""
        parts.append(
            f'<p class="verdict" id="group-verdict">{tag}Lithology groups, the embedding '
            f"against the strongest baseline: {escape(comparison['verdict'])} "
            f"({escape(comparison['interval'])}; a verdict only where it excludes 0).</p>"
        )
    return parts


def _members_section(run: EnsembleFiles) -> list[str]:
    members = run.members.astype(object).where(run.members.notna(), None)
    parts = [
        '<h2 id="members">Members</h2>',
        table_html(list(members.columns), members.values.tolist()),
    ]
    if run.failures:
        items = "".join(
            f"<li>{escape(key)} (seed {escape(f.get('seed'))}): {escape(f.get('reason'))}</li>"
            for key, f in run.failures.items()
        )
        parts.append(
            f'<h3 id="failures">Failures</h3><ul class="warnings">{items}</ul>'
            '<p class="note">Re-running the same command retries them.</p>'
        )
    return parts


def ensemble_report_html(
    run: EnsembleFiles, manifest: dict | None, title: str | None, figures_dir: Path
) -> str:
    """The whole page of an ensemble run (``manifest``: its ``figures.json`` in
    ``figures_dir``, or None before ``lilyvae figures``)."""
    title = title or f"lilyvae {run.kind} report" + (" (SYNTHETIC data)" if run.synthetic else "")
    parts = [
        *_head(run, title),
        *_summary_section(run),
        *figures_section(figures_dir, manifest),
        *_members_section(run),
        f'<h2 id="manifest">Run manifest ({ENSEMBLE_MANIFEST})</h2>',
        f"<pre>{escape(to_json(run.manifest))}</pre>",
    ]
    return document(title, parts)
