"""The lithology probabilities scored as probabilities: expected calibration error and
log-loss of the head's probabilities (raw, and calibrated when ``M.calibration.json``
lies beside the model), the coverage and mean size of the calibrated 90% prediction
sets, and novelty AUROC where the out-of-distribution bins are known.

The numbers come from the prediction stage's own functions (:mod:`lilyvae.predict`),
so that ``calibrate``, ``predict``'s blind-well test and ``evaluate`` agree.

Which rows are scored, and why:

- rows of the model's held-out boreholes only, as every other score;
- with a calibration, not those of the boreholes the calibration was fitted on (its
  temperatures and quantiles were chosen on them); the raw scores use the same rows,
  so that "before" and "after" compare like with like;
- not the bins of an injected out-of-distribution interval (the synthetic sidecar's
  ``novel_interval`` record): their lithology is one no model was trained on, so they
  measure novelty, not calibration. Novelty AUROC separates exactly these bins from the
  other scored bins;
- not the bins of lithologies whose labels the head never saw (withheld for the
  zero-shot test, as the model's card records): the head gives them low probabilities
  by construction, so they would measure the withholding, not the calibration. This is
  what ``calibrate`` leaves out of its fit and its check too, so that its numbers and
  these agree. The rows left out are counted in ``excluded``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lilyvae.data.lithology import class_groups
from lilyvae.data.splits import rows_in
from lilyvae.data.tables import TrainingData
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation.provenance import read_synthetic_sidecar
from lilyvae.files import sha256_file
from lilyvae.model.embeddings import NamedModel
from lilyvae.predict import conformal, metrics
from lilyvae.predict.calibration import (
    calibration_path,
    index_path,
    member_logits,
    probabilities,
    read_calibration,
)
from lilyvae.predict.fitting import withheld_class_indices
from lilyvae.predict.members import ModelSet, forward
from lilyvae.predict.novelty import (
    K_NOVELTY,
    AnalogIndex,
    novelty_components,
    novelty_flag,
    novelty_score,
)

#: The level of the prediction sets whose coverage and size are reported.
SET_LEVEL = 0.9


def novel_interval_rows(data: TrainingData) -> tuple[np.ndarray | None, dict | None]:
    """Rows of the injected out-of-distribution interval recorded in the table's
    synthetic sidecar (its borehole's bins of its lithology), and the record; (None,
    None) when the table records none."""
    try:
        info = read_synthetic_sidecar(data.source) or {}
    except (LilyVAEError, OSError, TypeError):
        return None, None
    record = info.get("novel_interval")
    if not record or data.boreholes is None or record.get("lithology") not in data.class_names:
        return None, None
    code = data.class_names.index(record["lithology"])
    rows = (data.boreholes.astype(str) == str(record["borehole"])) & (data.labels == code)
    return rows, record


def _model_set(m: NamedModel) -> ModelSet | None:
    if m.path is None or not Path(m.path).is_file():
        return None
    return ModelSet(Path(m.path), [m.model], sha256_file(m.path))


def _level_scores(proba, labels, with_sets: np.ndarray | None) -> dict:
    out = {
        "ece": metrics.expected_calibration_error(proba, labels),
        "log_loss": metrics.log_loss(proba, labels),
    }
    if with_sets is not None:
        out["coverage_90"] = metrics.set_coverage(with_sets, labels)
        out["mean_set_size_90"] = metrics.mean_set_size(with_sets)
    return out


def _calibration_scores(probs, cal, labels: np.ndarray, class_group: np.ndarray) -> dict:
    """Both levels, raw and (where calibrated) calibrated, on labelled rows."""
    out = {}
    for level, raw, tempered, y in (
        ("class", probs.raw, probs.calibrated, labels),
        ("group", probs.group_raw, probs.group_calibrated, class_group[labels]),
    ):
        out[level] = {"raw": _level_scores(raw, y, None)}
        if cal is not None:
            q = conformal.threshold(cal.conformal[level], SET_LEVEL)
            sets = conformal.prediction_sets(tempered, q)
            out[level]["calibrated"] = _level_scores(tempered, y, sets)
    return out


def _novelty(ms: ModelSet, cal, fwd, novel: np.ndarray | None) -> dict:
    """AUROC of the novelty score, injected bins against the other scored bins."""
    from sklearn.metrics import roc_auc_score

    if cal is None:
        return {"skipped": "no calibration (its novelty thresholds and analog index)"}
    if novel is None:
        return {"skipped": "no out-of-distribution bins known (no novel_interval recorded)"}
    if not novel.any() or novel.all():
        return {"skipped": "the scored boreholes hold no injected bins (or only those)"}
    index = AnalogIndex.load(index_path(ms), ms.sha256)
    distances, _ = index.search(fwd.embedding, K_NOVELTY)
    score = novelty_score(novelty_components(distances, fwd.recon_error), cal.novelty)
    flag = novelty_flag(score, cal.novelty)
    return {
        "auroc": float(roc_auc_score(novel, score)),
        "novel_bins": int(novel.sum()),
        "in_distribution_bins": int((~novel).sum()),
        "flagged_novel": float(flag[novel].mean()),
        "flagged_in_distribution": float(flag[~novel].mean()),
    }


def _read_calibration(ms: ModelSet, warnings: list[str], name: str):
    if not calibration_path(ms).is_file():
        return None
    try:
        return read_calibration(ms)
    except LilyVAEError as exc:
        warnings.append(f"{name}: calibration not used ({exc})")
        return None


def _label_codes(data: TrainingData, class_names) -> np.ndarray:
    """Each row's label as an index into the model's (or calibration's) classes; -1
    where unlabelled or a lithology it does not know."""
    index = {c: i for i, c in enumerate(class_names)}
    to_model = np.array([index.get(c, -1) for c in data.class_names], dtype=np.int64)
    return np.where(data.labels >= 0, to_model[np.clip(data.labels, 0, None)], -1)


def probability_scores(
    m: NamedModel,
    data: TrainingData,
    test: np.ndarray,
    novel: np.ndarray | None,
    warnings: list[str],
) -> dict:
    """The ``probabilities`` entry of a model in ``metrics.json`` (``test``: its held-out
    rows; ``novel``: rows of the injected interval, or None)."""
    ms = _model_set(m)
    cal = None if ms is None else _read_calibration(ms, warnings, m.name)
    if not m.has_head and cal is None:
        return {"skipped": "no lithology head and no calibration (run lilyvae calibrate)"}
    rows = np.asarray(test, bool).copy()
    excluded = []
    boreholes = np.full(data.n_rows, "", dtype=object) if data.boreholes is None else data.boreholes
    if cal is not None:
        fit = cal.measured.get("boreholes", {}).get("fit", [])
        in_fit = rows_in(boreholes.astype(str), [str(b) for b in fit])
        if (rows & ~in_fit).any():
            rows &= ~in_fit
            excluded.append(f"{len(fit)} boreholes the calibration was fitted on")
    class_names = cal.class_names if cal is not None else m.model.class_names
    labels = _label_codes(data, class_names)
    picked = np.flatnonzero(rows)
    if len(picked) == 0:
        return {"skipped": "no held-out rows to score"}
    models = ms or ModelSet(Path(m.name), [m.model], "")
    fwd = forward(models, data.features[picked])
    class_group, group_names = (
        (cal.class_group, cal.group_names) if cal is not None else class_groups(class_names)
    )
    heads = None if cal is None else cal.heads
    temperature = None if cal is None else cal.temperature
    probs = probabilities(member_logits(fwd, heads), class_group, len(group_names), temperature)
    is_novel = None if novel is None else novel[picked]
    scored = labels[picked] >= 0
    if is_novel is not None and is_novel.any():
        scored &= ~is_novel
        excluded.append(f"{int(is_novel.sum())} bins of the injected novel interval")
    withheld = withheld_class_indices(models, class_names)
    unseen = scored & np.isin(labels[picked], withheld)
    if unseen.any():
        scored &= ~unseen
        excluded.append(
            f"{int(unseen.sum())} bins of {len(withheld)} lithologies whose labels the head "
            "never saw (withheld for the zero-shot test)"
        )
    out = {
        "calibrated": cal is not None,
        "calibration": None if cal is None else calibration_path(ms).name,
        "rows": int(scored.sum()),
        "boreholes": int(len(np.unique(boreholes[picked][scored]))) if scored.any() else 0,
        "excluded": excluded,
        "ece_bins": metrics.ECE_BINS,
        "set_level": SET_LEVEL,
    }
    if scored.any():
        sub = probs.rows(scored)
        y = labels[picked][scored]
        out |= _calibration_scores(sub, cal, y, class_group)
        out["reliability"] = {"raw": metrics.reliability_table(sub.raw, y)}
        if cal is not None:
            out["reliability"]["calibrated"] = metrics.reliability_table(sub.calibrated, y)
    out["novelty"] = _novelty(ms, cal, fwd, is_novel)
    return out
