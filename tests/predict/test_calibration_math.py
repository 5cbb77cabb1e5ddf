"""Temperature scaling, conformal sets and the scores, on hand-made examples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax

from lilyvae.errors import LilyVAEError
from lilyvae.predict import conformal, metrics
from lilyvae.predict.fitting import _scores
from lilyvae.predict.temperature import fit_temperature, tempered


def _overconfident(n=20000, classes=5, seed=0):
    """Labels drawn from softmax(z), probabilities reported as softmax(3 z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (n, classes))
    labels = np.array([rng.choice(classes, p=p) for p in softmax(z, axis=1)])
    return 3.0 * z, labels


def test_temperature_lowers_ece_on_an_overconfident_model():
    logits, labels = _overconfident()
    before = metrics.expected_calibration_error(softmax(logits, axis=1), labels)
    t = fit_temperature(logits[:10000], labels[:10000])
    after = metrics.expected_calibration_error(tempered(logits[10000:], t), labels[10000:])
    assert t == pytest.approx(3.0, rel=0.1)
    assert before > 0.1
    assert after < before / 3
    # The ranking, and so the predicted class, does not change.
    assert (tempered(logits, t).argmax(axis=1) == logits.argmax(axis=1)).all()


def test_ece_matches_a_hand_computation():
    # Confidences 0.9 (right), 0.9 (wrong), 0.5 (right): bins 14 and 7 of 15.
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.5, 0.5]])
    labels = np.array([0, 1, 0])
    expected = (2 / 3) * abs(0.5 - 0.9) + (1 / 3) * abs(1.0 - 0.5)
    assert metrics.expected_calibration_error(proba, labels) == pytest.approx(expected)
    assert metrics.log_loss(proba, labels) == pytest.approx(
        -(np.log(0.9) + np.log(0.1) + np.log(0.5)) / 3
    )


def test_quantile_rule_matches_a_hand_computation():
    # Borehole A: scores 0.1 and 0.3 (weight 1/4 each); borehole B: 0.5 (weight 1/2).
    proba = np.array([[0.9, 0.1], [0.7, 0.3], [0.5, 0.5]])
    labels = np.array([0, 0, 1])
    boreholes = np.array(["A", "A", "B"])
    table = conformal.quantile_table(proba, labels, boreholes)
    assert table["boreholes"] == 2
    q = table["quantiles"]
    assert q[250] == pytest.approx(0.1)  # weight up to 0.1 is 1/4
    assert q[251] == pytest.approx(0.3)
    assert q[500] == pytest.approx(0.3)
    assert q[501] == pytest.approx(0.5)
    # Level 0.3 with B = 2: ceil(3 * 0.3) / 2 = 0.5 -> the quantile at 0.5, 0.3.
    assert conformal.threshold(table, 0.3) == pytest.approx(0.3)
    # Level 0.6: ceil(1.8) / 2 = 1 -> the largest score.
    assert conformal.threshold(table, 0.6) == pytest.approx(0.5)
    # Level 0.7: ceil(2.1) / 2 > 1: two boreholes cannot give it, every class is in.
    assert conformal.threshold(table, 0.7) == 1.0
    sets = conformal.prediction_sets(np.array([[0.8, 0.2], [0.6, 0.4]]), 0.3)
    assert sets.tolist() == [[True, False], [True, False]]
    sets = conformal.prediction_sets(np.array([[0.8, 0.2], [0.6, 0.4]]), 0.6)
    assert sets.tolist() == [[True, False], [True, True]]


def _exchangeable_boreholes(n_boreholes, rng, classes=8):
    """Boreholes whose bins have Dirichlet probabilities and labels drawn from them,
    with a borehole-specific sharpness (bins of one borehole alike)."""
    probs, labels, holes = [], [], []
    for b in range(n_boreholes):
        sharp = rng.uniform(0.2, 2.0)
        p = rng.dirichlet(np.full(classes, sharp), size=int(rng.integers(20, 80)))
        labels.append(np.array([rng.choice(classes, p=row) for row in p]))
        probs.append(p)
        holes.append(np.full(len(p), b))
    return np.vstack(probs), np.concatenate(labels), np.concatenate(holes)


@pytest.mark.parametrize("level", [0.8, 0.9])
def test_conformal_sets_reach_their_level_on_exchangeable_boreholes(level):
    rng = np.random.default_rng(1)
    coverages = []
    for _ in range(20):
        p, y, b = _exchangeable_boreholes(30, rng)
        table = conformal.quantile_table(p, y, b)
        p2, y2, _ = _exchangeable_boreholes(30, rng)
        sets = conformal.prediction_sets(p2, conformal.threshold(table, level))
        coverages.append(metrics.set_coverage(sets, y2))
    assert np.mean(coverages) >= level - 0.01
    # Not trivially every class: the sets are informative.
    assert metrics.mean_set_size(sets) < 8


@pytest.mark.parametrize("level", [0, 1, -0.5, 1.5, float("nan"), "x"])
def test_level_outside_zero_one_is_refused(level):
    with pytest.raises(LilyVAEError, match="--level"):
        conformal.check_level(level)


def test_borehole_interval_needs_two_boreholes():
    values = np.arange(10.0)
    assert metrics.group_bootstrap_interval(lambda r: values[r].mean(), np.zeros(10)) is None
    low, high = metrics.group_bootstrap_interval(
        lambda r: values[r].mean(), np.repeat([0, 1, 2, 3, 4], 2)
    )
    assert low <= values.mean() <= high


def test_withheld_lithologies_are_left_out_of_the_temperature_fit():
    """Classes whose labels the head never saw (the demo's zero-shot lithologies) are
    named by the cards; their bins must not pull the temperature."""
    from types import SimpleNamespace

    from lilyvae.predict.fitting import withheld_class_indices

    card = SimpleNamespace(extra={"labels_withheld": {"classes": ["clay", "ooze"]}})
    plain = SimpleNamespace(extra={})
    models = SimpleNamespace(models=[SimpleNamespace(card=card), SimpleNamespace(card=plain)])
    names = ("basalt", "clay", "chalk", "ooze")
    assert withheld_class_indices(models, names).tolist() == [1, 3]
    alone = SimpleNamespace(models=[SimpleNamespace(card=plain)])
    assert withheld_class_indices(alone, names).size == 0


def test_calibration_scores_and_intervals_are_the_metrics_of_the_resampled_rows():
    # calibrate's check resamples per-row values computed once; each value and interval
    # must be what the metric functions give on the resampled rows themselves.
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(20), 3000)
    labels = rng.integers(0, 20, 3000)
    boreholes = np.array([f"h{i % 17}" for i in range(3000)], dtype=object)
    sets = proba >= 0.05
    got = _scores(proba, labels, sets, boreholes)
    by_rows = {
        "ece": lambda r: metrics.expected_calibration_error(proba[r], labels[r]),
        "log_loss": lambda r: metrics.log_loss(proba[r], labels[r]),
        "coverage_90": lambda r: metrics.set_coverage(sets[r], labels[r]),
        "mean_set_size_90": lambda r: metrics.mean_set_size(sets[r]),
    }
    for name, score in by_rows.items():
        interval = metrics.group_bootstrap_interval(score, boreholes)
        assert got[name] == {"value": score(np.arange(3000)), "interval_95": interval}
