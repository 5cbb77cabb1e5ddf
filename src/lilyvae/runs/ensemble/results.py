"""What a run reports: ``members.csv``, ``summary.json``, a sweep's ``results.csv``, and
the table printed at the end."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path

from lilyvae.evaluation.intervals import (
    INTERVAL_NOTES,
    LEVEL,
    interval_text,
    metric_interval,
)
from lilyvae.files import write_json_atomic, write_text_atomic
from lilyvae.run_folder import (
    ENSEMBLE_MANIFEST,
    ENSEMBLE_MEMBERS,
    ENSEMBLE_RESULTS,
    ENSEMBLE_SUMMARY,
    ENSEMBLE_SUMMARY_FORMAT,
)
from lilyvae.runs.ensemble.grid import cell_name, params_json, params_text
from lilyvae.runs.ensemble.group_verdict import members_comparison
from lilyvae.runs.ensemble.planning import Member
from lilyvae.runs.ensemble.rundir import RUN_VERSION, EnsembleRun, RunRecord
from lilyvae.training.config import grid_axes

SUMMARY_FORMAT = ENSEMBLE_SUMMARY_FORMAT
LOSS_TERMS = ("loss", "recon", "kl", "masked", "class")


@dataclass
class EnsembleResult:
    """What a run did and wrote."""

    output_dir: Path
    kind: str
    members: list[dict]  # one row per member, as in members.csv
    summary: dict
    paths: dict[str, Path]
    trained: int  # members trained by this call
    skipped: int  # members already finished
    failed: int  # members failed after this call
    settings_from_directory: bool = False
    #: The directory held a run no member of which had finished; this run replaced it.
    replaced_unstarted_run: bool = False


def member_row(
    member: Member, card: dict | None, failure: dict | None, synthetic: bool = False
) -> dict:
    """A member's row of ``members.csv``: its cell, seed, status, whether its data are
    SYNTHETIC (the run's data, as its card records them), final losses (with early
    stopping the kept epoch's, ``final_epoch`` naming it), metrics."""
    row: dict = {"member": member.key}
    if member.cell is not None:
        row["cell"] = member.cell
        row |= params_text(member.params)
    row |= {"seed": member.seed, "resample": member.resample}
    if card is not None:
        synthetic = bool((card.get("data") or {}).get("synthetic"))
    row["synthetic"] = synthetic
    if card is not None:
        info = card.get("ensemble", {})
        final = card.get("final", {})
        row |= {
            "status": "ok",
            "rows": info.get("rows"),
            "unique_rows": info.get("unique_rows"),
            "epochs": card.get("training", {}).get("epochs"),
        }
        if "epoch" in final:  # early stopping kept this epoch's weights: its losses follow
            row["final_epoch"] = final["epoch"]
        row |= {f"final_{t}": final.get(t) for t in LOSS_TERMS if t in final}
        row |= info.get("metrics") or {}
        row["error"] = ""
    else:
        row["status"] = "failed" if failure else "pending"
        row["error"] = (failure or {}).get("reason", "")
    return row


def _metric_columns(rows: list[dict]) -> list[str]:
    skip = {"member", "cell", "seed", "resample", "status", "rows", "unique_rows", "epochs"}
    skip |= {"final_epoch"}  # which epoch the final losses are from, not a metric
    skip |= {"synthetic"}
    skip |= {"error"} | set(grid_axes())
    cols: list[str] = []
    for row in rows:
        for k, v in row.items():
            if k not in skip and k not in cols and isinstance(v, (int, float)):
                cols.append(k)
    return cols


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value


def write_csv(path: Path, rows: list[dict]) -> Path:
    """``rows`` as a CSV table: every key a column, in order of appearance, errors last."""
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    if "error" in columns:  # the reason of a failure reads best last
        columns.remove("error")
        columns.append("error")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(row.get(k)) for k in columns})
    return write_text_atomic(path, buffer.getvalue())


def _bootstrap_summary(ok: list[dict], metric_cols: list[str]) -> dict:
    metrics = {}
    for col in metric_cols:
        values = [r.get(col) for r in ok]
        spread = metric_interval(col, values, "percentile")
        mean_ci = metric_interval(col, values, "t")
        metrics[col] = spread | {"mean_low": mean_ci["low"], "mean_high": mean_ci["high"]}
    out = {
        "interval": {"method": "percentile", "note": INTERVAL_NOTES["percentile"]},
        "metrics": metrics,
    }
    comparison = members_comparison(ok)
    if comparison is not None:
        out["group_comparison"] = comparison
    return out


def _sweep_cells(members: list[Member], rows: list[dict], metric_cols: list[str]) -> list[dict]:
    cells = []
    for cell, group in itertools.groupby(rows, key=lambda r: r["cell"]):
        group = list(group)
        good = [r for r in group if r["status"] == "ok"]
        member = next(m for m in members if m.cell == cell)
        cells.append(
            {
                "cell": cell,
                "name": cell_name(member.params),
                "params": params_json(member.params),
                "seeds": len(group),
                "ok": len(good),
                "failed": sum(r["status"] == "failed" for r in group),
                "metrics": {
                    col: metric_interval(col, [r.get(col) for r in good], "t")
                    for col in metric_cols
                },
            }
        )
    return cells


