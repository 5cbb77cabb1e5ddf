"""The ``missing_colour`` section of ``metrics.json`` as tables (``metrics.md``, the
report): coverage, the three groups, and ``mask`` against ``drop`` with intervals."""

from __future__ import annotations

from lilyvae.evaluation.table_format import Table, format_value, lookup, synthetic_tag

#: Group names as the tables show them.
GROUP_LABELS = {
    "complete": "complete",
    "without_colour": "without colour",
    "colour_hidden": "colour hidden",
}


def missing_tables(metrics: dict) -> list[Table]:
    """The scores of the ``missing_colour`` section (none when it is absent): the three
    groups, and ``mask`` against ``drop``. Its coverage is :func:`coverage_table`."""
    if not metrics.get("missing_colour"):
        return []
    tables = (groups_table(metrics), comparison_table(metrics))
    return [t for t in tables if t is not None]


def coverage_table(metrics: dict) -> Table | None:
    """Bins and boreholes of the table with and without colour, and what each model
    embeds of them."""
    cov = lookup(metrics, "missing_colour", "coverage")
    if not cov:
        return None
    rows = [
        [
            "the table",
            "-",
            cov["rows_with_colour"],
            cov["rows_without_colour"],
            "-",
            cov.get("boreholes"),
            cov.get("boreholes_without_any_colour"),
        ]
    ]
    for name, m in cov["models"].items():
        rows.append(
            [
                name,
                m["missing"],
                m["rows_embedded_with_colour"],
                m["rows_embedded_without_colour"],
                m["rows_not_embedded"],
                m.get("boreholes_embedded"),
                m.get("boreholes_embedded_without_colour_only"),
            ]
        )
    return Table(
        "Coverage: bins and boreholes embedded with and without colour",
        [
            "",
            "missing",
            "bins with colour",
            "bins without colour",
            "bins not embedded",
            "boreholes",
            "boreholes without any colour",
        ],
        rows,
        f"{synthetic_tag(metrics)}Bins are the table's 20 cm rows that have an input. A model "
        "trained with --missing drop (the reference's way) embeds only bins with all six "
        "inputs; one trained with --missing mask embeds every bin. Model rows count the bins "
        "and boreholes embedded; the last column, boreholes embedded only through bins "
        "without colour.",
    )


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def groups_table(metrics: dict) -> Table | None:
    section = metrics["missing_colour"]
    subjects = section.get("subjects")
    if not subjects:
        return None
    rows = []
    for name, s in subjects.items():
        for group, e in s["groups"].items():
            r2 = e.get("r2") or {}
            rows.append(
                [
                    name,
                    s.get("missing") or "-",
                    GROUP_LABELS[group],
                    e["rows"],
                    e["embedded"],
                    format_value(lookup(e, "linear", "balanced_accuracy")),
                    format_value(lookup(e, "head", "balanced_accuracy")),
                    format_value(_mean([r2.get(k) for k in ("GRA", "MS", "NGR")])),
                    format_value(_mean([r2.get(k) for k in ("R", "G", "B")])),
                    format_value(e.get("embedding_shift")),
                ]
            )
    return Table(
        "What a missing colour scan costs (held-out boreholes)",
        [
            "subject",
            "missing",
            "group",
            "rows",
            "embedded",
            "linear bal. acc",
            "head bal. acc",
            "R2 GRA, MS, NGR",
            "R2 R, G, B",
            "embedding shift",
        ],
        rows,
        f"{synthetic_tag(metrics)}Rows of held-out boreholes: complete (all six inputs), "
        "without colour (GRA, MS and NGR only), and colour hidden (the complete rows with R, "
        "G, B hidden on purpose). Linear: a linear discriminant fitted on the "
        "representation of complete rows of the training boreholes, the same for every "
        "group; 'features' is the baseline of the scaled inputs (all six on complete rows, "
        "GRA, MS and NGR otherwise; hidden colour filled in by a linear regression on them). "
        "R2 in raw units, decoding the posterior mean (mean over the inputs named); for "
        "hidden colour, R2 of the colour the model fills in. Embedding shift: mean distance "
        "between a row's embedding with and without its colour, over the spread of the "
        "complete rows' embeddings.",
    )


def comparison_table(metrics: dict) -> Table | None:
    comparisons = metrics["missing_colour"].get("comparisons")
    if not comparisons:
        return None
    rows = []
    for c in comparisons:
        bounds = f"[{c['low']:+.3f}, {c['high']:+.3f}]" if c["low"] is not None else "n/a"
        rows.append(
            [
                c["kind"],
                c["recipe"] or "-",
                c["metric"],
                f"{c['drop_mean']:.3f} ({c['drop_models']})",
                f"{c['mask_mean']:.3f} ({c['mask_models']})",
                f"{c['difference']:+.3f}",
                f"{bounds} {c['interval']}",
                c["verdict"],
            ]
        )
    return Table(
        "'mask' against 'drop' on complete rows (intervals over seeds)",
        [
            "kind",
            "recipe",
            "metric",
            "drop (models)",
            "mask (models)",
            "mask - drop",
            "95% interval",
            "verdict",
        ],
        rows,
        f"{synthetic_tag(metrics)}Complete rows of held-out boreholes. Student's t 95% "
        "interval of the difference over seeds (paired by seed where the models' seeds "
        "match, else Welch's); a verdict only where the interval excludes 0.",
    )


def missing_summary(metrics: dict) -> list[str]:
    """Lines for the terminal: held-out rows per group, and each comparison's verdict."""
    section = metrics.get("missing_colour") or {}
    rows = section.get("held_out_rows")
    if not rows:
        return []
    out = [
        "missing colour (held-out rows): "
        + ", ".join(f"{GROUP_LABELS[g]} {n:,}" for g, n in rows.items())
        + " (see metrics.md: what a missing colour scan costs)"
    ]
    for c in section.get("comparisons") or []:
        out.append(
            f"  {c['kind']}/{c['recipe']} {c['metric']}: mask - drop {c['difference']:+.3f}, "
            f"{c['verdict']}"
        )
    return out
