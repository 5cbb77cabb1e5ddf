"""``lilyvae calibrate``: fit a calibration on boreholes the model never trained on.

The held-out boreholes (by default those the model card records) are split, whole
boreholes at a time, into a *fit* half and a *check* half. On the fit half: the
temperatures, the conformal quantiles and the novelty thresholds. On the check half,
which nothing was fitted on: what the calibration achieves (expected calibration
error and log-loss before and after, coverage of the 90% sets and their mean size,
the novelty flag rate), with 95% intervals over boreholes.

The training bins (rows of the table from boreholes the model trained on) are what the
novelty distance and the analogs compare with, and what a model without a head gets its
stand-in head fitted on. When the table holds no training borehole (a model trained on
every row of another table), the fit half stands in for them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.held_out import held_out_rows
from lilyvae.data.lithology import class_groups
from lilyvae.data.provenance import table_provenance
from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS, LABEL_COL
from lilyvae.data.splits import BoreholeSplit, rows_in
from lilyvae.data.tables import feature_values, read_table, require_columns
from lilyvae.errors import LilyVAEError
from lilyvae.files import sha256_file, to_json, write_files_atomic
from lilyvae.predict import conformal, metrics
from lilyvae.predict.calibration import (
    Calibration,
    calibration_path,
    index_path,
    member_logits,
    probabilities,
)
from lilyvae.predict.head import fit_linear_head
from lilyvae.predict.members import ModelSet, forward, load_model_set
from lilyvae.predict.novelty import (
    K_NOVELTY,
    build_index,
    fit_novelty,
    novelty_components,
    novelty_flag,
    novelty_score,
)
from lilyvae.predict.temperature import fit_temperature


@dataclass
class LabelledTable:
    """The rows of a table a model can read, with their boreholes, depths and labels."""

    features: np.ndarray
    labels: np.ndarray  # index into the model's classes, -1 = none or unknown to it
    names: np.ndarray  # the described lithology ("" where none)
    boreholes: np.ndarray
    depths: np.ndarray
    source: str
    sha256: str
    class_names: tuple[str, ...]


def read_labelled_table(path, models: ModelSet) -> LabelledTable:
    df = read_table(path)
    require_columns(df, (BOREHOLE_COL, DEPTH_COL, *FEATURE_COLS), path)
    values = feature_values(df)
    present = np.isfinite(values)
    keep = present.any(axis=1) if models.missing == "mask" else present.all(axis=1)
    if not keep.any():
        raise LilyVAEError(f"{path}: no bin has the inputs the model needs")
    names = df[LABEL_COL] if LABEL_COL in df.columns else pd.Series("", index=df.index)
    names = names.fillna("").astype(str).str.strip().to_numpy(object)[keep]
    # A model without a head names no lithologies: the table's described ones are its.
    class_names = models.class_names or tuple(sorted(set(names) - {""}))
    index = {c: i for i, c in enumerate(class_names)}
    labels = np.array([index.get(n, -1) for n in names], dtype=np.int64)
    return LabelledTable(
        values[keep],
        labels,
        names,
        df[BOREHOLE_COL].astype(str).to_numpy(object)[keep],
        pd.to_numeric(df[DEPTH_COL], errors="coerce").to_numpy(np.float64)[keep],
        str(path),
        sha256_file(path),
        class_names,
    )


def calibration_boreholes(models: ModelSet, table: LabelledTable, split) -> np.ndarray:
    """The boreholes to calibrate on; never one the model trained on."""
    card = models.first.card
    splits = {f"member {i}": m.card.split for i, m in enumerate(models.models)}
    held = set(held_out_rows(table.boreholes, splits).boreholes) if card.split else set()
    present = set(table.boreholes)
    if card.split:
        chosen = set(split.holdout) if split is not None else held
        trained = sorted(chosen - held)
        if trained:
            raise LilyVAEError(
                f"{table.source}: borehole {trained[0]} was in the model's training rows; "
                "calibrate only on boreholes its card records as held out"
            )
    else:
        if card.data.get("sha256") == table.sha256:
            raise LilyVAEError(
                f"{table.source}: the model trained on every row of this table; calibrate on "
                "a table of boreholes it never saw"
            )
        chosen = set(split.holdout) if split is not None else present
    chosen &= present
    if len(chosen) < 2:
        raise LilyVAEError(
            f"{table.source}: {len(chosen)} held-out borehole(s) in the table; calibration needs "
            "at least 2 (half to fit on, half to check)"
        )
    return np.array(sorted(chosen), dtype=object)


def fit_check_halves(boreholes: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(len(boreholes))
    half = max(1, len(boreholes) // 2)
    return np.sort(boreholes[order[:half]]), np.sort(boreholes[order[half:]])


def _scores(proba, labels, sets, boreholes) -> dict:
    """Scores over labelled rows with 95% intervals over boreholes.

    Each score is a mean over per-row values computed here once, so that a resample
    picks from those and not from the (rows, classes) matrices: 200 resamples of each
    score had copied the probabilities 200 times, most of the demo's calibration time.
    The values are those of :mod:`lilyvae.predict.metrics`' functions of the rows."""
    confidence, correct = metrics.top_label(proba, labels)
    logs = metrics.true_class_log(proba, labels)

    def mean(values: np.ndarray) -> float:
        return float(np.mean(values)) if len(values) else float("nan")

    stats = {
        "ece": lambda r: metrics.calibration_error_of(confidence[r], correct[r]),
        "log_loss": lambda r: -mean(logs[r]),
    }
    if sets is not None:
        sets = np.asarray(sets)
        hit = sets[np.arange(len(labels)), np.asarray(labels, dtype=np.int64)]
        size = sets.sum(axis=1)
        stats["coverage_90"] = lambda r: mean(hit[r])
        stats["mean_set_size_90"] = lambda r: mean(size[r])
    all_rows = np.arange(len(labels))
    return {
        name: {
            "value": f(all_rows),
            "interval_95": metrics.group_bootstrap_interval(f, boreholes),
        }
        for name, f in stats.items()
    }


