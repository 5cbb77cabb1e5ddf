"""The strongest baseline and the field's scores inside ``evaluate``: in metrics.json,
metrics.md and the printed summary, with depth context, and off on request."""

import pytest

from lilyvae.cli import main
from lilyvae.data.splits import split_boreholes
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation import EvalConfig, evaluate, markdown_report, summary_text
from lilyvae.training.trainer import train

pytest.importorskip("xgboost")

SMALL = dict(
    svm_train_rows=400, svm_test_rows=200, gmm_components=3, gmm_rows=300, interval_rounds=50
)


@pytest.fixture(scope="module")
def model(data):
    split = split_boreholes(data, 0.25, seed=3)
    return {"semisup": train(data, model="semisupervised", recipe="hybrid", epochs=1, split=split)}


def test_evaluate_shows_the_strongest_baseline_and_the_fields_scores(model, data):
    metrics = evaluate(model, data, EvalConfig(**SMALL))
    comparison = metrics["group_comparison"]
    assert set(comparison["methods"]) == {
        f"{rep}/{method}"
        for rep in ("features", "semisup", "semisup+features")
        for method in ("linear", "boosted")
    }
    for entry in comparison["methods"].values():
        low, high = entry["interval"]["low"], entry["interval"]["high"]
        assert 0 <= low <= high <= 1
        assert entry["per_borehole_macro_f1"]["n_boreholes"] == comparison["test_boreholes"]
        assert entry["log_loss"] > 0 and 0 <= entry["ece"] <= 1
    assert comparison["verdict"].startswith("best: ")
    assert "strongest baseline: features/" in comparison["verdict"]
    linear = metrics["subjects"]["semisup"]["linear"]
    assert linear["boundary_f1"]["described_changes"] > 0 and linear["log_loss"] > 0
    assert metrics["subjects"]["semisup"]["svm"]["log_loss"] is None  # the SVM has no probabilities
    differences = comparison["paired_differences"]
    assert set(differences["embeddings"]) == {"semisup", "semisup+features"}
    for d in [differences["best"], *differences["embeddings"].values()]:
        assert d["low"] <= d["high"] and d["rounds"] == SMALL["interval_rounds"]
    report = markdown_report(metrics)
    assert comparison["verdict"] in report
    assert "The verdict's paired differences" in report and "semisup vs strongest" in report
    assert comparison["verdict"] in summary_text(metrics)


def test_context_reaches_every_classifier_and_the_switch_turns_the_comparison_off(model, data):
    config = EvalConfig(**SMALL, context=1, group_comparison=False)
    metrics = evaluate(model, data, config)
    assert "group_comparison" not in metrics
    assert metrics["evaluation"]["config"]["context"] == 1
    assert metrics["subjects"]["features"]["linear"]["balanced_accuracy"] >= 0
    with pytest.raises(LilyVAEError, match="context must be an integer >= 0"):
        EvalConfig(context=-1)


def test_cli_refuses_a_negative_context(tmp_path, capsys):
    """A usage error naming the flag (exit 2), like every declared setting's."""
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--model", "x.pt", "--output-dir", str(tmp_path), "--context", "-1"])
    assert exc.value.code == 2
    assert "argument --context: must be an integer >= 0, not -1" in capsys.readouterr().err
