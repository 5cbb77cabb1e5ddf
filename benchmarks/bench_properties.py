"""Zero-shot property prediction: ``lilyvae properties`` against the reference's protocol.

On SYNTHETIC scale-1 inputs (the 238,506-bin table, the 14 property tables of
``lilyvae.synthetic.properties``, an unsupervised and a semi-supervised model trained
briefly with 20% of the boreholes held out):

(a) the default ``lilyvae properties`` run: every table, both embeddings and the
    ``features`` baseline, held-out boreholes, timed whole (reading, embedding,
    matching, scoring, writing);
(b) the reference's protocol as the reference ran it: CatBoost, 100 iterations
    (defaults otherwise, all cores), 100 bootstrap rounds of at most 50,000 matched
    rows split 80/20 at random, for every variable and each of the two embeddings. A
    sample of variables spanning the sizes is timed for a few rounds; a line
    ``seconds per round = a + b x fitting rows`` fitted to them extrapolates to 100
    rounds of every variable of (a).

Prints both, the ratio, the CPU seconds of (a) (this process and its workers) and the
load average, because the machine may be shared.

    .venv/bin/python benchmarks/bench_properties.py [--work-dir DIR] [--sample 8] [--rounds 3]

Needs CatBoost for (b) (``pip install catboost``; not a dependency of lilyvae).
Timings are whatever this machine gives on this run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.splits import split_boreholes
from lilyvae.data.tables import load_training_data
from lilyvae.properties import predict_properties
from lilyvae.properties.matching import DEPTH_TARGET, TrainingBins, match_table
from lilyvae.properties.matching import read_property_table as read_property
from lilyvae.synthetic.generator import write_synthetic_table
from lilyvae.synthetic.properties import write_property_tables
from lilyvae.training.trainer import train

REFERENCE = {"iterations": 100, "rounds": 100, "max_rows": 50_000, "test_share": 0.2}


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def prepare(work: Path, epochs: int) -> dict:
    """The scale-1 SYNTHETIC inputs (kept in ``work`` and reused when present)."""
    table, lily = work / "table.csv", work / "lily"
    if not table.is_file():
        write_synthetic_table(table, seed=0)
    if not (lily / "properties.synthetic.json").is_file():
        write_property_tables(lily, scale=1.0, seed=0)
    models = {}
    for name, kind in (("unsup", "unsupervised"), ("semisup", "semisupervised")):
        path = work / f"{name}.pt"
        if not path.is_file():
            data = load_training_data(table)
            split = split_boreholes(data, 0.2, seed=0)
            train(data, model=kind, recipe="hybrid", epochs=epochs, split=split).save(path)
        models[name] = path
    return {"table": table, "lily": lily, "models": models}


def run_default(inputs: dict, out: Path, workers: int | None) -> tuple[float, float, object]:
    specs = [f"{n}={p}" for n, p in inputs["models"].items()]
    cpu, start = cpu_seconds(), time.perf_counter()
    result = predict_properties(inputs["lily"], inputs["table"], specs, out, workers=workers)
    return time.perf_counter() - start, cpu_seconds() - cpu, result


def reference_round(X: np.ndarray, y: np.ndarray, rng, catboost) -> None:
    """One bootstrap round of the reference: draw, split 80/20, fit CatBoost, predict."""
    size = min(len(y), REFERENCE["max_rows"])
    draw = rng.integers(0, len(y), size)
    order = rng.permutation(size)
    n_test = int(np.ceil(REFERENCE["test_share"] * size))
    fit, test = draw[order[n_test:]], draw[order[:n_test]]
    model = catboost.CatBoostRegressor(
        iterations=REFERENCE["iterations"], verbose=False, allow_writing_files=False
    )
    model.fit(X[fit], y[fit]).predict(X[test])


def sample_targets(inputs: dict, frame: pd.DataFrame, k: int) -> list[tuple[str, str]]:
    """``k`` property variables spread over the range of sizes (smallest to largest)."""
    props = frame[frame["table"] != DEPTH_TARGET[0]].sort_values("n_rows")
    picks = np.unique(np.linspace(0, len(props) - 1, k).round().astype(int))
    return [tuple(r) for r in props.iloc[picks][["table", "variable"]].to_numpy()]


def time_reference(inputs: dict, frame: pd.DataFrame, sample: int, rounds: int) -> dict:
    import catboost

    from lilyvae.model.checkpoint import load_model

    data = load_training_data(inputs["table"])
    table = pd.read_csv(inputs["table"], usecols=["Depth_Bin"])
    bins = TrainingBins(data.boreholes, table["Depth_Bin"].to_numpy(), "table")
    emb = load_model(inputs["models"]["semisup"]).embed(data.features)
    rng = np.random.default_rng(0)
    points = []
    for table_name, variable in sample_targets(inputs, frame, sample):
        path = inputs["lily"] / f"{table_name}_DataLITH.csv"
        m = match_table(table_name, path, read_property(path), bins, min_rows=1)
        y = m.targets[variable]
        have = np.isfinite(y)
        X, y = emb[m.rows[have]], y[have]
        start = time.perf_counter()
        for _ in range(rounds):
            reference_round(X, y, rng, catboost)
        per_round = (time.perf_counter() - start) / rounds
        fit_rows = min(len(y), REFERENCE["max_rows"]) * (1 - REFERENCE["test_share"])
        points.append((table_name, variable, len(y), fit_rows, per_round))
        print(f"  {table_name}/{variable.strip()}: {len(y):,} rows, {per_round:.3f} s per round")
    fit_rows = np.array([p[3] for p in points])
    b, a = np.polyfit(fit_rows, np.array([p[4] for p in points]), 1)
    all_rows = np.minimum(frame["n_rows"].to_numpy(float), REFERENCE["max_rows"]) * 0.8
    per_variable = np.maximum(a + b * all_rows, min(p[4] for p in points))
    total = float(per_variable.sum()) * REFERENCE["rounds"] * 2  # two embeddings
    return {"points": points, "a": a, "b": b, "total_s": total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", help="keep the inputs here (default: a temporary folder)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs of each model")
    parser.add_argument("--sample", type=int, default=8, help="variables timed for (b)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds timed per variable")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()
    try:
        import catboost  # noqa: F401
    except ImportError:
        print(
            "(b) needs CatBoost, the reference's regressor: pip install catboost", file=sys.stderr
        )
        return 2
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        inputs = prepare(work, args.epochs)
        print(f"SYNTHETIC scale-1 inputs ready in {time.perf_counter() - start:.0f} s ({work})")
        wall, cpu, result = run_default(inputs, work / "out", args.workers)
        print(
            f"(a) lilyvae properties, default: {wall:.1f} s wall, {cpu:.1f} CPU s, "
            f"{len(result.frame)} targets x 3 predictors"
        )
        print(f"    load average after (a): {os.getloadavg()[0]:.2f}")
        print(
            f"(b) the reference's protocol, timed on {args.sample} variables x {args.rounds} "
            "rounds (semi-supervised embedding):"
        )
        ref = time_reference(inputs, result.frame, args.sample, args.rounds)
        print(f"    seconds per round = {ref['a']:.3f} + {ref['b'] * 1e6:.2f} us x fitting rows")
        print(
            f"(b) extrapolated to 100 rounds x 2 embeddings x {len(result.frame)} variables: "
            f"{ref['total_s']:.0f} s ({ref['total_s'] / 60:.1f} min)"
        )
        print(f"ratio (b) / (a): {ref['total_s'] / wall:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
