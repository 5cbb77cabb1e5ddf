"""The zero-shot property prediction, end to end: :func:`predict_properties`.

Typical use from Python::

    from lilyvae.properties import predict_properties
    result = predict_properties("lily/", "data/table.csv",
                                ["unsup=models/unsup.pt", "semisup=models/semisup.pt"],
                                "runs/properties")
    result.frame          # properties.csv as a DataFrame
    print("\\n".join(result.summary))

Steps: check every argument and input name (nothing is written when one is wrong);
read the training table and embed its rows with every model; match each property table
to its bins (:mod:`lilyvae.properties.matching`; a table that cannot be matched is
named and skipped); score every target on local processes or Ray
(:mod:`lilyvae.properties.scoring`, :mod:`lilyvae.properties.runner`); write
``properties.csv`` and ``properties.json`` atomically.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.provenance import UNKNOWN, read_synthetic_marker, table_provenance
from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS
from lilyvae.data.splits import borehole_codes
from lilyvae.data.tables import (
    finite_feature_mask,
    read_table,
    require_columns,
    training_data_from_frame,
)
from lilyvae.errors import LilyVAEError
from lilyvae.files import (
    check_output_path,
    refuse_overwriting_inputs,
    sha256_file,
    write_atomic,
    write_json_atomic,
)
from lilyvae.model.checkpoint import card_path
from lilyvae.model.embeddings import load_models
from lilyvae.properties import matching, output
from lilyvae.properties.predictors import (
    FEATURES,
    check_model_names,
    predictor_matrices,
    resolve_split,
)
from lilyvae.properties.runner import run_tasks
from lilyvae.properties.scoring import (
    DEFAULT_MAX_FIT_ROWS,
    DEFAULT_ROUNDS,
    LEVEL,
    MIN_TEST_BOREHOLES,
    PROTOCOLS,
    REFERENCE_TEST_SHARE,
    REGRESSOR,
    Task,
)
from lilyvae.workers import BACKENDS

FORMAT_VERSION = 1
#: Sidecars that mark inputs as SYNTHETIC (the raw and the property tables' folders).
LILY_SIDECARS = ("lily.synthetic.json", "properties.synthetic.json")


@dataclass
class PropertiesResult:
    frame: pd.DataFrame  # properties.csv
    info: dict  # properties.json
    csv: Path
    json: Path
    summary: list[str]


def _whole(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise LilyVAEError(f"--{name} must be a whole number >= {low}, not {value!r}")
    return int(value)


def check_settings(protocol, rounds, min_rows, seed, backend, workers, max_fit_rows, bin_means):
    """The run's settings, each checked, with the protocol's default ``rounds``."""
    if protocol not in PROTOCOLS:
        raise LilyVAEError(f"--protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    if backend not in BACKENDS:
        raise LilyVAEError(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    return {
        "protocol": protocol,
        "rounds": DEFAULT_ROUNDS[protocol] if rounds is None else _whole(rounds, "rounds", 1),
        "min_rows": _whole(min_rows, "min-rows", 1),
        "seed": _whole(seed, "seed", 0),
        "backend": backend,
        "workers": None if workers is None else _whole(workers, "workers", 1),
        "max_fit_rows": _whole(max_fit_rows, "max-fit-rows", 10),
        "bin_means": bool(bin_means),
    }


def _check_output_dir(out: Path, data) -> None:
    """Refuse, before any work, an output folder whose files cannot be written (not a
    folder, read-only) or would replace the training table."""
    if out.exists() and not out.is_dir():
        raise LilyVAEError(f"{out}: exists and is not a directory (--output-dir)")
    inputs = {} if isinstance(data, pd.DataFrame) else {"--data": data}
    for name in (output.CSV_NAME, output.JSON_NAME):
        check_output_path(out / name)
        refuse_overwriting_inputs(out / name, inputs)


def _load_table(data) -> tuple[pd.DataFrame, object, dict]:
    """Usable rows of the training table, their TrainingData, and provenance."""
    if isinstance(data, pd.DataFrame):
        df, source, digest = data, "data", None
    else:
        # the training table's row checks: text in a number column, ragged or cut-off
        # lines and repeated bins are named, not silently dropped as incomplete rows
        df, source = read_table(data, check=True), str(data)
        digest = sha256_file(data)
    require_columns(df, (BOREHOLE_COL, DEPTH_COL, *FEATURE_COLS), source)
    depth = pd.to_numeric(df[DEPTH_COL], errors="coerce").to_numpy(np.float64)
    usable = finite_feature_mask(df) & df[BOREHOLE_COL].notna().to_numpy() & np.isfinite(depth)
    if not usable.any():
        raise LilyVAEError(f"{source}: no row with a borehole, a depth bin and all six inputs")
    kept = df.loc[usable].reset_index(drop=True)
    kept[DEPTH_COL] = depth[usable]
    data_info = training_data_from_frame(kept, source=source, sha256=digest)
    prov = {"path": source, "sha256": digest, "rows_read": len(df), "rows_usable": len(kept)}
    return kept, data_info, prov


def synthetic_sources(lily_dir: Path, data, models=()) -> list[str]:
    """What marks the inputs as SYNTHETIC: the sidecars of the property tables' folder
    (a sidecar that cannot be read still marks them: better a wrong label than a
    missing one), the training table's provenance (its sidecar or build manifest,
    :mod:`lilyvae.data.provenance`), and the cards of models trained on synthetic data."""
    found = [
        str(lily_dir / name)
        for name in LILY_SIDECARS
        if read_synthetic_marker(lily_dir / name) is not None
    ]
    table = UNKNOWN if isinstance(data, pd.DataFrame) else table_provenance(data)
    if table.synthetic:
        found.append(str(table.evidence))
    for m in models:
        if m.model.card.origin.synthetic:
            found.append(str(card_path(m.path)) if m.path else f"the card of model {m.name}")
    return found


def _match_all(paths: dict, bins: matching.TrainingBins, settings: dict, say):
    """Every readable, matchable table; the others named with their reason."""
    matched, skipped, seconds = [], {}, {}
    for table, path in paths.items():
        start = time.perf_counter()
        try:
            df = matching.read_property_table(path)
            m = matching.match_table(
                table, path, df, bins, settings["min_rows"], settings["bin_means"]
            )
        except LilyVAEError as exc:
            skipped[table] = str(exc)
            say(f"  skipped {table}: {exc}")
            continue
        seconds[table] = round(time.perf_counter() - start, 3)
        matched.append(m)
        c = m.counts
        say(
            f"  {table}: {c['rows_matched']:,} of {c['rows_read']:,} rows matched "
            f"({c['bins_matched']:,} of {c['bins']:,} bins), {len(m.targets)} target(s)"
        )
    return matched, skipped, seconds


def _tasks(matched, depth_bins: np.ndarray) -> list[Task]:
    tasks = []
    for m in matched:
        for variable in sorted(m.targets):
            y = m.targets[variable]
            have = np.isfinite(y)
            tasks.append(Task(len(tasks), m.table, variable, m.rows[have], y[have]))
    all_rows = np.arange(depth_bins.size)
    tasks.append(Task(len(tasks), *matching.DEPTH_TARGET, all_rows, depth_bins.astype(np.float64)))
    return tasks


def _table_report(m: matching.MatchedTable) -> dict:
    return {
        "file": m.path.name,
        "depth_column": m.depth_column,
        **m.counts,
        "targets": len(m.targets),
        "variables": m.variables,
        "skipped": m.skipped,
    }


def _outcomes(tasks, results) -> dict[str, list]:
    out: dict[str, list] = {"not_scored": [], "failed": []}
    for task, res in zip(tasks, results, strict=True):
        if not res["scored"]:
            key = "failed" if res.get("failed") else "not_scored"
            out[key].append(
                {"table": task.table, "variable": task.variable, "reason": res["reason"]}
            )
    return out


def _model_report(m) -> dict:
    card = m.model.card
    return {
        "name": m.name,
        "path": str(m.path) if m.path else None,
        "kind": m.kind,
        "recipe": card.recipe,
        "held_out_boreholes": len(card.held_out_boreholes),
        "checkpoint_sha256": card.checkpoint_sha256,
    }


def _regressor_info() -> dict:
    import sklearn

    return {
        "library": "scikit-learn",
        "version": sklearn.__version__,
        "estimator": "HistGradientBoostingRegressor",
        "parameters": dict(REGRESSOR),
        "threads_per_fit": 1,
    }


def _info(ctx: dict, matched, tasks, results, frame) -> dict:
    """Everything ``properties.json`` records (see the module and docs/properties.md)."""
    from lilyvae import __version__

    skipped = [
        {"table": m.table, "variable": col, "reason": reason, "why": matching.SKIP_REASONS[reason]}
        for m in matched
        for col, reason in m.skipped.items()
    ]
    settings = ctx["settings"]
    models = ctx["models"]
    return {
        "format": output.JSON_FORMAT,
        "format_version": FORMAT_VERSION,
        "synthetic": bool(ctx["synthetic"]),
        "synthetic_sources": ctx["synthetic"],
        "lilyvae_version": __version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "settings": settings
        | {
            "tables": list(ctx["paths"]),
            "bin_size_m": ctx["bins"].bin_size,
            "level": LEVEL,
            "min_test_boreholes": MIN_TEST_BOREHOLES,
            "reference_test_share": REFERENCE_TEST_SHARE,
            "regressor": _regressor_info(),
        },
        "seeds": {
            "seed": settings["seed"],
            "per_variable": "numpy SeedSequence([seed, crc32(table), crc32(variable)]): "
            "fit-row draw, resamples, tree seed",
        },
        "lily_dir": str(ctx["lily_dir"]),
        "data": ctx["provenance"],
        "models": [_model_report(m) for m in models],
        "predictors": ctx["predictors"],
        "split": ctx["split"].to_dict(ctx["data"].boreholes),
        "tables": {m.table: _table_report(m) for m in matched},
        "tables_skipped": ctx["tables_skipped"],
        "skipped_variables": skipped,
        "skipped_counts": dict(Counter(s["reason"] for s in skipped)),
        **_outcomes(tasks, results),
        "comparisons": output.comparisons(frame, [m.name for m in models], FEATURES),
        "timings_s": ctx["timings"],
    }


def _prepare(lily_dir, data, models, out, tables, settings, say) -> dict:
    """Check every input (nothing is written yet), then read, embed and match."""
    start = time.perf_counter()
    paths = matching.find_tables(lily_dir, tables)
    _check_output_dir(out, data)
    models = load_models(models if isinstance(models, (list, tuple)) else [models])
    check_model_names(models)
    table, data_info, provenance = _load_table(data)
    split = resolve_split(models, data_info, settings["seed"])
    train = ~split.test_mask(data_info.boreholes) if settings["protocol"] == "boreholes" else None
    fit_rows = np.ones(len(table), dtype=bool) if train is None else train
    t_read = time.perf_counter()
    X = predictor_matrices(models, data_info.features, fit_rows)
    t_embed = time.perf_counter()
    bins = matching.TrainingBins(data_info.boreholes, table[DEPTH_COL].to_numpy(), str(data))
    matched, tables_skipped, match_s = _match_all(paths, bins, settings, say)
    return {
        "settings": settings,
        "paths": paths,
        "lily_dir": Path(lily_dir),
        "models": models,
        "data": data_info,
        "provenance": provenance,
        "split": split,
        "bins": bins,
        "X": X,
        "predictors": list(X),
        "depth_bins": table[DEPTH_COL].to_numpy(np.float64),
        "matched": matched,
        "tables_skipped": tables_skipped,
        "synthetic": synthetic_sources(Path(lily_dir), data, models),
        "timings": {
            "read_and_split": round(t_read - start, 3),
            "embed": round(t_embed - t_read, 3),
            "match": round(time.perf_counter() - t_embed, 3),
            "match_per_table": match_s,
        },
    }


def _progress(say, n_tasks: int):
    state = {"done": 0, "next": 0.1}

    def done(task: Task, result: dict) -> None:
        state["done"] += 1
        if state["done"] >= state["next"] * n_tasks or state["done"] == n_tasks:
            say(f"  scored {state['done']}/{n_tasks} targets")
            state["next"] += 0.1

    return done


def _write(out: Path, frame: pd.DataFrame, info: dict) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    csv_path = write_atomic(out / output.CSV_NAME, lambda tmp: frame.to_csv(tmp, index=False))
    return csv_path, write_json_atomic(out / output.JSON_NAME, info)


def predict_properties(
    lily_dir: str | os.PathLike,
    data,
    models: Sequence | str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    tables: Sequence[str] | None = None,
    min_rows: int = 100,
    protocol: str = "boreholes",
    rounds: int | None = None,
    seed: int = 0,
    backend: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    max_fit_rows: int = DEFAULT_MAX_FIT_ROWS,
    bin_means: bool = False,
    progress: Callable[[str], None] | None = None,
) -> PropertiesResult:
    """Predict LILY property variables from each model's embedding and from the inputs.

    ``lily_dir``: folder of the ``<TABLE>_DataLITH.csv`` property tables; ``data``: the
    training table (path or DataFrame) whose bins the embeddings describe; ``models``:
    checkpoints (``PATH`` or ``NAME=PATH``, each with its model card); ``tables``: names
    to score (default: every one of the 14 present). ``rounds``: borehole resamples of
    the interval (``boreholes``, default 1000) or bootstrap rounds (``reference``,
    default 100). ``bin_means``: one row per matched bin (its samples' mean) instead of
    one per matched sample (the reference's join). Writes ``properties.csv`` and
    ``properties.json`` into ``output_dir`` and returns them with the summary lines.
    Raises :class:`LilyVAEError`, writing nothing, on bad input or when no property
    variable could be scored.
    """
    settings = check_settings(
        protocol, rounds, min_rows, seed, backend, workers, max_fit_rows, bin_means
    )
    say = progress or (lambda _msg: None)
    out = Path(output_dir)
    start = time.perf_counter()
    ctx = _prepare(lily_dir, data, models, out, tables, settings, say)
    tasks = _tasks(ctx["matched"], ctx["depth_bins"])
    shared = {
        "X": ctx["X"],
        "groups": borehole_codes(ctx["data"].boreholes)[1],
        "test": ctx["split"].test_mask(ctx["data"].boreholes),
        "settings": settings,
    }
    say(f"scoring {len(tasks)} targets x {len(ctx['X'])} predictors ({protocol} protocol)")
    t_fit = time.perf_counter()
    results = run_tasks(
        shared, tasks, backend, settings["workers"], ray_address, _progress(say, len(tasks))
    )
    frame = output.results_frame(tasks, results, ctx["predictors"], protocol)
    ctx["timings"] |= {
        "scoring": round(time.perf_counter() - t_fit, 3),
        "scoring_cpu_per_table": {
            t: round(
                sum(r["seconds"] for k, r in zip(tasks, results, strict=True) if k.table == t), 3
            )
            for t in dict.fromkeys(k.table for k in tasks)
        },
    }
    property_rows = frame["table"] != matching.DEPTH_TARGET[0]
    if not frame.loc[property_rows].filter(like="_r2").notna().any(axis=None):
        reasons = list(ctx["tables_skipped"].values()) + [
            f"{r['table']}/{r['variable']}: {r['reason']}"
            for r in _outcomes(tasks, results)["not_scored"]
        ]
        detail = "; ".join(reasons[:3]) or "no variable has --min-rows matched bins"
        raise LilyVAEError(f"{lily_dir}: no property variable could be scored ({detail})")
    ctx["timings"]["total"] = round(time.perf_counter() - start, 3)
    info = _info(ctx, ctx["matched"], tasks, results, frame)
    lines = output.summary_lines(frame, info)
    info["summary"] = lines
    csv_path, json_path = _write(out, frame, info)
    return PropertiesResult(frame, info, csv_path, json_path, lines)


def read_properties(path: str | os.PathLike) -> pd.DataFrame:
    """``properties.csv`` of a run (the file or its folder)."""
    return output.read_properties(path)
