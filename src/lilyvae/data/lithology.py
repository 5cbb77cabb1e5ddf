"""The lithology groups: the 139 LILY lithologies fall into 14 groups (carbonate, clay/mud,
sand, ...), listed in the packaged ``resources/lithology_classes.csv``.

Read here, in the data stage, so that every later stage (prediction, evaluation) takes the
groups from one place. A lithology the list does not name is in :data:`UNLISTED`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

#: The group of lithologies the shipped list does not name.
UNLISTED = "unlisted"


@lru_cache(maxsize=1)
def lithology_class_table() -> pd.DataFrame:
    """The packaged list: ``Principal``, ``Group``, ``Count`` (real row counts)."""
    source = resources.files("lilyvae").joinpath("resources", "lithology_classes.csv")
    with source.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"Principal": str, "Group": str})


def lithology_groups() -> tuple[str, ...]:
    """The 14 groups, most frequent in the real table first."""
    table = lithology_class_table()
    order = table.groupby("Group")["Count"].sum().sort_values(ascending=False, kind="stable")
    return tuple(order.index)


def class_groups(class_names: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """(the group index of each class, the group names): the 14 groups, then
    :data:`UNLISTED` when a class is not in the list."""
    table = lithology_class_table()
    of = dict(zip(table["Principal"], table["Group"], strict=True))
    names = [of.get(c, UNLISTED) for c in class_names]
    groups = lithology_groups() + ((UNLISTED,) if UNLISTED in names else ())
    index = {g: i for i, g in enumerate(groups)}
    return np.array([index[g] for g in names], dtype=np.int64), groups
