"""What the strongest baseline costs: ``evaluate`` with and without the group comparison
(LDA and XGBoost on the 14 groups, from the measurements, each embedding and both, with
borehole-bootstrap intervals), side by side on the demo's SYNTHETIC table.

Trains two small models on the demo's split (20% of the boreholes held out; a few epochs:
the embeddings' quality does not change what evaluation costs), then evaluates them
``--repeats`` times each way, alternating, and prints the median seconds and the ratio.
Target: the comparison adds at most 30% to evaluate's time.

    .venv/bin/python benchmarks/bench_evaluate.py [--rows 238506] [--epochs 2] [--repeats 2]
        [--context 0]

Timings are whatever this machine gives on this run (a shared machine is noisy: run it
more than once); nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from lilyvae.data.splits import split_boreholes
from lilyvae.data.tables import training_data_from_frame
from lilyvae.evaluation import EvalConfig, evaluate
from lilyvae.runs.demo_settings import DEMO_HOLDOUT, DEMO_SPLIT_SEED
from lilyvae.synthetic.generator import generate_table
from lilyvae.training.trainer import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=238506)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--context", type=int, default=0)
    args = parser.parse_args()
    data = training_data_from_frame(generate_table(rows=args.rows, seed=0), "SYNTHETIC demo")
    split = split_boreholes(data, DEMO_HOLDOUT, DEMO_SPLIT_SEED)
    models = {
        name: train(data, split=split, model=kind, recipe="standard", epochs=args.epochs)
        for name, kind in (("unsup", "unsupervised"), ("semisup", "semisupervised"))
    }
    seconds: dict[bool, list[float]] = {False: [], True: []}
    comparison_s = []
    for _ in range(args.repeats):
        for on in (False, True):
            config = EvalConfig(group_comparison=on, context=args.context)
            start = time.perf_counter()
            metrics = evaluate(models, data, config)
            seconds[on].append(time.perf_counter() - start)
            if on:
                methods = metrics["group_comparison"]["methods"].values()
                comparison_s.append(sum(m["seconds"] for m in methods))
                verdict = metrics["group_comparison"]["verdict"]
    without, with_ = (statistics.median(seconds[k]) for k in (False, True))
    print(
        f"{os.cpu_count()} cores; SYNTHETIC table, {args.rows:,} rows; 2 models; "
        f"context {args.context}"
    )
    print(f"evaluate without the group comparison  {without:7.1f} s")
    print(f"evaluate with it                       {with_:7.1f} s  ({with_ / without - 1:+.0%})")
    print(f"the comparison's fits and scores       {statistics.median(comparison_s):7.1f} s")
    print(f"SYNTHETIC verdict: {verdict}")


if __name__ == "__main__":
    main()
