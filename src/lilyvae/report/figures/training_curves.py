"""Training curves a reader can read: a row per model, a panel per loss term with
labelled axes, and a panel of the schedules (the KL weight beta and the learning rate,
each on its own axis). The end of the KL warm-up and each halving of the learning rate
are marked on every panel of the model's row, and explained in the caption."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lilyvae.model.embeddings import NamedModel
from lilyvae.report.figures.figure_spec import FigureInputs, FigureSpec
from lilyvae.report.figures.model_figures import NEEDS_MODELS
from lilyvae.report.figures.style import HELD_OUT_COLOUR, TRAIN_COLOUR, panel_note, pyplot

#: The loss terms, in panel order, and what each is.
TERMS = {
    "loss": "total loss",
    "recon": "reconstruction",
    "kl": "KL divergence",
    "masked": "masked-input reconstruction",
    "class": "classification (cross-entropy)",
    "val_balanced_accuracy": "validation balanced accuracy",
}
#: History columns drawn inside another term's panel, not in one of their own.
OVERLAID = {"val_loss": "loss"}
BEST_STYLE = {"color": "#1e8449", "ls": "-.", "lw": 1.0}
#: The validation loss's colour: apart from the schedules' (beta, learning rate).
VALIDATION_COLOUR = "#8e44ad"
WARMUP_STYLE = {"color": "#555555", "ls": ":", "lw": 1.0}
HALVING_STYLE = {"color": "#c0392b", "ls": "--", "lw": 0.8}
WARMUP_SHADE = "#ececec"  # the epochs during which beta rises


def schedule_marks(history: dict) -> tuple[int | None, list[int]]:
    """(the epoch the KL warm-up ends, or None if beta does not ramp up within the
    epochs trained; the epochs whose learning rate is lower than the one before)."""
    beta = np.asarray(history.get("beta") or [], dtype=float)
    lr = np.asarray(history.get("lr") or [], dtype=float)
    warmup_end = None
    if beta.size > 1 and np.ptp(beta) > 0:
        first = int(np.flatnonzero(np.isclose(beta, beta.max()))[0])
        if first < beta.size - 1:  # beta stays at its final value after this epoch
            warmup_end = first + 1
    halvings = [int(i) + 1 for i in np.flatnonzero(np.diff(lr) < 0) + 1] if lr.size > 1 else []
    return warmup_end, halvings


def _mark(ax, warmup_end: int | None, halvings: list[int]) -> None:
    if warmup_end is not None:
        ax.axvline(warmup_end, **WARMUP_STYLE)
    for epoch in halvings:
        ax.axvline(epoch, **HALVING_STYLE)


def warming_up(history: dict) -> tuple[int, int] | None:
    """(first, last) epoch during which beta is still rising, or None when it is
    constant: across them the total loss weighs its KL term more each epoch."""
    beta = np.asarray(history.get("beta") or [], dtype=float)
    if beta.size < 2 or not np.ptp(beta) > 0:
        return None
    rising = np.flatnonzero(np.diff(beta) > 0)
    return int(rising[0]) + 1, int(rising[-1]) + 2


def _schedule_panel(ax, history: dict) -> None:
    """beta on the left axis, the learning rate on its own (right, log) axis."""
    beta = np.asarray(history.get("beta") or [], dtype=float)
    lr = np.asarray(history.get("lr") or [], dtype=float)
    if beta.size:
        ax.plot(np.arange(1, beta.size + 1), beta, color=TRAIN_COLOUR, lw=1.3)
    ax.set_ylabel("beta (KL weight)", fontsize=7, color=TRAIN_COLOUR)
    if lr.size:
        twin = ax.twinx()
        twin.plot(np.arange(1, lr.size + 1), lr, color=HELD_OUT_COLOUR, lw=1.3)
        twin.set_yscale("log")
        twin.set_ylabel("learning rate", fontsize=7, color=HELD_OUT_COLOUR)
        twin.tick_params(which="both", labelsize=6)
    ax.set_title("schedules", fontsize=8)


def fig_training_curves(models: Sequence[NamedModel], title: str = ""):
    """Per-epoch loss terms from each model's history (see the module's docstring)."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    terms = [t for t in TERMS if any(t in (m.model.history or {}) for m in models)]
    cols = len(terms) + 1
    fig, axes = plt.subplots(
        len(models), cols, figsize=(2.9 * cols, 2.3 * len(models) + 1.0), squeeze=False
    )
    for i, m in enumerate(models):
        history = m.model.history or {}
        marks = schedule_marks(history)
        _schedule_panel(axes[i, 0], history)
        _mark(axes[i, 0], *marks)
        axes[i, 0].set_ylabel(f"{m.name}\n\nbeta (KL weight)", fontsize=7, color=TRAIN_COLOUR)
        for j, term in enumerate(terms, start=1):
            ax = axes[i, j]
            values = np.asarray(history.get(term) or [], dtype=float)
            if not values.size:
                ax.axis("off")
                note = f"no {term} term\n({m.recipe} {m.kind})"
                if term == "val_balanced_accuracy":
                    note = "no validation accuracy\n(no head, or no early stopping)"
                panel_note(ax, note, 0.5, 0.5, fontsize=7, color="#888888")
                continue
            ax.plot(
                np.arange(1, values.size + 1), values, color="#333333", lw=1.2, marker=".", ms=3
            )
            shown = np.concatenate([values, _overlay(ax, history, term)])
            if np.all(shown > 0) and shown.max() / shown.min() > 20:
                ax.set_yscale("log")
            _mark(ax, *marks)
            ramp = warming_up(history)
            if ramp is not None:
                ax.axvspan(*ramp, color=WARMUP_SHADE, lw=0, zorder=0)
            panel_title = TERMS[term]
            if term == "loss" and ramp is not None:
                panel_title += " (beta-weighted: its mix changes)"
            ax.set_title(panel_title, fontsize=8)
            ax.set_ylabel(f"{term} ({_unit(m, term)})", fontsize=7)
        for ax in axes[i]:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(labelsize=6)
            if i == len(models) - 1:
                ax.set_xlabel("epoch", fontsize=7)
    if not models:
        return fig
    two_rows = _has_validation(models)  # the validation entries take a second row
    handles = _legend(plt, models)
    ncol = 4 if two_rows else 5
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.07 if two_rows else 0.04, 1, 1))
    return fig


