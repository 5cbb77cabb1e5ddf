"""The probability scores (:mod:`.probability_scores`) as a table and as summary lines,
read from ``metrics.json``'s dictionary only."""

from __future__ import annotations

from lilyvae.evaluation.table_format import Table, format_value, lookup, synthetic_tag

#: (heading, path in a subject's ``probabilities`` entry).
_COLUMNS = (
    ("calibrated", ("calibrated",)),
    ("rows", ("rows",)),
    ("ECE raw", ("class", "raw", "ece")),
    ("ECE cal.", ("class", "calibrated", "ece")),
    ("log-loss raw", ("class", "raw", "log_loss")),
    ("log-loss cal.", ("class", "calibrated", "log_loss")),
    ("group ECE raw", ("group", "raw", "ece")),
    ("group ECE cal.", ("group", "calibrated", "ece")),
    ("90% set coverage", ("class", "calibrated", "coverage_90")),
    ("90% set mean size", ("class", "calibrated", "mean_set_size_90")),
    ("novelty AUROC", ("novelty", "auroc")),
)


def _scored(metrics: dict) -> dict[str, dict]:
    return {
        name: s["probabilities"]
        for name, s in metrics["subjects"].items()
        if isinstance(s.get("probabilities"), dict) and "skipped" not in s["probabilities"]
    }


def probability_table(metrics: dict) -> Table | None:
    """One row per model with probabilities: calibration error, log-loss, sets, novelty."""
    scored = _scored(metrics)
    if not scored:
        return None
    rows = [
        [name, *(format_value(lookup(p, *path)) for _, path in _COLUMNS)]
        for name, p in scored.items()
    ]
    excluded = sorted({e for p in scored.values() for e in p.get("excluded", [])})
    novel = (metrics["evaluation"].get("novel_interval") or {}).get("borehole")
    note = (
        f"{synthetic_tag(metrics)}The lithology probabilities on labelled held-out rows: "
        "expected calibration error (15 equal-width bins of the top probability) and "
        "log-loss of the model's own head (or, for a model without one, the calibration's "
        "stand-in head), raw and after the calibration beside the model (M.calibration.json, "
        "from lilyvae calibrate); coverage and mean size of the calibrated 90% prediction "
        "sets (lithologies)."
        + (f" Rows left out: {'; '.join(excluded)}." if excluded else "")
        + (
            f" Novelty AUROC: the novelty score of the injected out-of-distribution bins of "
            f"{novel} against the other scored bins."
            if novel
            else " Novelty AUROC needs known out-of-distribution bins (synth --novel-interval)."
        )
    )
    return Table(
        "Lithology probabilities: calibration, prediction sets, novelty",
        ["subject", *(heading for heading, _ in _COLUMNS)],
        rows,
        note,
    )


def _arrow(p: dict, level: str, key: str) -> str:
    raw = format_value(lookup(p, level, "raw", key))
    after = lookup(p, level, "calibrated", key)
    return raw if after is None else f"{raw} -> {format_value(after)}"


def probability_lines(metrics: dict) -> list[str]:
    """The summary's lines: one per model with probabilities."""
    scored = _scored(metrics)
    if not scored:
        return []
    lines = ["lithology probabilities (held-out rows; raw -> calibrated where calibrated):"]
    for name, p in scored.items():
        parts = [f"ECE {_arrow(p, 'class', 'ece')}", f"log-loss {_arrow(p, 'class', 'log_loss')}"]
        coverage = lookup(p, "class", "calibrated", "coverage_90")
        if coverage is not None:
            size = lookup(p, "class", "calibrated", "mean_set_size_90")
            parts.append(
                f"90% sets cover {format_value(coverage)} (mean size {format_value(size, 1)})"
            )
        auroc = lookup(p, "novelty", "auroc")
        if auroc is not None:
            parts.append(f"novelty AUROC {format_value(auroc)}")
        lines.append(f"  {name}: " + ", ".join(parts))
    return lines
