"""Scoring one variable: gradient-boosted trees and the two protocols.

``boreholes`` (default, honest): fit once on the rows of the training boreholes (at
most ``max_fit_rows`` of them, drawn by seed), predict the rows of the held-out
boreholes, R2 over all of them; the 95% interval resamples the held-out boreholes with
replacement (``rounds`` times, the per-borehole sums make each resample a dot product),
so it says how much the score depends on which boreholes happened to be held out. A
variable with fewer than :data:`MIN_TEST_BOREHOLES` held-out boreholes is reported and
not scored.

``reference`` (the reference's, leaky): ``rounds`` bootstrap rounds; each draws
``min(n, max_fit_rows)`` matched rows with replacement, splits them 80/20 at random,
fits on the 80 and scores R2 on the 20; mean R2 and the 2.5th and 97.5th percentiles.
Neighbouring bins of one borehole, the samples of one bin and the copies a draw makes
of one row sit on both sides of the split, so a variable that is constant within a
borehole scores high.

Every predictor of a variable sees the same rows, the same draws and the same tree seed
(which also draws the trees' early-stopping rows), so their scores are paired. The
trees run on one thread (the variables run in parallel instead), which also makes
every result independent of the number of workers and of the backend.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass

import numpy as np

#: scikit-learn's HistGradientBoostingRegressor: up to 100 trees like the reference's
#: CatBoost; depth 6, 10 bins per leaf and L2 1.0 match CatBoost's accuracy on a few
#: hundred rows; early stopping on a seeded 20% of the fitting rows (10 rounds without
#: gain) keeps the trees from fitting noise, so a variable they cannot predict scores
#: about 0 instead of well below (docs/properties.md has the measurements).
REGRESSOR = {
    "max_iter": 100,
    "learning_rate": 0.1,
    "max_depth": 6,
    "min_samples_leaf": 10,
    "l2_regularization": 1.0,
    "early_stopping": True,
    "validation_fraction": 0.2,
    "n_iter_no_change": 10,
}
MIN_TEST_BOREHOLES = 5
MIN_FIT_ROWS = 20
LEVEL = 0.95
REFERENCE_TEST_SHARE = 0.2
PROTOCOLS = ("boreholes", "reference")
DEFAULT_ROUNDS = {"boreholes": 1000, "reference": 100}
DEFAULT_MAX_FIT_ROWS = 50_000


@dataclass(frozen=True)
class Task:
    """One target: its rows of the predictor matrices and its values there."""

    index: int
    table: str
    variable: str
    rows: np.ndarray
    y: np.ndarray


def variable_seed(seed: int, table: str, variable: str) -> np.random.SeedSequence:
    """A variable's own seed: the same whatever the order or the worker it runs on."""
    return np.random.SeedSequence([seed, zlib.crc32(table.encode()), zlib.crc32(variable.encode())])


