"""Figures of classification read at a geologist's level: the SVM's confusion between
the 14 lithology groups, and its recall of each of the most frequent lithologies."""

from __future__ import annotations

import numpy as np

from lilyvae.data.lithology import UNLISTED, lithology_groups
from lilyvae.report.figures.figure_spec import FigureInputs, FigureSpec, Needs
from lilyvae.report.figures.style import DISTINCT_COLOURS, legend_slot_grid, pyplot


def _confusions(metrics: dict, classifier: str) -> dict[str, dict]:
    """Each subject's group confusion counts (described x predicted), where scored."""
    out = {}
    for name, s in metrics["subjects"].items():
        conf = (s.get(classifier) or {}).get("group_confusion")
        if conf and conf["groups"]:
            out[name] = conf
    return out


def _all_groups(confusions: dict[str, dict]) -> list[str]:
    """The 14 lithology groups in their canonical order (every one, so a group without
    scored rows still has its labelled row and column), then :data:`UNLISTED` if any
    subject's matrix has it."""
    seen = {g for conf in confusions.values() for g in conf["groups"]}
    return [*lithology_groups(), *([UNLISTED] if UNLISTED in seen else [])]


def _full_matrix(conf: dict, groups: list[str]) -> np.ndarray:
    index = {g: i for i, g in enumerate(groups)}
    out = np.zeros((len(groups), len(groups)))
    at = [index[g] for g in conf["groups"]]
    out[np.ix_(at, at)] = np.asarray(conf["counts"], dtype=float)
    return out


def _cell_numbers(ax, share: np.ndarray, counts: np.ndarray) -> None:
    """Each non-empty cell's share in per cent (white on dark cells); 'no rows' across a
    described group without scored rows."""
    for i, j in zip(*np.nonzero(counts), strict=True):
        value = share[i, j]
        text = f"{100 * value:.0f}" if value >= 0.005 else "<1"
        colour = "white" if value > 0.6 else "#222222"
        ax.text(j, i, text, ha="center", va="center", fontsize=5, color=colour)
    for i in np.flatnonzero(counts.sum(axis=1) == 0):
        ax.text(
            (len(share) - 1) / 2, i, "no rows", ha="center", va="center", fontsize=5, color="#777"
        )


def _confusion_panel(ax, name: str, counts: np.ndarray, groups: list[str]):
    """One subject's row-normalised confusion matrix, numbered; its image."""
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.full_like(counts, np.nan), where=totals > 0)
    image = ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
    _cell_numbers(ax, share, counts)
    diag = np.nanmean(np.diag(share)) if np.isfinite(np.diag(share)).any() else np.nan
    ax.set_title(f"{name}: mean recall {diag:.2f}", fontsize=9)
    ticks = np.arange(len(groups))
    ax.set_xticks(ticks, groups, rotation=60, ha="right", fontsize=6)
    described = [f"{g} ({int(n):,})" for g, n in zip(groups, totals[:, 0], strict=True)]
    ax.set_yticks(ticks, described, fontsize=6)
    ax.set_xlabel("predicted group", fontsize=7)
    ax.set_ylabel("described group (scored rows)", fontsize=7)
    return image


def fig_group_confusion(metrics: dict, classifier: str = "svm", title: str = ""):
    """Row-normalised confusion between lithology groups, one panel per subject: each
    row is a described group, each cell the share (per cent, written in it) of its rows
    predicted as a group. Every group has its row and column, scored or not."""
    confusions = _confusions(metrics, classifier)
    groups = _all_groups(confusions)
    fig, axes, side = legend_slot_grid(len(confusions), 3, (6.0, 5.8))
    image = None
    for ax, (name, conf) in zip(axes, confusions.items(), strict=True):
        image = _confusion_panel(ax, name, _full_matrix(conf, groups), groups)
    if image is not None:
        fig.colorbar(image, ax=side, fraction=0.6, shrink=0.8, label="share of the described rows")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def fig_class_recall(metrics: dict, classifier: str = "svm", title: str = ""):
    """Recall of each of the most frequent lithologies, a bar per subject."""
    plt = pyplot()
    top = metrics["evaluation"]["top_classes"]
    subjects = {
        name: (s.get(classifier) or {}).get("top_class_recall") or {}
        for name, s in metrics["subjects"].items()
        if (s.get(classifier) or {}).get("top_class_recall")
    }
    fig, ax = plt.subplots(figsize=(max(8.0, 0.9 * len(top) + 3), 4.8))
    width = 0.8 / max(len(subjects), 1)
    x = np.arange(len(top))
    for k, (name, recall) in enumerate(subjects.items()):
        values = [np.nan if recall.get(c) is None else recall[c] for c in top]
        ax.bar(
            x + (k - (len(subjects) - 1) / 2) * width,
            values,
            width,
            label=name,
            color=DISTINCT_COLOURS[k % len(DISTINCT_COLOURS)],
        )
    ax.set_xticks(x, top, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("recall (share of its rows predicted right)", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _confusion_caption(inputs: FigureInputs) -> str:
    scored = f"{inputs.metrics['evaluation']['svm_test_rows']:,} {inputs.scored_how}"
    return (
        f"The RBF SVM's predictions on {scored} (the "
        "classification table's), read at the level of the 14 lithology groups: each row is "
        "a described group, each cell the share of its rows predicted in a group, so the "
        "diagonal is each group's recall; the numbers in the cells are those shares in per "
        "cent (<1: under half a per cent; an empty cell: none). All 14 groups have a row and "
        "a column; a group without scored rows says 'no rows'. A lithology mistaken for "
        "another of its own group (silty clay for clay) "
        "counts as right here and wrong in the 139-class scores. In brackets: the described "
        "group's scored rows."
    )


def _recall_caption(inputs: FigureInputs) -> str:
    n = len(inputs.metrics["evaluation"]["top_classes"])
    return (
        f"The share of each of the {n} most frequent lithologies' scored rows "
        f"({inputs.scored_how}) that the RBF SVM predicts as that lithology, per embedding; "
        "'features' is the baseline of the six scaled inputs. No bar: no scored rows."
    )


WHY = "no metrics with group-level scores and per-class recall (run lilyvae evaluate)"
NEEDS_GROUPS = Needs(("group_scores",), WHY)


def _svm_figure(name: str, title: str, caption, draw) -> FigureSpec:
    """A figure of the SVM's scores in the metrics."""
    return FigureSpec(
        name, title, caption, lambda inputs, t: draw(inputs.metrics, "svm", t), NEEDS_GROUPS
    )


GROUP_CONFUSION = _svm_figure(
    "group_confusion",
    "confusion between lithology groups, RBF SVM ({scored})",
    _confusion_caption,
    fig_group_confusion,
)
CLASS_RECALL = _svm_figure(
    "class_recall",
    "recall of the most frequent lithologies, RBF SVM ({scored})",
    _recall_caption,
    fig_class_recall,
)
