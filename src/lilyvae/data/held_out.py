"""Which rows of a table the models never trained on: the one resolver of held-out rows.

A model card records the boreholes its training held out (``train --holdout-boreholes``
or ``--split``). Every stage that scores or calibrates on unseen rows (the evaluation,
the missing-colour scores, the property test, calibration for prediction) asks this
module which rows of *its* table those are, for one model or several at once (then only
the boreholes that every model held out count), and gets the same answer and the same
warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lilyvae.data.splits import BoreholeSplit, rows_in


@dataclass(frozen=True)
class HeldOutRows:
    """The rows of a table in boreholes that every model held out of its training.

    ``mask`` marks the rows; ``boreholes`` lists those boreholes (present in the table,
    in the cards' order). ``usable`` is False when there is nothing on one side (no
    held-out borehole in the table, or no other borehole to fit downstream models on);
    ``recorded`` is False when no card records a split at all. ``warnings`` say what
    a reader must know (models without a split, splits that differ, boreholes missing
    from the table)."""

    mask: np.ndarray
    boreholes: tuple[str, ...]
    recorded: bool
    usable: bool
    warnings: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        return int(self.mask.sum())


def held_out_rows(
    boreholes: np.ndarray | None, splits: Mapping[str, BoreholeSplit | dict | None]
) -> HeldOutRows:
    """The table's rows (``boreholes``: its Borehole_ID per row) in the boreholes that
    every model of ``splits`` (name -> its card's split, as recorded or parsed) held out."""
    n = 0 if boreholes is None else len(boreholes)
    parsed = {
        name: s if isinstance(s, BoreholeSplit) or s is None else BoreholeSplit.from_dict(s)
        for name, s in splits.items()
    }
    recorded = {name: s for name, s in parsed.items() if s is not None}
    if not recorded or boreholes is None:
        why = () if recorded else ("no model card records held-out boreholes",)
        if recorded and boreholes is None:
            why = (
                "the table has no 'Borehole_ID' column, so the held-out boreholes cannot be found",
            )
        return HeldOutRows(np.zeros(n, dtype=bool), (), bool(recorded), False, why)
    warnings = []
    without = [name for name, s in parsed.items() if s is None]
    if without:
        warnings.append(
            f"model(s) {', '.join(without)} record no held-out boreholes: they were trained "
            "on every borehole of the table"
        )
    held = [s.holdout for s in recorded.values()]
    common = set(held[0]).intersection(*held[1:])
    if len({frozenset(h) for h in held}) > 1:
        warnings.append(
            f"the models hold out different boreholes: only the {len(common)} that all of "
            "them held out count"
        )
    present = set(pd.unique(np.asarray(boreholes)).tolist())
    chosen = tuple(b for b in held[0] if b in common and b in present)
    missing = len(common) - len(chosen)
    mask = rows_in(boreholes, chosen)
    if not chosen:
        warnings.append(f"none of the {len(common)} held-out boreholes is in this table")
    elif mask.all():
        warnings.append("the held-out boreholes are every borehole of this table")
    elif missing:
        warnings.append(f"{missing} of the {len(common)} held-out boreholes are not in this table")
    return HeldOutRows(mask, chosen, True, bool(mask.any() and (~mask).any()), tuple(warnings))
