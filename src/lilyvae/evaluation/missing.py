"""What a missing colour scan costs, on the held-out boreholes.

Each model (and the scaled inputs, as the baseline) is scored on three groups of rows
of the boreholes it never saw:

- ``complete``: rows with all six inputs;
- ``without_colour``: rows with GRA, MS and NGR but no colour (the table read with its
  partial rows: ``build-dataset --keep-partial``, ``synth --partial``);
- ``colour_hidden``: the complete rows again, their R, G and B hidden on purpose, so
  the cost of a missing scan is measured where the truth is known.

Per group: lithology classification by a linear discriminant fitted on the
representation of complete rows of the training boreholes (the same classifier for
every group, so the groups are comparable), the semi-supervised head's own scores,
R2 of the inputs in raw units (decoding the posterior mean; for hidden colour, R2 of
the colour the model fills in), and for hidden colour how far the embedding moves,
relative to the spread of the complete rows' embeddings. A ``drop`` model embeds no
row that lacks an input: its entries for the two other groups say so and count them.

Where several models of one kind and recipe were trained with each ``missing`` mode,
``mask`` is compared with ``drop`` on complete rows, paired by seed where the seeds
match, with a 95% Student's t interval of the difference over seeds; a verdict only
where the interval excludes zero (as the ensembles' intervals, none from fewer than
three seeds). :func:`coverage` counts the bins and boreholes each model embeds with and
without colour.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from lilyvae.data.held_out import held_out_rows
from lilyvae.data.schema import COLOUR_INDEX, FEATURE_SHORT
from lilyvae.data.splits import rows_in
from lilyvae.data.tables import TrainingData
from lilyvae.evaluation.scores import classification_scores
from lilyvae.model.architecture import MODEL_KINDS

GROUPS = ("complete", "without_colour", "colour_hidden")
GROUP_TEXT = {
    "complete": "rows with all six inputs",
    "without_colour": "rows with GRA, MS and NGR but no colour",
    "colour_hidden": "the complete rows with R, G and B hidden on purpose",
}
#: The inputs whose R2 is known in each group (hidden colour: the filled-in colour too).
GROUP_R2 = {"complete": FEATURE_SHORT, "without_colour": FEATURE_SHORT[:3]}
GROUP_R2["colour_hidden"] = FEATURE_SHORT
#: Metrics on which mask is compared with drop on complete rows: (name, path in a group).
COMPARED = (
    ("linear balanced accuracy", ("linear", "balanced_accuracy")),
    ("head balanced accuracy", ("head", "balanced_accuracy")),
    ("mean R2 of the six inputs", ("r2_mean",)),
)
LEVEL = 0.95


def _colour_present(full: TrainingData) -> np.ndarray:
    return full.observed[:, list(COLOUR_INDEX)].all(axis=1)


def group_rows(full: TrainingData, test: np.ndarray) -> dict[str, np.ndarray]:
    """The three groups among the rows ``test`` (a mask over ``full``'s rows)."""
    observed = full.observed
    others = observed[:, :3].all(axis=1)
    no_colour = ~observed[:, list(COLOUR_INDEX)].any(axis=1)
    complete = full.complete
    return {
        "complete": test & complete,
        "without_colour": test & others & no_colour,
        "colour_hidden": test & complete,
    }


def hide_colour(features: np.ndarray) -> np.ndarray:
    out = np.array(features, dtype=np.float64, copy=True)
    out[:, list(COLOUR_INDEX)] = np.nan
    return out


def held_out_rows_of(full: TrainingData, card_split: dict | None, eval_split) -> np.ndarray:
    """The rows of ``full`` in the model's held-out boreholes: its card's (all of them,
    rows without colour included), else those of the evaluation's fresh split."""
    if eval_split.held_out:
        return held_out_rows(full.boreholes, {"model": card_split}).mask
    return rows_in(full.boreholes, eval_split.holdout_boreholes)


def _r2(truth: np.ndarray, pred: np.ndarray, names) -> dict[str, float | None]:
    from sklearn.metrics import r2_score

    out = {}
    for j, name in enumerate(FEATURE_SHORT):
        if name in names and len(truth) >= 2:
            out[name] = float(r2_score(truth[:, j], pred[:, j]))
    return out


class _Classifier:
    """A linear discriminant on a representation, fitted on training rows (standardised
    on them); ``score`` gives :func:`classification_scores` on labelled rows."""

    def __init__(self, X: np.ndarray, y: np.ndarray, class_names):
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        self.class_names = class_names
        self.lda = None
        if len(np.unique(y)) >= 2:  # (no labels: nothing to fit, no scores)
            self.mean, sd = X.mean(axis=0), X.std(axis=0)
            self.sd = np.where(sd > 1e-12, sd, 1.0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.lda = LinearDiscriminantAnalysis().fit((X - self.mean) / self.sd, y)

    def score(self, X: np.ndarray, y: np.ndarray) -> dict | None:
        labelled = y >= 0
        if self.lda is None or not labelled.any():
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = self.lda.predict((X[labelled] - self.mean) / self.sd)
        return classification_scores(y[labelled], pred, None, None, [], self.class_names)


def _spread(mu: np.ndarray) -> float:
    """Root mean squared distance of embeddings from their mean."""
    return float(np.sqrt(((mu - mu.mean(axis=0)) ** 2).sum(axis=1).mean()))


def _group_entry(model, classifier, full, rows, group: str) -> dict:
    """One model's scores on one group of rows."""
    x = full.features[rows]
    if group == "colour_hidden":
        x = hide_colour(x)
    y = full.labels[rows]
    entry: dict = {"rows": int(rows.sum())}
    if model.missing == "drop" and group != "complete":
        return entry | {
            "embedded": 0,
            "note": "a 'drop' model reads rows with all six inputs only: no embedding",
        }
    entry["embedded"] = entry["rows"]
    if entry["rows"] == 0:
        return entry
    mu = model.embed(x)
    entry["linear"] = classifier.score(mu, y)
    if model.has_head and (y >= 0).any():
        pred = np.asarray(model.predict(x[y >= 0]), dtype=object)
        index = {n: i for i, n in enumerate(full.class_names)}
        codes = np.array([index.get(p, -1) for p in pred])
        entry["head"] = classification_scores(y[y >= 0], codes, None, None, [], full.class_names)
    r2 = _r2(full.features[rows], model.reconstruct(x), GROUP_R2[group])
    entry["r2"] = r2
    if len(r2) == len(FEATURE_SHORT):
        entry["r2_mean"] = float(np.mean(list(r2.values())))
    if group == "colour_hidden":
        complete = model.embed(full.features[rows])
        shift = np.linalg.norm(mu - complete, axis=1).mean()
        entry["embedding_shift"] = float(shift / max(_spread(complete), 1e-12))
    return entry


def score_model(model, full: TrainingData, test: np.ndarray) -> dict:
    """A model's entry: its three groups among the held-out rows ``test``."""
    fit = ~test & full.complete & (full.labels >= 0)
    X = model.embed(full.features[fit]) if fit.any() else np.zeros((0, 1))
    classifier = _Classifier(X, full.labels[fit], full.class_names)
    groups = group_rows(full, test)
    return {g: _group_entry(model, classifier, full, groups[g], g) for g in GROUPS}


def score_baseline(full: TrainingData, test: np.ndarray) -> dict:
    """The scaled inputs: all six on complete rows, GRA, MS and NGR where colour is
    missing or hidden; hidden colour filled in by a linear regression on GRA, MS, NGR;
    everything fitted on complete rows of the training boreholes."""
    from sklearn.linear_model import LinearRegression

    from lilyvae.data.scaling import DistributionAwareScaler

    train = ~test & full.complete
    scaler = DistributionAwareScaler().fit(full.features[train])
    scaled = scaler.transform(full.features, allow_missing=True)
    fit = train & (full.labels >= 0)
    six = _Classifier(scaled[fit], full.labels[fit], full.class_names)
    three = _Classifier(scaled[fit, :3], full.labels[fit], full.class_names)
    imputer = LinearRegression().fit(scaled[train, :3], scaled[train][:, list(COLOUR_INDEX)])
    out = {}
    for group, rows in group_rows(full, test).items():
        y = full.labels[rows]
        entry = {"rows": int(rows.sum()), "embedded": int(rows.sum())}
        if entry["rows"] and group == "complete":
            entry["linear"] = six.score(scaled[rows], y)
        elif entry["rows"]:
            entry["linear"] = three.score(scaled[rows, :3], y)
        if entry["rows"] and group == "colour_hidden":
            filled = scaled[rows].copy()
            filled[:, list(COLOUR_INDEX)] = imputer.predict(scaled[rows, :3])
            recon = scaler.inverse_transform(filled)
            entry["r2"] = _r2(full.features[rows], recon, FEATURE_SHORT[3:])
        out[group] = entry
    return out


def coverage(full: TrainingData, models) -> dict:
    """Bins (rows) and boreholes of the table with and without colour, and what each
    model embeds of them (``models``: NamedModel objects)."""
    colour = _colour_present(full)
    bh = full.boreholes
    out = {
        "rows": full.n_rows,
        "rows_with_colour": int(colour.sum()),
        "rows_without_colour": int((~colour).sum()),
        "rows_lacking_other_inputs": int((~full.observed[:, :3].all(axis=1)).sum()),
        "models": {},
    }
    if bh is not None:
        with_colour = set(bh[colour])
        out["boreholes"] = int(len(set(bh)))
        out["boreholes_with_colour"] = len(with_colour)
        out["boreholes_without_any_colour"] = int(len(set(bh) - with_colour))
    for m in models:
        embeds = full.observed.any(axis=1) if m.model.missing == "mask" else full.complete
        entry = {
            "missing": m.model.missing,
            "rows_embedded_with_colour": int((embeds & colour).sum()),
            "rows_embedded_without_colour": int((embeds & ~colour).sum()),
            "rows_not_embedded": int((~embeds).sum()),
        }
        if bh is not None:
            entry["boreholes_embedded"] = int(len(set(bh[embeds])))
            entry["boreholes_embedded_without_colour_only"] = int(
                len(set(bh[embeds]) - set(bh[embeds & colour]))
            )
        out["models"][m.name] = entry
    return out


def _value(entry: dict, path: tuple[str, ...]):
    for key in path:
        entry = entry.get(key) if isinstance(entry, dict) else None
    return entry if isinstance(entry, (int, float)) and math.isfinite(entry) else None


def _paired_interval(diffs: np.ndarray) -> tuple[float, float] | None:
    """Student's t interval of the mean difference (the ensembles' rule: none from
    fewer than MIN_VALUES values)."""
    from lilyvae.evaluation.intervals import interval

    entry = interval(diffs, "t", LEVEL)
    return None if entry["low"] is None else (entry["low"], entry["high"])


def _welch_interval(a: np.ndarray, b: np.ndarray) -> tuple[float, float] | None:
    """Welch's interval of mean(a) - mean(b) (none from fewer than MIN_VALUES each)."""
    from scipy.stats import t

    from lilyvae.evaluation.intervals import MIN_VALUES

    if len(a) < MIN_VALUES or len(b) < MIN_VALUES:
        return None
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff = float(a.mean() - b.mean())
    if va + vb == 0:
        return diff, diff
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(t.ppf(0.5 + LEVEL / 2, dof)) * math.sqrt(va + vb)
    return diff - half, diff + half


def _verdict(bounds, n_drop: int, n_mask: int) -> str:
    if bounds is None:
        return f"no interval, no verdict ({n_drop} 'drop' and {n_mask} 'mask' models: 3 seeds each)"
    low, high = bounds
    if low > 0:
        return "mask higher"
    if high < 0:
        return "mask lower"
    return "no difference shown (the interval holds 0)"


def compare_modes(subjects: dict[str, dict]) -> list[dict]:
    """``mask`` against ``drop`` on complete rows, per kind and recipe with both modes:
    each metric's difference (mask - drop) with a 95% interval over seeds."""
    cells: dict[tuple, dict[str, list]] = {}
    for s in subjects.values():
        if s.get("kind") in MODEL_KINDS:
            key = (s["kind"], s.get("recipe"))
            cells.setdefault(key, {"drop": [], "mask": []})[s["missing"]].append(s)
    out = []
    for (kind, recipe), sides in cells.items():
        if not sides["drop"] or not sides["mask"]:
            continue
        for metric, path in COMPARED:
            out.append(_compare(kind, recipe, metric, path, sides))
    return [c for c in out if c is not None]


def _compare(kind, recipe, metric, path, sides) -> dict | None:
    values = {
        mode: {s["seed"]: _value(s["groups"]["complete"], path) for s in sides[mode]}
        for mode in ("drop", "mask")
    }
    drop = {k: v for k, v in values["drop"].items() if v is not None}
    mask = {k: v for k, v in values["mask"].items() if v is not None}
    if not drop or not mask:
        return None
    paired = sorted(set(drop) & set(mask))
    if len(paired) >= 2 and len(paired) == len(drop) == len(mask):
        diffs = np.array([mask[k] - drop[k] for k in paired])
        bounds, how = _paired_interval(diffs), f"paired by seed ({len(paired)} seeds)"
    else:
        a, b = np.array(list(mask.values())), np.array(list(drop.values()))
        bounds, how = _welch_interval(a, b), "unpaired (Welch)"
    return {
        "kind": kind,
        "recipe": recipe,
        "metric": metric,
        "group": "complete",
        "drop_mean": float(np.mean(list(drop.values()))),
        "drop_models": len(drop),
        "mask_mean": float(np.mean(list(mask.values()))),
        "mask_models": len(mask),
        "difference": float(np.mean(list(mask.values())) - np.mean(list(drop.values()))),
        "low": None if bounds is None else bounds[0],
        "high": None if bounds is None else bounds[1],
        "interval": how,
        "verdict": _verdict(bounds, len(drop), len(mask)),
    }


def missing_colour(models, full: TrainingData, eval_splits: dict, baseline: bool) -> dict:
    """The ``missing_colour`` section of ``metrics.json``: coverage, the three groups of
    every model (and the baseline) on its held-out rows, and the comparisons.

    ``eval_splits``: each model's evaluation split (by name), whose held-out boreholes
    (or the card's) choose the rows."""
    out: dict = {"groups": dict(GROUP_TEXT), "coverage": coverage(full, models)}
    if full.boreholes is None:
        return out | {"skipped": "the table has no Borehole_ID column: no held-out boreholes"}
    subjects = {}
    first_test = None
    for m in models:
        test = held_out_rows_of(full, m.model.card.split, eval_splits[m.name])
        first_test = test if first_test is None else first_test
        subjects[m.name] = {
            "kind": m.kind,
            "recipe": m.recipe,
            "missing": m.model.missing,
            "seed": m.model.card.seed,
            "groups": score_model(m.model, full, test),
        }
    if baseline and first_test is not None:
        base = {"kind": "baseline", "recipe": None, "missing": None, "seed": None}
        subjects = {"features": base | {"groups": score_baseline(full, first_test)}} | subjects
    out["held_out_rows"] = {g: int(r.sum()) for g, r in group_rows(full, first_test).items()}
    out["subjects"] = subjects
    out["comparisons"] = compare_modes(subjects)
    return out
