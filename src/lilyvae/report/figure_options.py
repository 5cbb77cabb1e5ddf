"""The figures' settings, declared once with :func:`~lilyvae.hyperparams.hyper`: the
flags of ``lilyvae figures`` and ``lilyvae demo``, their help and defaults, and the
checks come from here. A module of its own, outside ``figures/``, so that the command
line reads it without importing matplotlib or PyTorch."""

from __future__ import annotations

from dataclasses import dataclass

from lilyvae.errors import LilyVAEError
from lilyvae.hyperparams import INTEGER, POSITIVE_INT, field_problems, hyper

#: The settings the commands have flags for.
FIGURE_FLAGS = ("umap_rows", "seed")


@dataclass(frozen=True)
class DrawOptions:
    """Sizes and seed of the drawing (recorded in ``figures.json``)."""

    umap_rows: int = hyper(3000, "rows the UMAP layout is fitted on (half held out)", POSITIVE_INT)
    scatter_rows: int = hyper(3000, "rows drawn in the scatter figures", POSITIVE_INT)
    prior_rows: int = hyper(20000, "prior draws decoded for the prior-samples figure", POSITIVE_INT)
    seed: int = hyper(0, "subsample and UMAP seed", INTEGER)
    boreholes: tuple[str, ...] | None = None  # down-core logs of these; None: the default
    downcore_count: int = 3  # by default, the boreholes with the most held-out rows

    def __post_init__(self) -> None:
        problems = field_problems(self)
        if problems:
            name, _, why = problems[0].partition(" ")
            raise LilyVAEError(f"--{name.replace('_', '-')} {why}")


#: The defaults, for the signatures of the functions that take the settings one by one.
DEFAULT_DRAW = DrawOptions()
