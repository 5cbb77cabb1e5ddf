"""What the trees see (each model's embedding, the six inputs) and which bins score.

Predictors: every model's embedding of the training table's rows (the posterior means,
from its checkpoint and card: no training data needed), and the baseline ``features``,
the six input measurements scaled as the models scale them (trees do not care about
monotone transforms; the scaling only keeps the baseline comparable).

The split, for ``--protocol boreholes``: the scored bins are those of boreholes every
model held out of its training (the ``split`` of its card), so neither the embedding nor
the trees saw them. When no card records held-out boreholes present in the table, a
seeded 20% of the boreholes is scored instead, and every output says so: the trees never
saw those boreholes, but the embeddings did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lilyvae.data.held_out import held_out_rows
from lilyvae.data.scaling import DistributionAwareScaler
from lilyvae.data.splits import rows_in, split_boreholes
from lilyvae.data.tables import TrainingData
from lilyvae.errors import LilyVAEError
from lilyvae.model.embeddings import NamedModel, input_columns

#: The baseline predictor: the six scaled input measurements.
FEATURES = "features"
#: Share of the boreholes scored when no model card records a split.
FALLBACK_FRACTION = 0.2


@dataclass
class PropertySplit:
    """Boreholes whose bins are scored (``--protocol boreholes``) and where they came from."""

    test_boreholes: tuple[str, ...]
    source: str  # "cards" or "seeded"
    description: str
    warnings: list[str] = field(default_factory=list)
    seed: int | None = None

    def test_mask(self, boreholes: np.ndarray) -> np.ndarray:
        return rows_in(boreholes, self.test_boreholes)

    def to_dict(self, boreholes: np.ndarray) -> dict:
        test = self.test_mask(boreholes)
        return {
            "source": self.source,
            "description": self.description,
            "seed": self.seed,
            "test_boreholes": list(self.test_boreholes),
            "n_test_boreholes": len(self.test_boreholes),
            "n_train_boreholes": int(np.unique(boreholes[~test]).size),
            "table_rows_test": int(test.sum()),
            "table_rows_train": int((~test).sum()),
            "warnings": list(self.warnings),
        }


def resolve_split(models: list[NamedModel], data: TrainingData, seed: int) -> PropertySplit:
    """The cards' held-out boreholes, else a seeded split of the table's boreholes (loud)."""
    found = held_out_rows(data.boreholes, {m.name: m.model.card.split for m in models})
    warnings = list(found.warnings) if found.recorded else []
    if found.usable:
        return PropertySplit(
            tuple(sorted(found.boreholes)),
            "cards",
            f"held-out boreholes of the model cards: {len(found.boreholes)} boreholes the "
            "models never saw are scored; the trees are fitted on the others",
            warnings,
        )
    fresh = split_boreholes(data, FALLBACK_FRACTION, seed)
    warnings.insert(
        0,
        "NO HELD-OUT BOREHOLES IN THE MODEL CARDS: a seeded split scores "
        f"{len(fresh.holdout)} boreholes ({FALLBACK_FRACTION:.0%}, seed {seed}) that the trees "
        "never saw, but the models were trained on them",
    )
    return PropertySplit(
        fresh.holdout,
        "seeded",
        f"a seeded split of the boreholes ({FALLBACK_FRACTION:.0%}, seed {seed}): "
        "IN-SAMPLE for the embeddings",
        warnings,
        seed,
    )


def check_model_names(models: list[NamedModel]) -> None:
    for m in models:
        input_columns(m)  # the card's inputs must be the six this version reads
        if m.name == FEATURES:
            raise LilyVAEError(
                f"model name {FEATURES!r} is the baseline's; name the model with --model NAME=PATH"
            )


def predictor_matrices(
    models: list[NamedModel], features: np.ndarray, fit_rows: np.ndarray
) -> dict[str, np.ndarray]:
    """``{name: (n, k) float32}``: each model's embedding, then the scaled ``features``
    (scaler fitted on ``fit_rows``, the rows the trees may be fitted on)."""
    out = {m.name: np.asarray(m.model.embed(features), dtype=np.float32) for m in models}
    scaler = DistributionAwareScaler().fit(features[fit_rows])
    out[FEATURES] = scaler.transform(features).astype(np.float32)
    return out