def make_regressor(seed: int):
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(**REGRESSOR, random_state=seed)


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination about the scored rows' own mean (scikit-learn's)."""
    resid = float(np.sum((y - pred) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - resid / total if total > 0 else float("nan")


def _bounds(values: np.ndarray) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def borehole_draws(n_boreholes: int, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """(rounds, n_boreholes) counts: how often each borehole is drawn in each resample."""
    picks = rng.integers(0, n_boreholes, size=(rounds, n_boreholes))
    flat = (np.arange(rounds)[:, None] * n_boreholes + picks).ravel()
    return np.bincount(flat, minlength=rounds * n_boreholes).reshape(rounds, n_boreholes)


def resampled_r2(y, pred, groups, draws: np.ndarray) -> np.ndarray:
    """R2 of every resample of whole boreholes (``groups``: codes 0..B-1 of the rows)."""
    resid = (y - pred) ** 2
    y = y - y.mean()  # R2 is shift-free; centring avoids cancellation in the sums
    n_b = draws.shape[1]
    stats = np.stack(
        [
            np.bincount(groups, minlength=n_b).astype(np.float64),
            np.bincount(groups, weights=y, minlength=n_b),
            np.bincount(groups, weights=y * y, minlength=n_b),
            np.bincount(groups, weights=resid, minlength=n_b),
        ],
        axis=1,
    )
    n, sy, syy, sres = (draws @ stats).T
    total = syy - sy * sy / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 1.0 - sres / total, np.nan)


def _not_scored(base: dict, reason: str) -> dict:
    return base | {"scored": False, "reason": reason, "scores": {}}


def score_boreholes(X: dict, groups, test_mask, task: Task, rounds: int, seed: int, cap: int):
    """The honest protocol for one variable (see the module)."""
    rows, y = task.rows, task.y
    test = test_mask[rows]
    g = groups[rows]
    test_holes, test_codes = np.unique(g[test], return_inverse=True)
    base = {
        "n_rows": int(rows.size),
        "n_boreholes": int(np.unique(g).size),
        "n_test_rows": int(test.sum()),
        "n_test_boreholes": int(test_holes.size),
    }
    if test_holes.size < MIN_TEST_BOREHOLES:
        return _not_scored(base, f"{test_holes.size} held-out boreholes (< {MIN_TEST_BOREHOLES})")
    fit = np.flatnonzero(~test)
    if fit.size < MIN_FIT_ROWS:
        return _not_scored(base, f"{fit.size} bins of training boreholes (< {MIN_FIT_ROWS})")
    if np.ptp(y[test]) == 0:
        return _not_scored(base, "one value over all held-out bins (R2 undefined)")
    seeds = variable_seed(seed, task.table, task.variable)
    rng = np.random.default_rng(seeds)
    if fit.size > cap:
        fit = np.sort(rng.choice(fit, size=cap, replace=False))
    draws = borehole_draws(test_holes.size, rounds, rng)
    tree_seed = int(seeds.generate_state(1)[0])
    scores = {}
    for name, matrix in X.items():
        model = make_regressor(tree_seed).fit(matrix[rows[fit]], y[fit])
        pred = model.predict(matrix[rows[test]])
        low, high = _bounds(resampled_r2(y[test], pred, test_codes, draws))
        scores[name] = {"r2": r2(y[test], pred), "low": low, "high": high}
    return base | {"scored": True, "reason": None, "scores": scores}


def score_reference(X: dict, groups, task: Task, rounds: int, seed: int, cap: int):
    """The reference's protocol for one variable (see the module)."""
    rows, y = task.rows, task.y
    n = rows.size
    size = min(n, cap)
    n_test = int(np.ceil(REFERENCE_TEST_SHARE * size))
    seeds = variable_seed(seed, task.table, task.variable)
    rng = np.random.default_rng(seeds)
    splits = []
    for _ in range(rounds):
        draw = rng.integers(0, n, size=size)
        order = rng.permutation(size)
        splits.append((draw[order[n_test:]], draw[order[:n_test]]))
    base = {
        "n_rows": int(n),
        "n_boreholes": int(np.unique(groups[rows]).size),
        "n_test_rows": n_test,
        "n_test_boreholes": int(np.unique(groups[rows[splits[0][1]]]).size),
    }
    if size - n_test < MIN_FIT_ROWS or n_test < 2:
        return _not_scored(base, f"{n} matched bins are too few for an 80/20 split")
    tree_seed = int(seeds.generate_state(1)[0])
    scores = {}
    for name, matrix in X.items():
        values = np.empty(rounds)
        for k, (fit, test) in enumerate(splits):
            model = make_regressor(tree_seed).fit(matrix[rows[fit]], y[fit])
            values[k] = r2(y[test], model.predict(matrix[rows[test]]))
        low, high = _bounds(values)
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        scores[name] = {"r2": mean, "low": low, "high": high}
    return base | {"scored": True, "reason": None, "scores": scores}


def run_task(shared: dict, task: Task) -> dict:
    """Score one variable with every predictor; failures are caught and reported."""
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    s = shared["settings"]
    try:
        with threadpool_limits(limits=1):
            if s["protocol"] == "boreholes":
                out = score_boreholes(
                    shared["X"],
                    shared["groups"],
                    shared["test"],
                    task,
                    s["rounds"],
                    s["seed"],
                    s["max_fit_rows"],
                )
            else:
                out = score_reference(
                    shared["X"], shared["groups"], task, s["rounds"], s["seed"], s["max_fit_rows"]
                )
    except Exception as exc:  # one failed fit must not lose the others; it is reported
        text = str(exc).strip().splitlines()
        out = {"n_rows": int(task.rows.size), "scored": False, "failed": True, "scores": {}}
        out["reason"] = f"fit failed: {type(exc).__name__}: {text[0] if text else ''}"
    out["seconds"] = round(time.perf_counter() - start, 4)
    return out
