"""The evaluation itself: every model's embeddings (and the scaled inputs as a
baseline) scored on boreholes the models never saw, gathered into ``metrics.json``'s
dictionary.

The steps, each in its own module: resolve each model's split from its card
(:mod:`.splits`), pick the lithologies to look at (:mod:`.classes`), score each
representation (:mod:`.scores`) and each model's latent space and reconstruction
(:mod:`.latent`).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lilyvae.data.scaling import DistributionAwareScaler
from lilyvae.data.splits import borehole_codes
from lilyvae.data.tables import TrainingData, as_training_data
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation.baselines import MEASUREMENTS, group_comparison
from lilyvae.evaluation.classes import (
    ZeroShotClasses,
    top_classes,
    withheld_labels,
    zero_shot_classes,
)
from lilyvae.evaluation.config import (
    BASELINE,
    ROC_GRID,
    EvalConfig,
)
from lilyvae.evaluation.groups import groups_of
from lilyvae.evaluation.latent import latent_health, posterior, reconstruction_r2
from lilyvae.evaluation.missing import missing_colour
from lilyvae.evaluation.probability_scores import novel_interval_rows, probability_scores
from lilyvae.evaluation.scores import head_scores, score_space
from lilyvae.evaluation.splits import ScoringRows, resolve_split, scoring_rows
from lilyvae.model.embeddings import NamedModel, as_named_models
from lilyvae.run_folder import METRICS_FORMAT, METRICS_VERSION


@dataclass
class _Plan:
    """What every subject is scored on: its rows, the classes, what is skipped."""

    data: TrainingData
    config: EvalConfig
    rows: dict[str, ScoringRows]  # by model name
    primary: ScoringRows  # the first model's, also the baseline's
    warnings: list[str]
    skipped: dict[str, str]
    top: list[int]
    zero_shot: ZeroShotClasses
    novel: np.ndarray | None = None  # rows of an injected out-of-distribution interval
    novel_record: dict | None = None  # that interval, as the synthetic sidecar records it


def _split_rows(models: list[NamedModel], data: TrainingData, config: EvalConfig, warnings):
    """One split per distinct held-out set (the rows of each model), and its warnings."""
    by_key: dict[tuple, ScoringRows] = {}
    by_model: dict[str, ScoringRows] = {}
    for m in models:
        card = m.model.card
        split = resolve_split(data, card.split, config, adopted=bool(card.extra.get("adopted")))
        _check_both_sides(split, data)
        if split.key not in by_key:
            by_key[split.key] = scoring_rows(split, data, config)
            warnings.extend(f"{m.name}: {w}" for w in split.warnings)
        elif not split.held_out:  # every in-sample model is named, not only the first
            warnings.append(f"{m.name}: {split.warnings[0]}")
        by_model[m.name] = by_key[split.key]
    if len(by_key) > 1:
        warnings.append(
            "the models were trained with different held-out boreholes: each is scored on its "
            f"own; the {BASELINE!r} baseline uses the split of {models[0].name!r}"
        )
    for rows in by_key.values():
        coverage = rows.coverage
        if coverage["classes_without_training_rows"]:
            k = len(coverage["classes_without_training_rows"])
            warnings.append(
                f"{k} lithologies have rows only in held-out boreholes: no classifier can "
                "predict them (they still count in balanced accuracy and macro F1)"
            )
        if coverage["classes_without_held_out_rows"]:
            k = len(coverage["classes_without_held_out_rows"])
            warnings.append(
                f"{k} lithologies have no rows in the held-out boreholes: they are not scored"
            )
    return by_model


def _check_both_sides(split, data: TrainingData) -> None:
    """Scoring needs rows to score and rows to fit the downstream models on."""
    n_test = int(split.test.sum())
    if n_test == 0 or n_test == data.n_rows:
        raise LilyVAEError(
            f"{data.source}: too few rows to evaluate ({data.n_rows:,} usable: {n_test:,} to "
            f"score, {data.n_rows - n_test:,} to fit the downstream models on; each must be "
            "at least one)"
        )


def _plan(models: list[NamedModel], data: TrainingData, config: EvalConfig) -> _Plan:
    skipped: dict[str, str] = {}
    if data.n_labelled == 0:
        skipped["labels"] = (
            "the table has no lithology labels ('Principal' absent or empty): classification, "
            "clustering, zero-shot and head metrics are skipped"
        )
    warnings: list[str] = []
    rows = _split_rows(models, data, config, warnings)
    primary = rows[models[0].name]
    warnings.extend(skipped.values())
    if data.n_labelled and len(primary.lab_test) == 0:
        skipped["held_out_labels"] = "no labelled rows in the held-out boreholes"
        warnings.append(skipped["held_out_labels"])
    top = top_classes(data.labels, config.top_classes) if data.n_labelled else []
    cards = [m.model.card for m in models]
    zero_shot = zero_shot_classes(data, cards, primary.split.test, config)
    novel, record = novel_interval_rows(data)
    return _Plan(data, config, rows, primary, warnings, skipped, top, zero_shot, novel, record)


def _score(plan: _Plan, X: np.ndarray, rows: ScoringRows, curves: dict, fitted=None) -> dict:
    zero_shot = plan.zero_shot.indices
    return score_space(
        X, plan.data, rows, plan.config, plan.top, zero_shot, curves, plan.skipped, fitted
    )


def _score_baseline(plan: _Plan, curves: dict) -> dict:
    """The six inputs, scaled on the training rows only."""
    t0 = time.perf_counter()
    features = plan.data.features
    scaler = DistributionAwareScaler().fit(features[plan.primary.split.train])
    entry = {"kind": "baseline", "recipe": None, "description": "the six scaled inputs"}
    curves[BASELINE] = {}
    entry |= _score(plan, scaler.transform(features), plan.primary, curves[BASELINE])
    entry["seconds"] = round(time.perf_counter() - t0, 2)
    return entry


def _score_model(
    plan: _Plan, m: NamedModel, curves: dict, embeddings: dict, mixtures: dict | None
) -> dict:
    """A model's reconstruction and latent health on its scored rows, then its
    embeddings' scores (and its head's, for a semi-supervised model); its clustering's
    mixture goes into ``mixtures`` (by model name) where that is given."""
    t0 = time.perf_counter()
    rows = plan.rows[m.name]
    test = rows.split.test
    entry = {"kind": m.kind, "recipe": m.recipe, "held_out": rows.split.held_out}
    entry["reconstruction_r2"] = reconstruction_r2(m.model, plan.data.features[test])
    mu_all, logvar_all = posterior(m.model, plan.data.features)
    if rows is plan.primary:  # the group comparison scores the first model's split
        embeddings[m.name] = mu_all
    entry["latent"] = latent_health(mu_all[test], logvar_all[test])
    curves[m.name] = {}
    fitted = None if mixtures is None else {}
    entry |= _score(plan, mu_all, rows, curves[m.name], fitted)
    if fitted:
        mixtures[m.name] = fitted["mixture"]
    if "zero_shot" in entry:
        withheld = set(withheld_labels(m.model.card))
        saw = m.has_head and not set(plan.zero_shot.names) <= withheld
        entry["zero_shot"]["encoder_saw_labels"] = saw
    if m.has_head and not plan.skipped:
        curves[m.name]["head"] = {}
        detailed = plan.config.detailed
        head_curves = curves[m.name]["head"]
        entry["head"] = head_scores(m.model, plan.data, rows, plan.top, head_curves, detailed)
    if not plan.skipped and plan.config.detailed:
        entry["probabilities"] = probability_scores(m, plan.data, test, plan.novel, plan.warnings)
    entry["seconds"] = round(time.perf_counter() - t0, 2)
    return entry


def _compare_groups(plan: _Plan, embeddings: dict) -> dict:
    """The 14-group comparison of linear and boosted classifiers on the measurements,
    each embedding, and each embedding with the measurements (:mod:`.baselines`)."""
    data, primary = plan.data, plan.primary
    scaler = DistributionAwareScaler().fit(data.features[primary.split.train])
    measured = scaler.transform(data.features)
    representations = {MEASUREMENTS: measured}
    for name, mu in embeddings.items():
        representations[name] = mu
        representations[f"{name}+{MEASUREMENTS}"] = np.concatenate([mu, measured], axis=1)
    of, group_names = groups_of(data.class_names)
    groups = np.where(data.labels >= 0, of[np.clip(data.labels, 0, None)], -1)
    return group_comparison(
        representations,
        groups,
        group_names,
        primary.lab_train,
        primary.lab_test,
        data.boreholes,
        plan.config,
        data.depths,
    )


def _model_info(m: NamedModel, run_dir: Path | None) -> dict:
    """What ``metrics.json`` records of a model: its checkpoint (relative to the run
    directory where it lies inside it) and the facts of its card."""
    card = m.model.card
    shown = None
    if m.path is not None:
        shown = str(m.path)
        if run_dir is not None:
            try:
                shown = str(Path(m.path).resolve().relative_to(run_dir.resolve()))
            except ValueError:
                shown = str(Path(m.path).resolve())
    data = card.data
    return {
        "checkpoint": shown,
        "kind": m.kind,
        "recipe": m.recipe,
        "missing": m.model.missing,
        "epochs": card.training.get("epochs"),
        "seed": card.seed,
        "latent_dim": m.model.module.latent_dim,
        "trained_on": data.get("path"),
        "trained_on_sha256": data.get("sha256"),
        "trained_on_synthetic": card.origin.synthetic,
        "rows_trained": data.get("rows_trained"),
        "held_out_boreholes": len(card.held_out_boreholes),
        "labels_withheld": withheld_labels(card),
        "wall_time_s": card.wall_time_s,
    }


def _evaluation_section(plan: _Plan, held_out: bool) -> dict:
    """How the scores were made: the split, the row counts, the classes, the settings."""
    primary, data = plan.primary, plan.data
    return {
        "mode": "held-out boreholes" if held_out else "IN-SAMPLE",
        "split": primary.split.description,
        "held_out_boreholes": list(primary.split.holdout_boreholes),
        "rows_train": int(primary.split.train.sum()),
        "rows_test": int(primary.split.test.sum()),
        "labelled_rows_train": int(len(primary.lab_train)),
        "labelled_rows_test": int(len(primary.lab_test)),
        "svm_train_rows": int(len(primary.svm_train)),
        "svm_test_rows": int(len(primary.svm_test)),
        "gmm_fit_rows": int(len(primary.gmm_fit)),
        # The mixture has no more components than rows to fit it on.
        "gmm_components": min(plan.config.gmm_components, len(primary.gmm_fit)),
        "top_classes": [data.class_names[c] for c in plan.top],
        "zero_shot_classes": [data.class_names[c] for c in plan.zero_shot.indices],
        "zero_shot_source": plan.zero_shot.source,
        "coverage": primary.coverage,
        "novel_interval": plan.novel_record,
        "config": asdict(plan.config),
        "warnings": plan.warnings,
        "skipped": plan.skipped,
    }


def _synthetic_notice(data: TrainingData, models: list[NamedModel]) -> str | None:
    """The table's synthetic notice, else one naming the models trained on synthetic
    data (as their cards record it)."""
    if data.origin.synthetic:
        return data.origin.notice or "SYNTHETIC data"
    trained = [m.name for m in models if m.model.card.origin.synthetic]
    return f"models {', '.join(trained)} were trained on SYNTHETIC data" if trained else None


def evaluate(
    models,
    data,
    config: EvalConfig | None = None,
    *,
    run_dir: str | os.PathLike | None = None,
    quiet: bool = True,
    baseline: bool = True,
    missing_groups: bool = True,
    mixtures: dict | None = None,
) -> dict:
    """Score each model's embeddings (and the scaled inputs as a baseline, unless
    ``baseline`` is False: ensembles score it once, not once per pack), and compare the
    group classifiers (``config.group_comparison``, with or without ``baseline``).

    ``models``: checkpoint paths (``"NAME=PATH"`` allowed), :class:`NamedModel` objects
    or a mapping name -> TrainedModel. ``data``: a table path, DataFrame or
    :class:`TrainingData`. Returns the ``metrics.json`` dictionary (plus a
    ``"_roc_curves"`` entry that :func:`write_metrics` writes to its own file).

    Every score is made on the rows with all six inputs; with ``missing_groups`` the
    ``missing_colour`` section (:mod:`.missing`) adds what a missing colour scan costs:
    each model on complete rows, on rows without colour (a table with them is read
    with them) and on complete rows with colour hidden, with coverage counts.

    ``mixtures``: a dict that receives each model's clustering mixture
    (:class:`~lilyvae.evaluation.scores.FittedMixture`, by model name), for
    :func:`~lilyvae.report.figures.make_figures` to colour by without fitting it again.
    """
    config = config or EvalConfig()
    start = time.perf_counter()
    models = as_named_models(models)
    full = as_training_data(data, keep_partial=True)
    data = full.rows_for("drop")
    say = (lambda *_: None) if quiet else print
    notice = _synthetic_notice(data, models)
    plan = _plan(models, data, config)

    subjects: dict[str, dict] = {}
    curves: dict[str, dict] = {}
    if baseline:
        subjects[BASELINE] = _score_baseline(plan, curves)
        say(f"  scored {BASELINE} (baseline) in {subjects[BASELINE]['seconds']:.1f} s")
    embeddings: dict[str, np.ndarray] = {}
    for m in models:
        subjects[m.name] = _score_model(plan, m, curves, embeddings, mixtures)
        say(f"  scored {m.name} in {subjects[m.name]['seconds']:.1f} s")

    extra = {}
    # The comparison fits its own classifiers on the measurements: it runs without the
    # baseline subject too (an ensemble's packs each compare their members).
    if config.group_comparison and not plan.skipped:
        t0 = time.perf_counter()
        extra["group_comparison"] = _compare_groups(plan, embeddings)
        say(f"  compared the group classifiers in {time.perf_counter() - t0:.1f} s")
        tag = "SYNTHETIC data: " if notice else ""
        say(f"  {tag}{extra['group_comparison']['verdict']}")

    if missing_groups:
        splits = {name: rows.split for name, rows in plan.rows.items()}
        extra["missing_colour"] = missing_colour(models, full, splits, baseline)
        say("  scored the missing-colour groups")
    run_dir = Path(run_dir) if run_dir is not None else None
    boreholes = None if data.boreholes is None else len(borehole_codes(data.boreholes)[0])
    return {
        "format": METRICS_FORMAT,
        "format_version": METRICS_VERSION,
        "synthetic": bool(notice),
        "synthetic_notice": notice,
        "data": data.provenance() | {"boreholes": boreholes},
        "evaluation": _evaluation_section(plan, all(r.split.held_out for r in plan.rows.values())),
        "models": {m.name: _model_info(m, run_dir) for m in models},
        "subjects": subjects,
        **extra,
        "wall_time_s": round(time.perf_counter() - start, 2),
        "_roc_curves": {"fpr": [round(float(v), 4) for v in ROC_GRID], "subjects": curves},
    }
