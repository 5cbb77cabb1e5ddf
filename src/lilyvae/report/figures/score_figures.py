"""Figures of the evaluation's scores: ROC curves, the zero-shot test and the
reliability of the lithology probabilities."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lilyvae.errors import LilyVAEError
from lilyvae.predict.metrics import ECE_BINS
from lilyvae.report.figures.figure_spec import FigureInputs, FigureSpec, Needs
from lilyvae.report.figures.style import HELD_OUT_COLOUR, TRAIN_COLOUR, panel_grid, pyplot


def fig_roc(roc: dict, subjects: Sequence[str], classifier: str = "svm", title: str = ""):
    """One-vs-rest ROC curves of the most frequent lithologies, one panel per subject."""
    plt = pyplot()
    fpr = np.asarray(roc["fpr"])
    fig, axes = panel_grid(len(subjects), 3, (5, 4.4))
    cmap = plt.get_cmap("tab10")
    for k, name in enumerate(subjects):
        ax = axes.flat[k]
        curves = roc["subjects"].get(name, {}).get(classifier, {})
        aucs = []
        for c, (cls, cur) in enumerate(curves.items()):
            ax.plot(fpr, cur["tpr"], lw=1.1, color=cmap(c % 10), label=f"{cls} ({cur['auc']:.2f})")
            aucs.append(cur["auc"])
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        mean = f"mean AUC {np.mean(aucs):.3f}" if aucs else "no curves"
        ax.set_title(f"{name}: {mean}", fontsize=9)
        ax.set_xlabel("false positive rate", fontsize=8)
        ax.set_ylabel("true positive rate", fontsize=8)
        ax.legend(fontsize=6, loc="lower right")
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def fig_zero_shot(metrics: dict, title: str = ""):
    """Nearest-centroid accuracy (vs chance) and compactness on the zero-shot lithologies."""
    plt = pyplot()
    rows = [
        (name, s["zero_shot"])
        for name, s in metrics["subjects"].items()
        if s.get("zero_shot") and "skipped" not in s["zero_shot"]
    ]
    if not rows:
        raise LilyVAEError("the metrics hold no zero-shot scores")
    names = [r[0] for r in rows]
    z = [r[1] for r in rows]
    saw = [bool(v.get("encoder_saw_labels")) for v in z]
    x = np.arange(len(rows))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    panels = [
        ("nearest-centroid balanced accuracy", "nearest_centroid_balanced_accuracy", True),
        ("compactness (own / nearest other centroid; lower is better)", "compactness", False),
        ("silhouette (higher is better)", "silhouette", False),
    ]
    for ax, (label, key, chance) in zip(axes, panels, strict=True):
        vals = [np.nan if v.get(key) is None else v[key] for v in z]
        bars = ax.bar(
            x,
            vals,
            color=[HELD_OUT_COLOUR if s else TRAIN_COLOUR for s in saw],
            hatch=None,
        )
        for b, s in zip(bars, saw, strict=True):
            if s:
                b.set_hatch("//")
        for xi, v in zip(x, vals, strict=True):
            if np.isfinite(v):
                ax.text(xi, v, f"{v:.3f}", ha="center", va="bottom", fontsize=7)
        if chance:
            ax.axhline(z[0]["chance"], color="k", ls="--", lw=0.8)
            ax.text(len(x) - 0.5, z[0]["chance"], " chance", va="bottom", ha="right", fontsize=7)
        ax.set_xticks(x, names, rotation=25, ha="right", fontsize=7)
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=7)
    classes = metrics["evaluation"]["zero_shot_classes"]
    fig.suptitle(
        f"{title}\nclasses: {', '.join(classes)}   (hatched: the encoder saw these labels)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def _roc_caption(inputs: FigureInputs) -> str:
    ev = inputs.metrics["evaluation"]
    return (
        "ROC curves of an RBF SVM fitted on training-borehole rows and scored on "
        f"{ev['svm_test_rows']:,} {inputs.scored_how}, for the {len(ev['top_classes'])} most "
        "frequent lithologies (AUC in the legend); 'features' is the baseline of the six "
        "scaled inputs."
    )


def _zero_shot_caption(inputs: FigureInputs) -> str:
    ev = inputs.metrics["evaluation"]
    return (
        f"Lithologies {', '.join(ev['zero_shot_classes'])} ({ev['zero_shot_source']}). "
        "Centroids from training-borehole rows; held-out rows assigned to the nearest "
        "centroid among these classes only, no classifier fitted. Hatched bars: the "
        "encoder saw these labels in training, so for it the test is not zero-shot."
    )


ROC = FigureSpec(
    name="roc",
    title="one-vs-rest ROC, RBF SVM on embeddings ({scored})",
    caption=_roc_caption,
    needs=Needs(("roc_curves",), "no metrics with ROC curves (run lilyvae evaluate first)"),
    draw=lambda inputs, title: fig_roc(
        inputs.roc_curves, list(inputs.metrics["subjects"]), "svm", title
    ),
)
ZERO_SHOT = FigureSpec(
    name="zero_shot",
    title="zero-shot lithologies ({scored})",
    caption=_zero_shot_caption,
    needs=Needs(("zero_shot",), "no zero-shot scores in the metrics"),
    draw=lambda inputs, title: fig_zero_shot(inputs.metrics, title),
)


def _reliability_subjects(metrics: dict) -> list[tuple[str, dict]]:
    return [
        (name, s["probabilities"])
        for name, s in ((metrics or {}).get("subjects") or {}).items()
        if (s.get("probabilities") or {}).get("reliability")
    ]


def _reliability_curve(ax, table: list[dict], colour: str, label: str) -> None:
    points = [r for r in table if r["rows"]]
    if not points:
        return
    conf = [r["confidence"] for r in points]
    acc = [r["accuracy"] for r in points]
    total = sum(r["rows"] for r in points)
    sizes = [12 + 200 * r["rows"] / total for r in points]
    ax.plot(conf, acc, color=colour, lw=1.0)
    ax.scatter(conf, acc, s=sizes, color=colour, alpha=0.75, label=label, zorder=3)


def fig_reliability(metrics: dict, title: str = ""):
    """Reliability diagram per model: accuracy against mean top probability in 15 bins,
    raw and calibrated (point area: the bin's share of rows)."""
    subjects = _reliability_subjects(metrics)
    if not subjects:
        raise LilyVAEError("the metrics hold no probability scores")
    fig, axes = panel_grid(len(subjects), 3, (4.4, 4.2))
    for k, (name, p) in enumerate(subjects):
        ax = axes.flat[k]
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        ece = p["class"]["raw"]["ece"]
        _reliability_curve(ax, p["reliability"]["raw"], HELD_OUT_COLOUR, f"raw (ECE {ece:.3f})")
        if "calibrated" in p["reliability"]:
            after = p["class"]["calibrated"]["ece"]
            _reliability_curve(
                ax, p["reliability"]["calibrated"], TRAIN_COLOUR, f"calibrated (ECE {after:.3f})"
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(f"{name} ({p['rows']:,} rows)", fontsize=9)
        ax.set_xlabel("mean top probability", fontsize=8)
        ax.set_ylabel("accuracy", fontsize=8)
        ax.legend(fontsize=7, loc="upper left")
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _reliability_caption(inputs: FigureInputs) -> str:
    calibrated = any(p.get("calibrated") for _, p in _reliability_subjects(inputs.metrics))
    how = (
        "raw (orange) and after the calibration beside the model (blue)"
        if calibrated
        else "raw (no model has a calibration yet: run lilyvae calibrate)"
    )
    return (
        "Reliability of the lithology probabilities on labelled rows of held-out boreholes "
        "(with a calibration, not those of the boreholes it was fitted on; never the bins "
        "of lithologies whose labels the head never saw, nor those of an injected novel "
        "interval: metrics.json counts them): accuracy of the "
        f"most likely lithology against its mean probability in {ECE_BINS} equal-width bins, "
        f"{how}. A calibrated model's points lie on the diagonal; point area is the bin's "
        "share of rows."
    )


RELIABILITY = FigureSpec(
    name="reliability",
    title="reliability of the lithology probabilities ({scored})",
    caption=_reliability_caption,
    needs=Needs(("probabilities",), "no probability scores in the metrics (no head)"),
    draw=lambda inputs, title: fig_reliability(inputs.metrics, title),
)
