"""The evaluation as text: ``metrics.md`` and the summary printed on the terminal."""

from __future__ import annotations

from lilyvae.evaluation.config import SYNTHETIC_LABEL
from lilyvae.evaluation.missing_tables import coverage_table, missing_summary
from lilyvae.evaluation.tables import (
    Table,
    format_value,
    gmm_components,
    metric_tables,
    summary_table,
)


def _md_escape(text) -> str:
    return str(text).replace("|", "\\|")


def markdown_table(table: Table) -> list[str]:
    """A table as Markdown lines: heading, the table, its note."""
    lines = [f"## {table.title}", ""]
    lines.append("| " + " | ".join(_md_escape(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(_md_escape(format_value(v)) for v in row) + " |")
    return lines + ["", table.note, ""]


def _markdown_head(metrics: dict) -> list[str]:
    ev = metrics["evaluation"]
    lines = ["# lilyvae evaluation", ""]
    if metrics.get("synthetic"):
        lines += [
            f"**{SYNTHETIC_LABEL} DATA.** {metrics.get('synthetic_notice') or ''} These numbers "
            "describe the synthetic data set, not LILY.",
            "",
        ]
    lines += [f"**Mode: {ev['mode']}.** {ev['split']}.", ""]
    if ev["warnings"]:
        lines += ["Warnings:", ""] + [f"- {w}" for w in ev["warnings"]] + [""]
    d = metrics["data"]
    return lines + [
        f"Data: `{d['path']}` (sha256 `{str(d['sha256'])[:16]}`), {d['rows_used']:,} rows "
        f"used, {d['rows_dropped']:,} dropped, {d['n_classes']} lithologies, "
        f"{d.get('boreholes')} boreholes.",
        "",
    ]


def _markdown_tail(metrics: dict) -> list[str]:
    ev = metrics["evaluation"]
    cov = ev["coverage"]
    lines = [
        "## Lithologies and the split",
        "",
        f"{cov['classes_in_table']} lithologies in the table, {cov['classes_in_training_rows']} "
        f"in training-borehole rows, {cov['classes_in_held_out_rows']} in held-out rows.",
        "",
        "Only in held-out boreholes (no classifier can predict them): "
        + (", ".join(cov["classes_without_training_rows"]) or "none"),
        "",
        "Not in held-out boreholes (not scored): "
        + (", ".join(cov["classes_without_held_out_rows"]) or "none"),
        "",
    ]
    if ev["skipped"]:
        lines += ["Skipped: " + "; ".join(ev["skipped"].values()), ""]
    cfg = ev["config"]
    return lines + [
        f"Parameters: SVM {cfg['svm_train_rows']:,}/{cfg['svm_test_rows']:,} rows asked "
        f"({ev['svm_train_rows']:,}/{ev['svm_test_rows']:,} used), GMM "
        f"{gmm_components(ev)} on {ev['gmm_fit_rows']:,} rows, seed "
        f"{cfg['seed']}; evaluation took {metrics['wall_time_s']:.1f} s.",
        "",
    ]


def markdown_report(metrics: dict) -> str:
    """``metrics.md``: the mode, warnings, data, every table and the parameters."""
    lines = _markdown_head(metrics)
    coverage = [t for t in [coverage_table(metrics)] if t is not None]
    for table in [summary_table(metrics), *metric_tables(metrics), *coverage]:
        lines += markdown_table(table)
    return "\n".join(lines + _markdown_tail(metrics))


def summary_text(metrics: dict) -> str:
    """A short plain-text summary for the terminal."""
    ev = metrics["evaluation"]
    out = []
    if metrics.get("synthetic"):
        out.append(f"*** {SYNTHETIC_LABEL} DATA: these numbers do not describe LILY ***")
    out.append(f"mode: {ev['mode']} - {ev['split']}")
    for w in ev["warnings"]:
        out.append(f"WARNING: {w}")
    table = summary_table(metrics)
    cells = [table.columns] + [[str(v) for v in row] for row in table.rows]
    widths = [max(len(r[j]) for r in cells) for j in range(len(table.columns))]
    for i, row in enumerate(cells):
        out.append(
            "  ".join(
                v.ljust(w) if j == 0 else v.rjust(w)
                for j, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append(
        f"(balanced accuracy on held-out rows; SVM: {ev['svm_train_rows']:,} training / "
        f"{ev['svm_test_rows']:,} scored rows, seed {ev['config']['seed']})"
    )
    from lilyvae.evaluation.comparison_tables import verdict_lines
    from lilyvae.evaluation.probability_tables import probability_lines

    lines = out + probability_lines(metrics) + verdict_lines(metrics)
    return "\n".join(lines + missing_summary(metrics))