def _measure(probs, cal: Calibration, labels, boreholes) -> dict:
    """Check-half scores at both levels, raw and calibrated."""
    out = {}
    group_labels = cal.class_group[labels]
    for level, raw, calibrated, y in (
        ("class", probs.raw, probs.calibrated, labels),
        ("group", probs.group_raw, probs.group_calibrated, group_labels),
    ):
        q = conformal.threshold(cal.conformal[level], 0.9)
        sets = conformal.prediction_sets(calibrated, q)
        out[level] = {
            "raw": _scores(raw, y, None, boreholes),
            "calibrated": _scores(calibrated, y, sets, boreholes),
        }
    return out


def _fit_heads(models, fwd, rows, table):
    if models.kind == "semisupervised":
        return None
    return [
        fit_linear_head(e[rows], table.labels[rows], len(table.class_names))
        for e in fwd.member_embeddings
    ]


def withheld_class_indices(models: ModelSet, class_names) -> np.ndarray:
    """Class indices whose labels some member's head never saw (its card says which)."""
    withheld = {
        name
        for m in models.models
        for name in (m.card.extra.get("labels_withheld") or {}).get("classes", [])
    }
    return np.array([i for i, n in enumerate(class_names) if n in withheld], dtype=np.int64)


def _fit_temperatures(raw, labels, class_group) -> dict:
    with np.errstate(divide="ignore"):
        return {
            "class": fit_temperature(np.log(raw.raw), labels),
            "group": fit_temperature(np.log(raw.group_raw), class_group[labels]),
        }


def _conformal_tables(probs, labels, class_group, boreholes) -> dict:
    return {
        "class": conformal.quantile_table(probs.calibrated, labels, boreholes),
        "group": conformal.quantile_table(probs.group_calibrated, class_group[labels], boreholes),
    }


def _novelty_components(models, fwd, table, reference, rows, seed):
    """The index of the reference bins, and the novelty components of ``rows``."""
    index = build_index(
        fwd.embedding[reference],
        table.boreholes[reference],
        table.depths[reference],
        table.names[reference],
        models.sha256,
        seed,
    )
    distances, _ = index.search(fwd.embedding[rows], K_NOVELTY)
    return index, novelty_components(distances, fwd.recon_error[rows])


