"""Lithology groups: the 139 lithologies fall into 14 groups (carbonate, clay/mud,
sand, ...; ``resources/lithology_classes.csv``), and scores at that level read more
easily than 139-class balanced accuracy, where one confusion between two kinds of clay
counts as fully wrong.

A lithology the group list does not name (a table of one's own, with its own names) is
in the group :data:`UNLISTED`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from lilyvae.data.lithology import (
    UNLISTED,
    class_groups,
    lithology_class_table,
)

# The 14 groups come from the packaged list, read by the data stage (one reader for the
# evaluation, the figures and prediction alike).
groups_of = class_groups


@lru_cache(maxsize=1)
def _group_by_lithology() -> dict[str, str]:
    table = lithology_class_table()
    return dict(zip(table["Principal"], table["Group"], strict=True))


def group_of(lithology: str) -> str:
    """The group of one lithology (:data:`UNLISTED` when the list does not name it)."""
    return _group_by_lithology().get(lithology, UNLISTED)


def group_scores(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]) -> dict:
    """Accuracy, balanced accuracy (mean recall over the groups present in ``y_true``)
    and the confusion counts at the level of lithology groups, for class indices (a
    prediction of -1, a class the data do not know, is wrong and in no column)."""
    of, groups = groups_of(class_names)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    g_true = of[y_true]
    g_pred = np.where(y_pred >= 0, of[np.clip(y_pred, 0, None)], -1)
    present = np.unique(g_true)
    counts = np.zeros((len(groups), len(groups)), dtype=np.int64)
    known = g_pred >= 0
    np.add.at(counts, (g_true[known], g_pred[known]), 1)
    shown = np.flatnonzero(counts.sum(axis=0) + counts.sum(axis=1))  # groups seen either side
    return {
        "group_accuracy": float(np.mean(g_true == g_pred)) if len(g_true) else None,
        "group_balanced_accuracy": (
            float(np.mean([np.mean(g_pred[g_true == g] == g) for g in present]))
            if len(present)
            else None
        ),
        "group_confusion": {
            "groups": [groups[g] for g in shown],
            "counts": counts[np.ix_(shown, shown)].tolist(),  # rows: described, cols: predicted
        },
    }


def class_recall(
    y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[int], class_names: Sequence[str]
) -> dict[str, float | None]:
    """Recall of each of ``classes`` (indices) by name; None where it has no rows."""
    out = {}
    for c in classes:
        rows = y_true == c
        out[class_names[c]] = float(np.mean(y_pred[rows] == c)) if rows.any() else None
    return out
