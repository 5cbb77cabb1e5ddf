"""The strongest baseline beside every embedding: the 14 lithology groups of held-out
boreholes predicted by a linear model and by gradient-boosted trees, from the six
measurements, from each embedding, and from each embedding with the measurements.

The field's lithology contests (FORCE 2020, SEG 2016) were won by gradient-boosted trees
on the raw logs, and on the real LILY data boosted trees on the six measurements (42%
balanced accuracy on the 14 groups) beat classifiers on VAE embeddings (16-30%). So an
embedding earns its place only by beating that, not a linear model on the same inputs.
The trees are XGBoost's (chosen by ``benchmarks/bench_boosting.py``: on one thread the
most accurate and the fastest of LightGBM, XGBoost and CatBoost there, and a small
wheel); where it is not installed the boosted rows are skipped and the evaluation says
so in one line.

Every method is fitted on rows of training boreholes and scored on every labelled row
of the held-out boreholes. Its 95% interval resamples the held-out boreholes with
replacement, the same draws for every method. The verdict names the best method and
says whether each embedding beats the strongest baseline (the best method on the
measurements alone) by paired differences (:mod:`.paired`): per resample, one method's
balanced accuracy minus the other's, a verdict only where the 95% interval of that
difference excludes 0. Paired, because the spread from borehole to borehole (a resample
of hard boreholes lowers every method) is shared by both methods and cancels in the
difference, where two intervals side by side would count it twice. The per-resample
values stay in memory; ``metrics.json`` has each difference and its interval.
"""

from __future__ import annotations

import importlib.util
import time
import warnings

import numpy as np

from lilyvae.evaluation.context import context_features
from lilyvae.evaluation.field_scores import field_scores
from lilyvae.evaluation.paired import (
    NO_VERDICT,
    SAID,
    difference_text,
    direction,
    paired_difference,
)
from lilyvae.evaluation.splits import subsample

#: The library of the boosted baseline, and the line that says it is missing.
BOOSTING_LIBRARY = "xgboost"
MISSING_BOOSTING = (
    "XGBoost is not installed, so the boosted-tree baselines are skipped (pip install xgboost-cpu)"
)
#: The boosted classifier's settings: a modest budget, tuned on validation boreholes
#: (docs/baselines.md says how: benchmarks/tune_boosting.py); the seed is the evaluation's.
BOOSTED_SETTINGS = {
    "n_estimators": 30,
    "learning_rate": 0.3,
    "max_depth": 4,
    "subsample": 0.8,
    "tree_method": "hist",
}
#: The subject name of the six measurements (as the other tables name the baseline).
MEASUREMENTS = "features"
METHODS = ("linear", "boosted")


def boosting_missing() -> str | None:
    """:data:`MISSING_BOOSTING` when XGBoost cannot be imported, else None."""
    if importlib.util.find_spec(BOOSTING_LIBRARY) is None:
        return MISSING_BOOSTING
    try:
        import xgboost  # noqa: F401
    except ImportError:
        return MISSING_BOOSTING
    return None


def fit_predict(method: str, X_fit, y_fit, X_test, seed: int, settings: dict | None = None):
    """(predicted group, probabilities, their group order) of one method; ``settings``:
    the boosted trees' (default :data:`BOOSTED_SETTINGS`; ``tune_boosting.py`` tries
    others)."""
    if method == "linear":
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LinearDiscriminantAnalysis().fit(X_fit, y_fit)
            proba = model.predict_proba(X_test)
        return model.classes_[proba.argmax(axis=1)], proba, model.classes_
    import xgboost

    # XGBoost wants the classes coded 0..k-1; one thread: the fits are small, and the
    # same seed gives the same trees.
    classes, codes = np.unique(y_fit, return_inverse=True)
    if len(classes) == 1:
        return np.full(len(X_test), classes[0]), np.ones((len(X_test), 1)), classes
    model = xgboost.XGBClassifier(**(settings or BOOSTED_SETTINGS), random_state=seed, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_fit, codes)
        proba = model.predict_proba(X_test)
    return classes[proba.argmax(axis=1)], proba, classes


