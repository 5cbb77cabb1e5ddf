"""Intervals stay within their metric's range, and fewer than three values give none,
said plainly: in summary.json, results.csv and the printed table."""

import json
import math

import pytest
from cli_helpers import run

from lilyvae.evaluation.intervals import (
    CLIPPED,
    NO_INTERVAL,
    interval,
    interval_text,
    metric_interval,
    metric_range,
)


def test_metric_ranges_follow_the_names():
    for name in ("svm_accuracy", "linear_balanced_accuracy", "svm_macro_f1", "head_accuracy"):
        assert metric_range(name) == (0.0, 1.0)
    assert metric_range("r2_GRA") == metric_range("r2_mean") == (-math.inf, 1.0)
    assert metric_range("gmm_ari") == (-1.0, 1.0)
    assert metric_range("kl_total")[0] == metric_range("active_dims")[0] == 0.0
    assert metric_range("final_loss") == (-math.inf, math.inf)


def test_intervals_are_cut_at_the_metric_range():
    r2 = metric_interval("r2_mean", [0.2, 0.95, 0.99], "t")
    assert r2["high"] == 1.0 and r2["low"] < 0.2 and r2["note"] == CLIPPED
    raw = interval([0.2, 0.95, 0.99], "t")
    assert raw["high"] > 1.0 and "note" not in raw  # what the cut prevents
    accuracy = metric_interval("svm_balanced_accuracy", [0.01, 0.02, 0.5], "t")
    assert accuracy["low"] == 0.0 and accuracy["high"] <= 1.0
    loss = metric_interval("final_loss", [1.0, 2.0, 30.0], "t")
    assert loss["low"] < 0 and "note" not in loss  # an unbounded metric is not cut


def test_fewer_than_three_values_give_no_interval():
    two = metric_interval("r2_mean", [-2.4, 0.9], "t")
    assert two["mean"] == pytest.approx(-0.75) and two["sd"] is not None
    assert two["low"] is None and two["high"] is None and two["note"] == NO_INTERVAL
    assert interval_text(two) == "no interval (n=2)"
    assert interval([], "percentile")["note"] == NO_INTERVAL
    assert interval_text(metric_interval("r2_mean", [0.1, 0.2, 0.3])) == "[0.105, 0.295]"


def test_a_two_seed_sweep_says_it_has_no_interval(tmp_path, small_csv, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", "--model", "unsupervised", "--grid", "beta=0.5,1", "--seeds", "2"]
    args += ["--data", small_csv, "--output-dir", out, "--epochs", "1", "--no-eval"]
    code, stdout, err = run([*args, "--workers", "1", "--quiet"], capsys)
    assert code == 0, err
    assert stdout.count("no interval (n=2)") >= 2  # each cell's shown metric
    summary = json.loads((out / "summary.json").read_text())
    for cell in summary["cells"]:
        loss = cell["metrics"]["final_loss"]
        assert loss["n"] == 2 and loss["low"] is None and loss["note"] == NO_INTERVAL
    assert "none from fewer than 3" in summary["interval"]["note"]
