"""Models across seeds: each model's metrics over its seeds, with 95% intervals, and
comparisons that give a verdict only where the intervals separate.

One seed says little: at a few epochs two recipes differ by less than two seeds of
one recipe do. A model here is one configuration trained with several seeds (the
demo: 5, as packs, with :func:`lilyvae.runs.ensemble.train_seeds`); each seed's model is
scored by :func:`lilyvae.evaluation.evaluate` on the same held-out rows, and
its scores are flattened to the ensembles' metric names
(:func:`lilyvae.runs.ensemble.scoring.flatten_metrics`). Per model and metric:
the mean over seeds and Student's t 95% interval of that mean, cut at the metric's
range; fewer than 3 seeds give no interval, and then no verdict.

:func:`compare_models` writes what ``seeds.json`` holds and the report shows;
:func:`comparison_lines` is the printed summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lilyvae.evaluation.intervals import (
    LEVEL,
    MIN_VALUES,
    interval_text,
    metric_interval,
)
from lilyvae.run_folder import SEEDS_FORMAT
from lilyvae.runs.ensemble.scoring import flatten_metrics

#: The metrics a comparison gives a verdict on: held-out balanced accuracy of the
#: embeddings, by the reference's SVM and by a linear classifier.
COMPARED = ("svm_balanced_accuracy", "linear_balanced_accuracy")
NO_CLEAR_DIFFERENCE = "no clear difference"


def model_summary(subjects: Sequence[Mapping], seeds: Sequence[int]) -> dict:
    """One model's metrics over its seeds: values in seed order, mean and interval."""
    flat = [flatten_metrics(s) for s in subjects]
    names = [n for n in flat[0] if all(n in f for f in flat)] if flat else []
    return {
        "seeds": list(seeds),
        "metrics": {
            n: metric_interval(n, [f[n] for f in flat], "t") | {"values": [f[n] for f in flat]}
            for n in names
        },
    }


def verdict(a: Mapping, b: Mapping, a_name: str, b_name: str) -> str:
    """``"<a_name> higher"`` or ``"<b_name> higher"`` where the two intervals do not
    overlap, else :data:`NO_CLEAR_DIFFERENCE` (or why there is no interval)."""
    if any(m.get("low") is None for m in (a, b)):
        return f"no verdict: fewer than {MIN_VALUES} seeds give no interval"
    if a["low"] > b["high"]:
        return f"{a_name} higher"
    if b["low"] > a["high"]:
        return f"{b_name} higher"
    return NO_CLEAR_DIFFERENCE


def compare_models(
    models: Mapping[str, dict], pairs: Sequence[tuple[str, str, str]], synthetic: bool
) -> dict:
    """``seeds.json``: each model's :func:`model_summary` and, for each pair
    ``(label, a, b)`` of model names present, the verdict on every :data:`COMPARED`
    metric."""
    comparisons = []
    for label, a, b in pairs:
        if a not in models or b not in models:
            continue
        for metric in COMPARED:
            ma, mb = models[a]["metrics"].get(metric), models[b]["metrics"].get(metric)
            if ma is None or mb is None:
                continue
            comparisons.append(
                {
                    "label": label,
                    "metric": metric,
                    "a": a,
                    "b": b,
                    "verdict": verdict(ma, mb, a, b),
                }
            )
    return {
        "format": SEEDS_FORMAT,
        "synthetic": bool(synthetic),
        "level": LEVEL,
        "interval": "Student's t 95% interval of the mean over the model's seeds, cut at "
        f"the metric's range; none from fewer than {MIN_VALUES} seeds; a verdict only where "
        "two intervals do not overlap",
        "compared": list(COMPARED),
        "models": dict(models),
        "comparisons": comparisons,
    }


def _mean_and_interval(entry: Mapping) -> str:
    if entry.get("low") is None:
        return f"{entry['mean']:.3f} {interval_text(entry)}"
    return f"{entry['mean']:.3f} [{entry['low']:.3f}, {entry['high']:.3f}]"


def comparison_lines(seeds: Mapping) -> list[str]:
    """The printed summary: each model's compared metrics (mean and 95% interval over
    its seeds), then each comparison's verdict."""
    first = next(iter(seeds["models"].values()), {"seeds": []})
    lines = [
        ("SYNTHETIC data: " if seeds.get("synthetic") else "")
        + f"held-out balanced accuracy over {len(first['seeds'])} seeds "
        "(mean and 95% interval of the mean):"
    ]
    for name, model in seeds["models"].items():
        parts = [
            f"{metric.split('_')[0]} {_mean_and_interval(model['metrics'][metric])}"
            for metric in COMPARED
            if metric in model["metrics"]
        ]
        lines.append(f"  {name:<18} " + "; ".join(parts))
    for c in seeds["comparisons"]:
        lines.append(f"  {c['label']:<8} {c['metric'].split('_')[0]:<6}: {c['verdict']}")
    return lines
