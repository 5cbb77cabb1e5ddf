"""The boosted baseline's settings, tuned on validation boreholes: a small grid of
XGBoost budgets, each fitted as ``evaluate`` fits it, scored on boreholes of the training
side only, and the best one's held-out score beside that of the settings in use.

For each of ``--splits`` borehole splits (20% held out, as the demo): a fifth of the
training boreholes become validation boreholes; every setting of the grid is fitted on
``--fit-rows`` rows (``evaluate``'s ``boosted_fit_rows``) of the other training
boreholes, from the six raw measurements, and scored (balanced accuracy over the 14
groups) on the validation boreholes. The setting with the best mean validation score
is then fitted on rows of all training boreholes and scored on the held-out boreholes,
beside ``BOOSTED_SETTINGS`` (the settings in use), with the seconds of one fit. The
held-out boreholes never choose anything.

    .venv/bin/python benchmarks/tune_boosting.py [--rows 238506] [--splits 3]
        [--fit-rows 20000] [--trees 30 60 150] [--depths 4 6]

SYNTHETIC data: a setting tuned here is tuned to the generator. Timings are whatever
this machine gives on this run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from lilyvae.data.splits import split_boreholes
from lilyvae.data.tables import training_data_from_frame
from lilyvae.evaluation.baselines import BOOSTED_SETTINGS, fit_predict
from lilyvae.evaluation.config import EvalConfig
from lilyvae.evaluation.groups import groups_of
from lilyvae.synthetic.counts import DEFAULT_ROWS
from lilyvae.synthetic.measurements import SyntheticLily

GRID = {"n_estimators": (30, 60, 150), "max_depth": (4, 6), "learning_rate": (0.1, 0.2, 0.3)}


def balanced_accuracy(y, pred) -> float:
    return float(np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)]))


def score(settings, X, y, fit, test, seed) -> tuple[float, float]:
    """(balanced accuracy on ``test``, seconds) of the settings fitted on ``fit``."""
    start = time.perf_counter()
    pred, _, _ = fit_predict("boosted", X[fit], y[fit], X[test], seed, settings)
    return balanced_accuracy(y[test], pred), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--fit-rows", type=int, default=EvalConfig().boosted_fit_rows)
    parser.add_argument("--trees", type=int, nargs="+", default=GRID["n_estimators"])
    parser.add_argument("--depths", type=int, nargs="+", default=GRID["max_depth"])
    args = parser.parse_args()
    axes = GRID | {"n_estimators": tuple(args.trees), "max_depth": tuple(args.depths)}
    data = training_data_from_frame(SyntheticLily(rows=args.rows, seed=0).table(), "SYNTHETIC")
    of, _ = groups_of(data.class_names)
    y, X = of[data.labels], data.features
    grid = [
        BOOSTED_SETTINGS | dict(zip(axes, values, strict=True))
        for values in itertools.product(*axes.values())
    ]
    validation = np.zeros((len(grid), args.splits))
    seconds = np.zeros((len(grid), args.splits))
    held_out = {"in use": [], "tuned": []}
    for split in range(args.splits):
        rng = np.random.default_rng(split)
        test = split_boreholes(data, 0.2, split).holdout_mask(data.boreholes)
        train_ids = np.unique(data.boreholes[~test])
        val_ids = rng.choice(train_ids, max(1, len(train_ids) // 5), replace=False)
        val = ~test & np.isin(data.boreholes, val_ids)
        inner = np.flatnonzero(~test & ~val)
        fit = np.sort(rng.choice(inner, min(args.fit_rows, len(inner)), replace=False))
        for i, settings in enumerate(grid):
            validation[i, split], seconds[i, split] = score(settings, X, y, fit, val, split)
        best = grid[int(validation[:, : split + 1].mean(axis=1).argmax())]
        train = np.flatnonzero(~test)
        fit_all = np.sort(rng.choice(train, min(args.fit_rows, len(train)), replace=False))
        held_out["in use"].append(score(BOOSTED_SETTINGS, X, y, fit_all, test, split))
        held_out["tuned"].append(score(best, X, y, fit_all, test, split) + (best,))
    print(
        f"SYNTHETIC table (generator version 3), {args.rows:,} rows; {args.splits} splits; "
        f"{args.fit_rows:,} fit rows; 14 groups; validation: a fifth of the training boreholes"
    )
    print(f"{'trees':>5} {'depth':>5} {'rate':>5} {'validation':>10} {'s/fit':>6}")
    for i in np.argsort(-validation.mean(axis=1)):
        g = grid[i]
        print(
            f"{g['n_estimators']:>5} {g['max_depth']:>5} {g['learning_rate']:>5} "
            f"{validation[i].mean():>10.3f} {seconds[i].mean():>6.2f}"
        )
    for name, runs in held_out.items():
        accs = [r[0] for r in runs]
        print(
            f"held out, {name:<6}: {np.mean(accs):.3f} (splits: "
            + " ".join(f"{a:.3f}" for a in accs)
            + f"); {np.mean([r[1] for r in runs]):.2f} s/fit"
        )
    chosen = {tuple(sorted(r[2].items())) for r in held_out["tuned"]}
    print(f"chosen by validation: {[dict(c) for c in chosen]}")


if __name__ == "__main__":
    main()
