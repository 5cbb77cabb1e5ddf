"""Who trains, on which rows, and with whom: member seeds, resamples and packs.

Members of one configuration train together in *packs* (stacked weights, batched
products: the engine's feature-major layout). A member's arithmetic is its own in that
layout, so how members are packed changes the time a run takes, never its numbers.
:func:`plan_pack_tasks` is the one planner of packs: every ensemble path goes through it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lilyvae.data.splits import borehole_codes
from lilyvae.errors import LilyVAEError
from lilyvae.training.config import TrainingConfig

RESAMPLES = ("rows", "boreholes", "seed-only")
#: The most members in one pack (the cap of the default pack size).
MAX_PACK = 16


def member_seeds(base_seed: int, n: int) -> list[int]:
    """Seeds of members 0..n-1, derived from one base seed.

    ``SeedSequence(base).spawn(n)``: member i's seed depends only on the base seed and
    i (not on n), so a run extended to more members keeps the first ones.
    """
    root = np.random.SeedSequence(int(base_seed) % 2**64)
    return [int(child.generate_state(1, np.uint32)[0]) for child in root.spawn(n)]


def check_resample(how: str) -> None:
    if how not in RESAMPLES:
        raise LilyVAEError(f"unknown resample {how!r}; choose one of {', '.join(RESAMPLES)}")


def resample_rows(
    n_rows: int, boreholes: np.ndarray | None, how: str, seed: int
) -> np.ndarray | None:
    """A member's training rows (indices into ``n_rows`` rows), drawn from its seed.

    - ``"rows"``: n_rows rows drawn with replacement;
    - ``"boreholes"``: whole boreholes drawn with replacement, their rows appended in
      the order drawn until there are n_rows; the last borehole drawn is cut to fit.
      Every member of a pack needs the same number of rows, and a borehole resample
      of the usual size keeps the table's size: n_rows rows, from about as many
      boreholes as the table holds;
    - ``"seed-only"``: None (every row once).
    """
    if how == "seed-only":
        return None
    rng = np.random.default_rng([int(seed), 0xB007])  # the member's own stream
    if how == "rows":
        return rng.integers(0, n_rows, size=n_rows)
    check_resample(how)
    if boreholes is None:
        raise LilyVAEError("--resample boreholes needs the table's 'Borehole_ID' column")
    return _whole_boreholes(n_rows, boreholes, rng)


def check_borehole_ids(data) -> None:
    """Refuse, before a run folder is made, a table whose boreholes cannot be resampled:
    no ``Borehole_ID`` column, or rows without an ID (an empty cell)."""
    if data.boreholes is None:
        raise LilyVAEError(f"{data.source}: --resample boreholes needs the 'Borehole_ID' column")
    ids = pd.Series(data.boreholes, dtype=object)
    missing = ids.isna() | (ids.astype(str).str.strip() == "")
    if missing.any():
        first = int(np.flatnonzero(missing.to_numpy())[0])
        raise LilyVAEError(
            f"{data.source}: {int(missing.sum()):,} usable rows have no Borehole_ID (the first "
            f"is usable row {first + 1:,}); --resample boreholes needs every row's borehole"
        )


def _whole_boreholes(n_rows: int, boreholes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ids, inverse = borehole_codes(boreholes)
    order = np.argsort(inverse, kind="stable")  # rows grouped by borehole, in table order
    counts = np.bincount(inverse, minlength=len(ids))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pieces, total = [], 0
    while total < n_rows:
        for b in rng.integers(0, len(ids), size=len(ids)):
            pieces.append(order[starts[b] : starts[b] + counts[b]])
            total += int(counts[b])
            if total >= n_rows:
                break
    return np.concatenate(pieces)[:n_rows]


@dataclass(frozen=True)
class Member:
    """One model of a run: its file stem, seed, configuration and (sweep) cell."""

    key: str
    index: int
    seed: int
    config: TrainingConfig  # in bootstrap and sweep runs its seed is the member's seed
    resample: str  # one of RESAMPLES; "given" where the caller chose the rows (train_many)
    cell: int | None = None
    params: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass
class PackTask:
    """What a worker needs to train one pack (plain data: it travels to processes)."""

    pack_id: int
    config: TrainingConfig
    seeds: list[int]
    rows: list[np.ndarray | None]
    n_classes: int | None
    keys: list[str]
    validation_rows: np.ndarray | None = None  # early stopping's (indices into X)


def default_pack_size(n_members: int, workers: int) -> int:
    """Members spread evenly over the workers, at most :data:`MAX_PACK` a pack."""
    return min(MAX_PACK, max(1, math.ceil(max(n_members, 1) / max(workers, 1))))


def plan_packs(members: Sequence[Member], pack_size: int) -> list[list[Member]]:
    """Members grouped into packs: same configuration apart from the seed, in order,
    at most ``pack_size`` each (a member's result does not depend on its pack)."""
    groups: dict[TrainingConfig, list[Member]] = {}
    for m in members:
        groups.setdefault(dataclasses.replace(m.config, seed=0), []).append(m)
    packs = []
    for group in groups.values():
        for i in range(0, len(group), pack_size):
            packs.append(group[i : i + pack_size])
    return packs


def plan_pack_tasks(
    members: Sequence[Member],
    workers: int,
    pack_size: int | None,
    rows_of: Callable[[Member], np.ndarray | None],
    n_classes: int | None,
    validation_rows: np.ndarray | None = None,
) -> list[PackTask]:
    """The packs of ``members`` as tasks for a backend: ``pack_size`` members each
    (default: :func:`default_pack_size`), each member with its rows (``rows_of``), and
    the rows early stopping validates on (every member of a run shares them)."""
    packs = plan_packs(members, pack_size or default_pack_size(len(members), workers))
    return [
        PackTask(
            pack_id,
            pack[0].config,
            [m.seed for m in pack],
            [rows_of(m) for m in pack],
            n_classes,
            [m.key for m in pack],
            validation_rows,
        )
        for pack_id, pack in enumerate(packs)
    ]