def borehole_draws(n_boreholes: int, rounds: int, seed: int) -> np.ndarray:
    """(rounds, n_boreholes): how often each held-out borehole is drawn per resample."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_boreholes, size=(rounds, n_boreholes))
    return np.stack([np.bincount(p, minlength=n_boreholes) for p in picks]).astype(np.float64)


def resampled_balanced_accuracy(y_true, y_pred, borehole_codes, n_groups, draws) -> np.ndarray:
    """Balanced accuracy of each resample of whole boreholes (recall averaged over the
    groups present in the resample)."""
    n_b = draws.shape[1]
    rows = np.zeros((n_b, n_groups))
    hits = np.zeros((n_b, n_groups))
    np.add.at(rows, (borehole_codes, y_true), 1.0)
    np.add.at(hits, (borehole_codes, y_true), (y_pred == y_true).astype(np.float64))
    n, c = draws @ rows, draws @ hits
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nanmean(np.where(n > 0, c / n, np.nan), axis=1)


def _score(y_true, pred, proba, classes, boreholes, codes, n_groups, draws, field: bool):
    """A method's entry (with the field's scores where ``field``), and its balanced
    accuracy per resample."""
    from sklearn.metrics import f1_score

    present = np.unique(y_true)
    values = resampled_balanced_accuracy(y_true, pred, codes, n_groups, draws)
    low, high = (float(v) for v in np.percentile(values, [2.5, 97.5]))
    entry = {
        "balanced_accuracy": float(np.mean([np.mean(pred[y_true == g] == g) for g in present])),
        "accuracy": float(np.mean(pred == y_true)),
        "macro_f1": float(f1_score(y_true, pred, labels=present, average="macro", zero_division=0)),
        "interval": {"low": low, "high": high, "rounds": int(len(draws))},
    }
    if field:
        entry |= field_scores(y_true, pred, boreholes, proba, classes)
    return entry, values


def group_comparison(
    representations: dict,
    groups,
    group_names,
    fit_rows,
    test_rows,
    boreholes,
    config,
    depths=None,
) -> dict:
    """Scores of every method on every representation (``{name: (n, d) array}``, the
    measurements first) for the lithology groups ``groups`` (row codes into
    ``group_names``); fitted on ``fit_rows`` and scored on ``test_rows`` (row indices).
    ``boreholes`` and ``depths``: each row's, for the resamples and the depth context."""
    missing = boosting_missing()
    methods = [m for m in METHODS if m != "boosted" or missing is None]
    rng = np.random.default_rng(config.seed)
    fit = subsample(fit_rows, config.boosted_fit_rows, rng)
    test_bh = boreholes[test_rows] if boreholes is not None else None
    if test_bh is not None:
        names, codes = np.unique(test_bh, return_inverse=True)
    else:  # no boreholes: each row its own resampling unit (said in the entry)
        names, codes = test_rows, np.arange(len(test_rows))
    draws = borehole_draws(len(names), config.interval_rounds, config.seed)
    y_test = groups[test_rows]
    scores: dict[str, dict] = {}
    resampled: dict[str, np.ndarray] = {}  # per method, per resample: in memory only
    for name, X in representations.items():
        Xc = context_features(X, boreholes, config.context, depths)
        for method in methods:
            start = time.perf_counter()
            pred, proba, classes = fit_predict(
                method, Xc[fit], groups[fit], Xc[test_rows], config.seed
            )
            key = f"{name}/{method}"
            entry, resampled[key] = _score(
                y_test,
                pred,
                proba,
                classes,
                test_bh,
                codes,
                len(group_names),
                draws,
                config.detailed,
            )
            entry |= {"representation": name, "method": method, "fit_rows": int(len(fit))}
            entry["seconds"] = round(time.perf_counter() - start, 2)
            scores[key] = entry
    out = {
        "task": f"{len(np.unique(y_test))} lithology groups of held-out boreholes",
        "context": int(config.context),
        "test_rows": int(len(test_rows)),
        "test_boreholes": int(len(names)) if test_bh is not None else None,
        "interval": "95%: 2.5th and 97.5th percentiles over resamples of the held-out "
        "boreholes (rows where the table has no boreholes), the same draws for every method",
        "difference_interval": "95%: 2.5th and 97.5th percentiles, over the same resamples, "
        "of one method's balanced accuracy minus the other's",
        "boosted_model": f"xgboost.XGBClassifier({BOOSTED_SETTINGS})",
        "methods": scores,
    }
    if missing:
        out["skipped"] = missing
    embeddings = [n for n in representations if n != MEASUREMENTS]
    out["paired_differences"] = paired_differences(scores, resampled, embeddings)
    out["verdict"] = verdict(scores, out["paired_differences"])
    return out


