"""evaluate scores the lithology probabilities: ECE and log-loss raw and calibrated, the
calibrated sets' coverage and size, novelty AUROC on an injected interval, the
reliability figure; on a small SYNTHETIC run."""

from __future__ import annotations

import numpy as np
import pytest

from lilyvae.data.splits import BoreholeSplit
from lilyvae.data.tables import load_training_data
from lilyvae.evaluation import EvalConfig, evaluate, markdown_report, summary_text
from lilyvae.evaluation.probability_scores import novel_interval_rows
from lilyvae.model.embeddings import NamedModel
from lilyvae.predict.fitting import calibrate
from lilyvae.predict.metrics import expected_calibration_error, log_loss
from lilyvae.synthetic.generator import write_synthetic_table
from lilyvae.synthetic.novel import add_novel_interval

FAST = EvalConfig(
    svm_train_rows=300, svm_test_rows=200, gmm_components=3, gmm_rows=300, group_comparison=False
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from lilyvae import make_config, train

    root = tmp_path_factory.mktemp("probabilities")
    table = write_synthetic_table(root / "table.csv", rows=4000, seed=5)
    novel = add_novel_interval(table, seed=0)
    data = load_training_data(table)
    ids = sorted(set(data.boreholes))
    rng = np.random.default_rng(1)
    held = set(rng.choice(ids, 30, replace=False).tolist()) | {novel["borehole"]}
    config = make_config("semisupervised", "hybrid", epochs=2, seed=0)
    model = train(data, config, split=BoreholeSplit(tuple(sorted(held))), quiet=True)
    model.save(root / "semisup.pt")
    return table, data, novel, held, NamedModel("semisup", root / "semisup.pt", model)


def _evaluate(run):
    _, data, _, _, named = run
    return evaluate([named], data, FAST, baseline=False, missing_groups=False)


def test_raw_then_calibrated_probabilities(run):
    table, data, novel, held, named = run
    metrics = _evaluate(run)
    raw = metrics["subjects"]["semisup"]["probabilities"]
    assert raw["calibrated"] is False and "calibrated" not in raw["class"]
    assert "skipped" in raw["novelty"]  # no calibration: no novelty thresholds
    assert metrics["evaluation"]["novel_interval"]["borehole"] == novel["borehole"]

    # The raw scores are the prediction stage's, on held-out labelled bins outside the
    # injected interval.
    novel_rows, _ = novel_interval_rows(data)
    assert novel_rows.sum() == novel["bins"]
    rows = np.isin(data.boreholes, list(held)) & (data.labels >= 0) & ~novel_rows
    index = {c: i for i, c in enumerate(named.model.class_names)}
    to_model = np.array([index.get(c, -1) for c in data.class_names])
    y = to_model[data.labels[rows]]
    proba = named.model.predict_proba(data.features[rows])
    assert raw["rows"] == int(rows.sum()) == sum(r["rows"] for r in raw["reliability"]["raw"])
    assert raw["class"]["raw"]["ece"] == pytest.approx(
        expected_calibration_error(proba, y), abs=1e-4
    )
    assert raw["class"]["raw"]["log_loss"] == pytest.approx(log_loss(proba, y), rel=1e-3)

    calibrate(named.path, table, split=BoreholeSplit(tuple(sorted(held - {novel["borehole"]}))))
    metrics = _evaluate(run)
    p = metrics["subjects"]["semisup"]["probabilities"]
    assert p["calibrated"] is True and p["calibration"] == "semisup.calibration.json"
    assert p["rows"] < raw["rows"]  # the boreholes the calibration was fitted on are left out
    for level in ("class", "group"):
        after = p[level]["calibrated"]
        assert 0 <= after["ece"] <= 1 and np.isfinite(after["log_loss"])
        assert 0 < after["coverage_90"] <= 1 and after["mean_set_size_90"] >= 1
    # The injected interval is far outside the training population: its bins score as
    # more novel than the ordinary held-out bins, and are flagged far more often.
    nov = p["novelty"]
    assert nov["novel_bins"] == novel["bins"] and nov["auroc"] > 0.9
    assert nov["flagged_novel"] > nov["flagged_in_distribution"]

    md = markdown_report(metrics)
    assert "Lithology probabilities: calibration, prediction sets, novelty" in md
    assert "novelty AUROC" in md and "SYNTHETIC" in md
    text = summary_text(metrics)
    assert "lithology probabilities" in text and "->" in text and "novelty AUROC" in text

    from lilyvae.report.figures.score_figures import fig_reliability

    fig = fig_reliability(metrics, "SYNTHETIC data: reliability")
    assert len(fig.axes) >= 1 and fig.axes[0].get_legend() is not None


def test_a_model_without_head_or_calibration_is_skipped(run):
    from lilyvae import make_config, train

    _, data, _, held, _ = run
    model = train(
        data,
        make_config("unsupervised", "hybrid", epochs=1, seed=0),
        split=BoreholeSplit(tuple(sorted(held))),
        quiet=True,
    )
    metrics = evaluate(
        [NamedModel("unsup", None, model)], data, FAST, baseline=False, missing_groups=False
    )
    assert "skipped" in metrics["subjects"]["unsup"]["probabilities"]
    assert "Lithology probabilities" not in markdown_report(metrics)


def test_lithologies_the_head_never_saw_are_left_out_and_counted(run):
    """As calibrate does: bins of withheld lithologies measure the withholding, not the
    calibration, so the probability scores leave them out and say how many."""
    from lilyvae import make_config, train

    _, data, novel_info, held, _ = run
    novel_rows, _ = novel_interval_rows(data)
    test_rows = np.isin(data.boreholes, list(held)) & (data.labels >= 0) & ~novel_rows
    codes, counts = np.unique(data.labels[test_rows], return_counts=True)
    hidden = [data.class_names[c] for c in codes[np.argsort(counts)[-2:]]]  # two common ones
    model = train(
        data,
        make_config("semisupervised", "hybrid", epochs=1, seed=0),
        split=BoreholeSplit(tuple(sorted(held))),
        withhold_labels=hidden,
        quiet=True,
    )
    metrics = evaluate(
        [NamedModel("withheld", None, model)], data, FAST, baseline=False, missing_groups=False
    )
    p = metrics["subjects"]["withheld"]["probabilities"]
    unseen = test_rows & np.isin(data.labels, [data.class_names.index(h) for h in hidden])
    assert p["rows"] == int((test_rows & ~unseen).sum())
    assert any(f"{int(unseen.sum())} bins of 2 lithologies" in e for e in p["excluded"])
    assert sum(r["rows"] for r in p["reliability"]["raw"]) == p["rows"]
