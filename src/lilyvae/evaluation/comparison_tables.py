"""The group comparison (:mod:`.baselines`) as a table and its verdict line, read from
``metrics.json``'s dictionary only."""

from __future__ import annotations

from lilyvae.evaluation.table_format import Table, format_value, lookup, synthetic_tag

#: (heading, path into a method's entry).
_COLUMNS = (
    ("bal. acc", ("balanced_accuracy",)),
    ("95% low", ("interval", "low")),
    ("95% high", ("interval", "high")),
    ("macro F1", ("macro_f1",)),
    ("borehole F1 median", ("per_borehole_macro_f1", "median")),
    ("borehole F1 q25", ("per_borehole_macro_f1", "q25")),
    ("borehole F1 q75", ("per_borehole_macro_f1", "q75")),
    ("boundary F1", ("boundary_f1", "f1")),
    ("log-loss", ("log_loss",)),
    ("ECE", ("ece",)),
)


def comparison_table(metrics: dict) -> Table | None:
    """Every method on every representation, with its interval and the field's scores."""
    comparison = metrics.get("group_comparison")
    if not comparison:
        return None
    rows = [
        [entry["representation"], entry["method"]]
        + [format_value(lookup(entry, *path)) for _, path in _COLUMNS]
        for entry in comparison["methods"].values()
    ]
    context = comparison.get("context", 0)
    said = f" with depth context K={context}" if context else ""
    skipped = f" {comparison['skipped']}." if comparison.get("skipped") else ""
    return Table(
        "The strongest baseline: lithology groups from measurements and embeddings",
        ["representation", "method", *(h for h, _ in _COLUMNS)],
        rows,
        f"{synthetic_tag(metrics)}{comparison['task']}{said}, {comparison['test_rows']:,} "
        "rows: linear discriminant analysis and gradient-boosted trees (XGBoost) fitted on "
        "the 14 groups, on training boreholes' rows. Interval: "
        f"{comparison['interval']}. Borehole F1: macro F1 of each held-out borehole "
        "(median and quartiles); boundary F1: predicted changes of group within one bin of "
        f"a described change; ECE: 15 bins.{skipped} Verdict: {comparison['verdict']}",
    )


def difference_table(metrics: dict) -> Table | None:
    """The paired differences the verdict rests on: the best method against the
    runner-up, and each embedding's best method against the strongest baseline."""
    comparison = metrics.get("group_comparison")
    differences = (comparison or {}).get("paired_differences")
    if not differences:
        return None
    named = [("best method", differences.get("best"))]
    named += [(f"{emb} vs strongest baseline", d) for emb, d in differences["embeddings"].items()]
    rows = [
        [what, d["method"], d["against"]]
        + [format_value(d[k]) for k in ("difference", "low", "high", "rounds")]
        + [d["verdict"]]
        for what, d in named
        if d is not None
    ]
    if not rows:
        return None
    return Table(
        "The verdict's paired differences: balanced accuracy of the method minus the other's",
        [
            "comparison",
            "method",
            "against",
            "difference",
            "95% low",
            "95% high",
            "resamples",
            "verdict",
        ],
        rows,
        f"{synthetic_tag(metrics)}Difference: the method's balanced accuracy minus the "
        "other's, both scored on the same resamples of the held-out boreholes. Interval: "
        f"{comparison['difference_interval']}. Paired, because the spread from borehole to "
        "borehole is shared by both methods and cancels in the difference. A verdict only "
        "where the interval excludes 0.",
    )


def verdict_lines(metrics: dict) -> list[str]:
    """The verdict of the group comparison for the terminal (none without one)."""
    comparison = metrics.get("group_comparison")
    if not comparison:
        return []
    out = [f"{synthetic_tag(metrics)}groups ({comparison['task']}): {comparison['verdict']}"]
    if comparison.get("skipped"):
        out.append(f"NOTE: {comparison['skipped']}")
    return out
