"""Which gradient-boosting library evaluation uses: LightGBM, XGBoost and CatBoost side
by side on a SYNTHETIC table, as ``evaluate`` uses them.

The task is the field's: the 14 lithology groups of held-out boreholes (20% of the
boreholes, seed 0 and more seeds with ``--splits``) from the six raw measurements,
fitted on a subsample of the training boreholes' rows. Each library gets the same
budget (``--trees`` trees of depth about 4, learning rate 0.1, ``--threads`` threads:
one by default, as evaluation runs them) and is
timed fitting and predicting. Printed: balanced accuracy over the groups (mean over the
splits, and each split's), seconds, and a logistic regression on the scaled measurements
for scale, with each library's gain over it (mean and standard deviation over splits).

    .venv/bin/python benchmarks/bench_boosting.py [--rows 80000] [--trees 100]
        [--splits 3] [--generator-version 3]

Timings are whatever this machine gives on this run (a shared machine is noisy: run it
more than once); nothing here is asserted. A library that is not installed is named and
skipped (``pip install lightgbm xgboost-cpu catboost``).
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings

import numpy as np

from lilyvae.data.scaling import DistributionAwareScaler
from lilyvae.data.splits import split_boreholes
from lilyvae.data.tables import training_data_from_frame
from lilyvae.evaluation.groups import groups_of
from lilyvae.synthetic.measurements import SyntheticLily
from lilyvae.synthetic.overlap import DEFAULT_GENERATOR_VERSION


def balanced_accuracy(y, pred) -> float:
    return float(np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)]))


def make_model(library: str, trees: int, threads: int):
    if library == "lightgbm":
        import lightgbm

        return lightgbm.LGBMClassifier(
            n_estimators=trees,
            learning_rate=0.1,
            num_leaves=15,
            min_child_samples=40,
            n_jobs=threads,
            verbose=-1,
            random_state=0,
        )
    if library == "xgboost":
        import xgboost

        return xgboost.XGBClassifier(
            n_estimators=trees,
            learning_rate=0.1,
            max_depth=4,
            tree_method="hist",
            n_jobs=threads,
            random_state=0,
        )
    import catboost

    return catboost.CatBoostClassifier(
        iterations=trees,
        learning_rate=0.1,
        depth=4,
        thread_count=threads,
        verbose=False,
        random_seed=0,
        allow_writing_files=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=80000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--fit-rows", type=int, default=20000)
    parser.add_argument("--generator-version", type=int, default=DEFAULT_GENERATOR_VERSION)
    parser.add_argument("--threads", type=int, default=1, help="threads per library, default 1")
    args = parser.parse_args()
    table = SyntheticLily(rows=args.rows, seed=0, version=args.generator_version).table()
    data = training_data_from_frame(table, "SYNTHETIC")
    of, groups = groups_of(data.class_names)
    y_all = of[data.labels]
    libraries = [m for m in ("lightgbm", "xgboost", "catboost") if importlib.util.find_spec(m)]
    for m in {"lightgbm", "xgboost", "catboost"} - set(libraries):
        print(f"{m}: not installed, skipped")
    scores: dict[str, list[tuple[float, float]]] = {m: [] for m in ["logistic", *libraries]}
    for seed in range(args.splits):
        test = split_boreholes(data, 0.2, seed).holdout_mask(data.boreholes)
        rng = np.random.default_rng(seed)
        train = np.flatnonzero(~test)
        fit = np.sort(rng.choice(train, min(args.fit_rows, len(train)), replace=False))
        # Groups are coded 0..k-1 over those the fit rows have (XGBoost requires it).
        codes, y_fit = np.unique(y_all[fit], return_inverse=True)
        keep = np.isin(y_all, codes) & test
        y_test = y_all[keep]
        scaled = DistributionAwareScaler().fit(data.features[fit]).transform(data.features)
        start = time.perf_counter()
        from sklearn.linear_model import LogisticRegression

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = LogisticRegression(max_iter=300).fit(scaled[fit], y_fit).predict(scaled[keep])
        scores["logistic"].append(
            (balanced_accuracy(y_test, codes[pred]), time.perf_counter() - start)
        )
        for library in libraries:
            start = time.perf_counter()
            model = make_model(library, args.trees, args.threads)
            model.fit(data.features[fit], y_fit)
            pred = np.asarray(model.predict(data.features[keep])).ravel().astype(np.int64)
            scores[library].append(
                (balanced_accuracy(y_test, codes[pred]), time.perf_counter() - start)
            )
    print(
        f"SYNTHETIC table (generator version {args.generator_version}), {args.rows:,} rows; "
        f"{args.splits} borehole splits (20%); {args.fit_rows:,} fit rows; 14 groups"
    )
    report(scores)


def report(scores: dict[str, list[tuple[float, float]]]) -> None:
    """The table: mean balanced accuracy, each split's, seconds, and the gain over the
    logistic regression split by split (mean +- standard deviation)."""
    linear = np.array([v[0] for v in scores["logistic"]])
    print(f"{'method':<10} {'balanced accuracy':>18} {'per split':>24} {'seconds':>8} {'gain':>14}")
    for name, values in scores.items():
        acc = np.array([v[0] for v in values])
        secs = np.mean([v[1] for v in values])
        per_split = " ".join(f"{a:.3f}" for a in acc)
        gain = acc - linear
        gain_text = "" if name == "logistic" else f"{gain.mean():+.3f} +- {gain.std():.3f}"
        print(f"{name:<10} {acc.mean():>18.3f} {per_split:>24} {secs:>8.1f} {gain_text:>14}")


if __name__ == "__main__":
    main()