def paired_differences(scores: dict, resampled: dict, embeddings: list[str]) -> dict:
    """The paired differences the verdict rests on, per resample of the held-out
    boreholes: ``best`` (the best method minus the runner-up; None for a single
    method) and ``embeddings``: per embedding, its best method minus the strongest
    baseline (the best method on the measurements alone). ``resampled``: each
    method's balanced accuracy per resample (the same draws for every method)."""

    def entry(a: str, b: str) -> dict:
        sa, sb = scores[a], scores[b]
        d = paired_difference(
            resampled[a], resampled[b], sa["balanced_accuracy"], sb["balanced_accuracy"]
        )
        return {"method": a, "against": b} | d | {"verdict": SAID[direction(d)]}

    ranked = sorted(scores, key=lambda k: -scores[k]["balanced_accuracy"])
    out: dict = {"best": entry(ranked[0], ranked[1]) if len(ranked) > 1 else None}
    base = [k for k in ranked if scores[k]["representation"] == MEASUREMENTS]
    out["embeddings"] = {}
    for emb in embeddings if base else ():
        own = [k for k in ranked if scores[k]["representation"] == emb]
        if own:
            out["embeddings"][emb] = entry(own[0], base[0])
    return out


def _shown(name: str, entry: dict) -> str:
    i = entry["interval"]
    return f"{name} {entry['balanced_accuracy']:.3f} [{i['low']:.3f}, {i['high']:.3f}]"


def verdict(scores: dict, differences: dict) -> str:
    """One line: the best method, and for each embedding whether its best method beats
    the strongest baseline, by the paired differences of :func:`paired_differences`
    (a verdict only where the difference's interval excludes 0)."""
    if not scores:
        return "no verdict: nothing was scored"
    best_name = max(scores, key=lambda k: scores[k]["balanced_accuracy"])
    head = f"best: {_shown(best_name, scores[best_name])}"
    best = differences.get("best")
    if best is None:
        head += " (the only method scored)"
    else:
        runner, by = best["against"], difference_text(best)
        head += {
            1: f" (beats the runner-up {runner} by {by})",
            # ahead on the point score, behind on most resamples
            -1: f" (is beaten by the runner-up {runner}: {by})",
            0: f" (no verdict on the best: the difference to the runner-up {runner}, {by}, "
            "contains 0)",
        }[direction(best)]
    base = [k for k in scores if scores[k]["representation"] == MEASUREMENTS]
    if not base:
        return head
    base_name = max(base, key=lambda k: scores[k]["balanced_accuracy"])
    parts = [head, f"strongest baseline: {_shown(base_name, scores[base_name])}"]
    for emb, d in differences["embeddings"].items():
        side = direction(d)
        said = NO_VERDICT if side == 0 else f"{SAID[side]} the strongest baseline"
        top = _shown(d["method"], scores[d["method"]])
        parts.append(f"{emb}: {said}, difference {difference_text(d)} ({top})")
    return "; ".join(parts)