def calibrate(
    model: str | os.PathLike,
    data: str | os.PathLike,
    split: BoreholeSplit | None = None,
    seed: int = 0,
) -> tuple[Calibration, dict[str, Path]]:
    """Fit and write ``M.calibration.json`` and ``M.analogs.npz`` beside the model."""
    models = load_model_set(model)
    table = read_labelled_table(data, models)
    fit_b, check_b = fit_check_halves(calibration_boreholes(models, table, split), seed)
    in_fit = rows_in(table.boreholes, fit_b)
    in_check = rows_in(table.boreholes, check_b)
    trained = ~rows_in(table.boreholes, models.held_out_boreholes)
    reference = trained if (models.first.card.split and trained.any()) else in_fit
    fit_l = in_fit & (table.labels >= 0)
    check_l = in_check & (table.labels >= 0)
    if not fit_l.any() or not check_l.any():
        raise LilyVAEError(
            f"{table.source}: the held-out boreholes have no bins with a lithology the model "
            "knows, in both halves; nothing to calibrate on"
        )
    fwd = forward(models, table.features)
    heads = _fit_heads(models, fwd, reference, table)
    class_group, group_names = class_groups(table.class_names)
    logits = member_logits(fwd, heads)
    # Lithologies whose labels the head never saw (withheld for the zero-shot test) get
    # low probabilities by construction: fitted on, they would pull T up and flatten
    # every other bin's probabilities, and their scores (1 - p ~ 1) would fill the top of
    # the conformal quantiles, so that the 90% sets held nearly every class. The
    # calibration is fitted, and checked, on the lithologies the head was trained on.
    withheld = withheld_class_indices(models, table.class_names)
    known = ~np.isin(table.labels, withheld)
    fit_k, check_k = fit_l & known, check_l & known
    if not fit_k.any() or not check_k.any():
        raise LilyVAEError(
            f"{table.source}: the held-out boreholes have no bins of a lithology the model's "
            "head was trained on, in both halves; nothing to calibrate on"
        )
    raw = probabilities([lg[fit_k] for lg in logits], class_group, len(group_names), None)
    temperature = _fit_temperatures(raw, table.labels[fit_k], class_group)
    probs = probabilities(logits, class_group, len(group_names), temperature)
    tables = _conformal_tables(
        probs.rows(fit_k), table.labels[fit_k], class_group, table.boreholes[fit_k]
    )
    index, fit_parts = _novelty_components(models, fwd, table, reference, in_fit, seed)
    _, check_parts = _novelty_components(models, fwd, table, reference, in_check, seed)
    novelty = fit_novelty(fit_parts)
    cal = Calibration(
        models.sha256, table.class_names, group_names, class_group, temperature, tables, novelty
    )
    cal.heads = heads
    check_scores = _measure(
        probs.rows(check_k), cal, table.labels[check_k], table.boreholes[check_k]
    )
    cal.measured = check_scores | {
        "novelty_flag_rate_check": float(
            novelty_flag(novelty_score(check_parts, novelty), novelty).mean()
        ),
        "boreholes": {"fit": [str(b) for b in fit_b], "check": [str(b) for b in check_b]},
        "bins": {"fit": int(fit_k.sum()), "check": int(check_k.sum())},
        # bins of lithologies whose labels the head never saw: no part of the fit
        "withheld_lithologies_left_out": {
            "lithologies": int(len(withheld)),
            "fit_bins": int((fit_l & ~known).sum()),
            "check_bins": int((check_l & ~known).sum()),
        },
        "reference_bins": int(reference.sum()),
        "reference": "training boreholes" if reference is trained else "fit half",
        "ensemble_members": len(models.models),
    }
    cal.provenance = _provenance(models, data)
    return cal, write_calibration(cal, index, models)


def _provenance(models: ModelSet, data) -> dict:
    synthetic = models.synthetic or table_provenance(data).synthetic
    out = {"model": models.path.name, "synthetic": bool(synthetic)}
    if synthetic:
        out["notice"] = "SYNTHETIC: calibrated on synthetic data; no value describes a real core"
    return out


def write_calibration(cal: Calibration, index, models: ModelSet) -> dict[str, Path]:
    """Both files as one unit: no calibration without its index, or the reverse."""
    import io

    buffer = io.BytesIO()
    index.save_to(buffer)
    paths = {"calibration": calibration_path(models), "index": index_path(models)}
    write_files_atomic(
        {paths["calibration"]: to_json(cal.to_dict()).encode(), paths["index"]: buffer.getvalue()}
    )
    return paths
