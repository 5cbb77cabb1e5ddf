"""The group comparison over a bootstrap's members: does the embedding's best method
beat the strongest baseline?

Each member's scoring (:mod:`.scoring`) holds the balanced accuracy on the 14 lithology
groups of a linear and a boosted classifier on the measurements, on its embedding and
on both. The strongest baseline is the method on the measurements with the highest mean
over members, the embedding's best method the method on the embedding (and, apart, on
embedding + measurements) with the highest mean. Their difference is taken member by
member, paired, as the evaluation's verdict takes it resample by resample
(:mod:`lilyvae.evaluation.paired`): what every member shares (the held-out boreholes and
the rows scored) cancels in it. Its interval is the 2.5th and 97.5th percentiles over
the members (:func:`lilyvae.evaluation.intervals.interval`), and a verdict is given only
where it excludes 0.
"""

from __future__ import annotations

from lilyvae.evaluation.intervals import interval
from lilyvae.evaluation.paired import NO_VERDICT, SAID, difference_text, direction
from lilyvae.runs.ensemble.scoring import GROUP_METHODS, group_metric

#: The representations compared with the measurements, and how a line names them.
_COMPARED = {"embedding": "embedding", "both": "embedding+features"}


def _mean(rows: list[dict], column: str) -> float | None:
    values = [r[column] for r in rows if r.get(column) is not None]
    return sum(values) / len(values) if values else None


def _best(rows: list[dict], representation: str) -> str | None:
    """The method on ``representation`` with the highest mean over members."""
    means = {m: _mean(rows, group_metric(representation, m)) for m in GROUP_METHODS}
    scored = {m: v for m, v in means.items() if v is not None}
    return max(scored, key=lambda m: scored[m]) if scored else None


def members_comparison(rows: list[dict]) -> dict | None:
    """The ``group_comparison`` section of a bootstrap's summary from its members' rows
    (``members.csv``'s, finished members only); None when they hold no group scores."""
    base = _best(rows, "features")
    if base is None:
        return None
    base_col = group_metric("features", base)
    out: dict = {
        "strongest_baseline": f"features/{base}",
        "interval": "95%: 2.5th and 97.5th percentiles over members of the member's "
        "balanced accuracy minus the strongest baseline's (paired: both on the same rows)",
        "differences": {},
    }
    for rep, label in _COMPARED.items():
        method = _best(rows, rep)
        if method is None:
            continue
        col = group_metric(rep, method)
        paired = [
            r[col] - r[base_col]
            for r in rows
            if r.get(col) is not None and r.get(base_col) is not None
        ]
        spread = interval(paired, "percentile")
        entry = {"method": f"{label}/{method}", "against": f"features/{base}"}
        entry |= {"difference": spread["mean"], "low": spread["low"], "high": spread["high"]}
        entry |= {"members": spread["n"], "verdict": SAID[direction(spread)]}
        out["differences"][rep] = entry
    out["verdict"] = _verdict_line(out)
    return out


def _verdict_line(section: dict) -> str:
    parts = [f"strongest baseline {section['strongest_baseline']}"]
    for entry in section["differences"].values():
        side = direction(entry)
        said = NO_VERDICT if side == 0 else f"{SAID[side]} the strongest baseline"
        if entry["difference"] is None:
            text = "no members scored"
        elif entry["low"] is None:
            text = f"{entry['difference']:+.3f} (no interval: {entry['members']} member(s))"
        else:
            text = difference_text(entry)
        parts.append(f"{entry['method']}: {said}, difference {text} over the members")
    return "; ".join(parts)