def _overlay(ax, history: dict, term: str) -> np.ndarray:
    """Draw on ``term``'s panel the validation curve that belongs there (early stopping:
    the validation loss beside the training loss, the epoch kept marked); returns its
    values (empty when the history has none)."""
    found = [k for k, into in OVERLAID.items() if into == term and history.get(k)]
    drawn = []
    for key in found:
        values = np.asarray(history[key], dtype=float)
        epochs = np.arange(1, values.size + 1)
        ax.plot(epochs, values, color=VALIDATION_COLOUR, lw=1.2, marker=".", ms=3)
        finite = np.isfinite(values)
        if finite.any():
            ax.axvline(int(epochs[finite][np.argmin(values[finite])]), **BEST_STYLE)
        drawn.append(values[finite])
    return np.concatenate(drawn) if drawn else np.array([])


def _has_validation(models: Sequence[NamedModel]) -> bool:
    return any((m.model.history or {}).get("val_loss") for m in models)


def _legend(plt, models: Sequence[NamedModel]) -> list:
    handles = [
        plt.Line2D([], [], color=TRAIN_COLOUR, lw=1.3, label="beta (left axis)"),
        plt.Line2D([], [], color=HELD_OUT_COLOUR, lw=1.3, label="learning rate (right axis)"),
        plt.Line2D([], [], **WARMUP_STYLE, label="end of the KL warm-up"),
        plt.Line2D([], [], **HALVING_STYLE, label="learning rate halved"),
        plt.Rectangle((0, 0), 1, 1, color=WARMUP_SHADE, label="beta rising (KL warm-up)"),
    ]
    if _has_validation(models):
        handles += [
            plt.Line2D([], [], color="#333333", lw=1.2, label="training loss"),
            plt.Line2D(
                [], [], color=VALIDATION_COLOUR, lw=1.2, label="validation loss (early stopping)"
            ),
            plt.Line2D([], [], **BEST_STYLE, label="epoch kept (lowest validation loss)"),
        ]
    return handles