def _results_rows(cells: list[dict], metric_cols: list[str]) -> list[dict]:
    rows = []
    for c in cells:
        row = {"cell": c["cell"]}
        row |= params_text(c["params"])
        row |= {"seeds": c["seeds"], "ok": c["ok"], "failed": c["failed"]}
        for col in metric_cols:
            m = c["metrics"][col]
            row |= {f"{col}_mean": m["mean"], f"{col}_low": m["low"], f"{col}_high": m["high"]}
        rows.append(row)
    return rows


def write_results(
    run: EnsembleRun, members: list[Member], record: RunRecord, settings_from_directory: bool
) -> EnsembleResult:
    """``members.csv``, ``summary.json`` and (sweep) ``results.csv`` from the record."""
    out = run.output_dir
    failures = record.failures
    synthetic = run.origin.synthetic
    rows = [member_row(m, record.cards.get(m.key), failures.get(m.key), synthetic) for m in members]
    paths = {
        "manifest": out / ENSEMBLE_MANIFEST,
        "members": write_csv(out / ENSEMBLE_MEMBERS, rows),
    }
    ok = [r for r in rows if r["status"] == "ok"]
    metric_cols = _metric_columns(ok)
    summary = {
        "format": SUMMARY_FORMAT,
        "format_version": RUN_VERSION,
        "kind": run.kind,
        "run_id": run.run_id,
        "members": len(rows),
        "ok": len(ok),
        "failed": sum(r["status"] == "failed" for r in rows),
        "pending": sum(r["status"] == "pending" for r in rows),
        "level": LEVEL,
        **run.origin.to_dict(),
    }
    if run.kind == "bootstrap":
        summary |= _bootstrap_summary(ok, metric_cols)
    else:
        cells = _sweep_cells(members, rows, metric_cols)
        summary |= {"interval": {"method": "t", "note": INTERVAL_NOTES["t"]}, "cells": cells}
        paths["results"] = write_csv(out / ENSEMBLE_RESULTS, _results_rows(cells, metric_cols))
    if record.baseline:
        summary["baseline"] = {"description": "the six scaled inputs", "metrics": record.baseline}
    paths["summary"] = write_json_atomic(out / ENSEMBLE_SUMMARY, summary)
    return EnsembleResult(
        out,
        run.kind,
        rows,
        summary,
        paths,
        trained=record.trained,
        skipped=len(ok) - record.trained,
        failed=summary["failed"],
        settings_from_directory=settings_from_directory,
    )


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.4g}"


def _cells_table(cells: list[dict], columns: int) -> list[str]:
    shown = ("final_loss", "svm_accuracy", "gmm_ari", "r2_mean")
    names = [c for c in shown if any(c in cell["metrics"] for cell in cells)][:columns]
    header = f"{'cell':<32} {'ok':>5}" + "".join(f"  {n + ' (95% CI of mean)':>34}" for n in names)
    lines = [header]
    for cell in cells:
        row = f"{cell['name'][:32]:<32} {cell['ok']:>2}/{cell['seeds']:<2}"
        for n in names:
            m = cell["metrics"].get(n, {})
            text = f"{_fmt(m.get('mean'))} {interval_text(m)}"
            row += f"  {text:>34}"
        lines.append(row)
    return lines


def summary_table(result: EnsembleResult, columns: int = 6) -> str:
    """The final table: per metric (bootstrap) or per cell (sweep), mean and interval."""
    s = result.summary
    lines = [
        ("SYNTHETIC data: " if s.get("synthetic") else "")
        + f"{s['kind']} in {result.output_dir}: {s['ok']} of {s['members']} members ok"
        + (f", {s['failed']} failed" if s["failed"] else "")
        + (f", {s['pending']} not trained" if s["pending"] else "")
        + f" ({result.trained} trained now, {result.skipped} already done)"
    ]
    if s["kind"] == "bootstrap":
        width = max([26, *(len(name) for name in s["metrics"])])
        lines.append(f"{'metric':<{width}} {'mean':>10}  {'95% of members':>23}  {'n':>4}")
        for name, m in s["metrics"].items():
            span = interval_text(m)
            lines.append(f"{name:<{width}} {_fmt(m['mean']):>10}  {span:>23}  {m['n']:>4}")
        if s.get("group_comparison"):
            tag = "SYNTHETIC data: " if s.get("synthetic") else ""
            lines.append(f"{tag}groups: {s['group_comparison']['verdict']}")
    else:
        lines += _cells_table(s["cells"], columns)
    failed = [r for r in result.members if r["status"] == "failed"]
    for r in failed[:10]:
        lines.append(f"  failed {r['member']} (seed {r['seed']}): {r['error']}")
    if len(failed) > 10:
        lines.append(f"  ... and {len(failed) - 10} more failures (members.csv)")
    return "\n".join(lines)
