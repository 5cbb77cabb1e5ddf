"""The demo's new core: one borehole held back as a core just logged, that no model
trained on, calibrated for and predicted the way a user would (``lilyvae calibrate``,
then ``lilyvae predict --las --intervals --figure``).

The new core is the borehole with the injected out-of-distribution interval
(``synth --novel-interval``; recorded in the table's sidecar) so that the novelty flags
have something to find, else the held-out borehole with the most bins. It is added to
the held-out boreholes of training, and left out of the boreholes the calibration is
fitted and checked on: the calibration never sees the core it is then applied to.

Everything lands in ``new_core/``: the core's rows as a table (what a user would feed
``lilyvae predict``), the prediction table, its LAS file, intervals, down-core figure
and ``.predict.json``, and ``new_core.json``: what the report shows (the calibration
before and after, the blind-well scores with the sets' coverage, the novelty flags on
the injected interval and elsewhere), with file names relative to ``new_core/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lilyvae.data.schema import BOREHOLE_COL
from lilyvae.data.splits import BoreholeSplit
from lilyvae.data.tables import TrainingData, read_table, write_table_atomic
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation import read_synthetic_sidecar
from lilyvae.files import write_json_atomic
from lilyvae.predict import Predictor, calibrate, write_prediction
from lilyvae.run_folder import NEW_CORE_FORMAT, RunDir
from lilyvae.synthetic.novel import novel_mask

#: The set level the demo predicts at.
NEW_CORE_LEVEL = 0.9
#: Nearest training bins listed per bin of the new core.
NEW_CORE_ANALOGS = 3


def choose_new_core(table: Path, data: TrainingData, split: BoreholeSplit):
    """(the new core's borehole, the injected interval's record or None)."""
    record = (read_synthetic_sidecar(table) or {}).get("novel_interval")
    if record:
        return str(record["borehole"]), record
    held = split.holdout_mask(data.boreholes)
    if not held.any():
        raise LilyVAEError(f"{table}: no held-out borehole to hold back as the new core")
    names, counts = np.unique(data.boreholes[held], return_counts=True)
    return str(names[np.argmax(counts)]), None


def with_new_core(split: BoreholeSplit, core: str) -> BoreholeSplit:
    """The training split with the new core among its held-out boreholes."""
    if core in split.holdout:
        return split
    return BoreholeSplit(tuple(sorted({*split.holdout, core})), split.fraction, split.seed)


def _calibration_split(split: BoreholeSplit, core: str) -> BoreholeSplit:
    rest = tuple(b for b in split.holdout if b != core)
    if len(rest) < 2:
        raise LilyVAEError(
            f"{len(rest)} held-out borehole(s) besides the new core {core}: calibration needs "
            "at least 2 (use a larger --holdout-boreholes or more rows)"
        )
    return BoreholeSplit(rest, split.fraction, split.seed)


def _novelty_on_interval(prediction, core_rows, record: dict | None) -> dict:
    """Share of the injected interval's bins flagged novel, and of the other bins."""
    flags = prediction.table["novel"].fillna(False).to_numpy(bool)
    out = {"flagged_bins": int(flags.sum()), "bins": int(len(flags))}
    if record is None:
        return out | {"injected_interval": None}
    inside = novel_mask(core_rows, record)
    return out | {
        "injected_interval": {k: record[k] for k in ("top_m", "base_m", "bins", "lithology")},
        "flagged_inside": float(flags[inside].mean()) if inside.any() else None,
        "flagged_outside": float(flags[~inside].mean()) if (~inside).any() else None,
    }


def _calibration_record(cal) -> dict:
    m = cal.measured
    levels = {
        level: {
            "raw": {k: m[level]["raw"][k]["value"] for k in ("ece", "log_loss")},
            "calibrated": {k: v["value"] for k, v in m[level]["calibrated"].items()},
        }
        for level in ("class", "group")
    }
    return {
        "temperature": cal.temperature,
        "boreholes": m["boreholes"],
        "bins": m["bins"],
        "check": levels,
        "novelty_flag_rate_check": m["novelty_flag_rate_check"],
    }


def predict_new_core(
    run: RunDir, table: Path, model: Path, split: BoreholeSplit, core: str, record, seed: int
) -> dict:
    """Calibrate ``model`` without the new core, predict the core with every output, and
    write ``new_core/new_core.json``; return that record."""
    cal, _ = calibrate(model, table, split=_calibration_split(split, core), seed=seed)
    df = read_table(table)
    core_rows = df.loc[df[BOREHOLE_COL].astype(str) == core].reset_index(drop=True)
    out = run.new_core_dir
    out.mkdir(parents=True, exist_ok=True)
    core_table = write_table_atomic(core_rows, out / "core.csv")
    prediction = Predictor(model).predict(core_rows, level=NEW_CORE_LEVEL, analogs=NEW_CORE_ANALOGS)
    files = write_prediction(
        prediction,
        out / "prediction.csv",
        las=out / "prediction.las",
        intervals=out / "intervals.csv",
        figure=out / "prediction.png",
    )
    record_out = {
        "format": NEW_CORE_FORMAT,
        "synthetic": prediction.synthetic,
        "notice": "SYNTHETIC: a synthetic borehole; no value describes a real core"
        if prediction.synthetic
        else None,
        "borehole": core,
        "model": model.name,
        "probabilities": prediction.label,
        "level": NEW_CORE_LEVEL,
        "input": core_table.name,
        "files": {k: [Path(p).name for p in v] for k, v in files.items()},
        "calibration": _calibration_record(cal),
        "blind_well": prediction.scores,
        "novelty": _novelty_on_interval(prediction, core_rows, record),
    }
    write_json_atomic(run.new_core, record_out)
    return record_out


def new_core_line(record: dict) -> str:
    """The demo's one line on the new core."""
    novelty = record["novelty"]
    injected = novelty.get("injected_interval")
    where = ""
    if injected:
        inside = novelty.get("flagged_inside")
        where = (
            f" ({inside:.0%} of the injected interval {injected['top_m']:g}-"
            f"{injected['base_m']:g} m)"
            if inside is not None
            else ""
        )
    tag = "SYNTHETIC " if record.get("synthetic") else ""
    return (
        f"new {tag}core {record['borehole']} (never trained on): {novelty['bins']:,} bins "
        f"predicted, {novelty['flagged_bins']:,} flagged novel{where}; new_core/"
    )