def _unit(m: NamedModel, term: str) -> str:
    """A term's unit: the standard recipe sums over the six inputs and the latent
    dimensions per row, the hybrid one averages."""
    recipe = m.model.card.training.get("recipe") or {}
    if term == "val_balanced_accuracy":
        return "fraction of 1"
    reduction = recipe.get("class_reduction" if term == "class" else "reduction", "sum")
    return "per row, summed" if reduction == "sum" else "mean per value"


def _describe(m: NamedModel) -> str:
    """What the schedules of one model were, for the caption."""
    recipe = m.model.card.training.get("recipe") or {}
    history = m.model.history or {}
    warmup_end, halvings = schedule_marks(history)
    epochs = len(history.get("loss") or [])
    parts = []
    if recipe.get("anneal_epochs"):
        parts.append(
            f"beta ramps linearly from {recipe['beta_start']:g} to {recipe['beta']:g} over "
            f"{recipe['anneal_epochs']} epochs"
            + (f" (ends at epoch {warmup_end})" if warmup_end else f", past the {epochs} trained")
        )
    else:
        parts.append(f"beta {recipe.get('beta', 1):g} throughout")
    if recipe.get("plateau_patience"):
        when = ", ".join(map(str, halvings)) if halvings else "never, within these epochs"
        parts.append(
            f"the learning rate is multiplied by {recipe['plateau_factor']:g} after "
            f"{recipe['plateau_patience']} epochs without a lower loss: at epoch {when}"
        )
    else:
        parts.append("a constant learning rate")
    return f"{m.name}: " + "; ".join(parts)


def _validation_text(models: Sequence[NamedModel]) -> str:
    """The caption's account of early stopping, when a model trained with it."""
    if not _has_validation(models):
        return ""
    return (
        " Models trained with early stopping also show their validation loss (on "
        "boreholes drawn from the training data and never trained on; the recipe's "
        "objective at its final KL weight on the posterior means, so it lies apart from "
        "the training loss during the warm-up) and, with a head, the validation balanced "
        "accuracy; the purple line is the validation loss, the dash-dotted green line "
        "marks the epoch of the lowest validation loss, whose weights the model kept."
    )


def _caption(inputs: FigureInputs) -> str:
    return (
        "Per-epoch averages of each loss term from the models' saved histories, one row per "
        "model; terms with a wide range on a log axis. Units differ between recipes "
        "(standard: sums per row; hybrid: means), so compare shapes, not levels, across "
        "rows. The left panel shows the schedules; dotted lines mark the end of the KL "
        "warm-up (beta, the KL term's weight, rises from near zero so the decoder learns "
        "before the posterior is pulled to the prior), dashed red lines each halving of "
        "the learning rate on a plateau. Each term has its own panel and its own axis. "
        "While beta rises (shaded), the total loss weighs the KL term more each epoch, so "
        "it, and the reconstruction that the KL term pulls against, can rise while the KL "
        "falls: the warm-up trading reconstruction for a posterior nearer the prior, not a "
        "divergence. "
        + ". ".join(_describe(m) for m in inputs.models)
        + "."
        + _validation_text(inputs.models)
    )


TRAINING_CURVES = FigureSpec(
    name="training_curves",
    title="training curves",
    caption=_caption,
    needs=NEEDS_MODELS,
    draw=lambda inputs, title: fig_training_curves(inputs.models, title),
)
