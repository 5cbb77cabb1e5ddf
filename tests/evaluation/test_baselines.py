"""The strongest baseline (boosted trees beside the linear model), depth context and the
field's scores, on hand-made data whose right answers are known."""

import numpy as np
import pytest

from lilyvae.errors import LilyVAEError
from lilyvae.evaluation.baselines import (
    MISSING_BOOSTING,
    group_comparison,
    paired_differences,
    resampled_balanced_accuracy,
    verdict,
)
from lilyvae.evaluation.config import EvalConfig
from lilyvae.evaluation.context import context_columns, context_features, depth_gaps
from lilyvae.evaluation.field_scores import (
    boundary_f1,
    expected_calibration_error,
    log_loss,
    per_borehole_macro_f1,
)

pytest.importorskip("xgboost")

CONFIG = EvalConfig(boosted_fit_rows=3000, interval_rounds=100)


def _band_problem(n=4000, boreholes=40, seed=0):
    """Two groups: inside or outside a band of the first value (the other two are
    noise); no linear boundary separates them."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 3))
    groups = (np.abs(X[:, 0]) < 0.5).astype(np.int64)
    bh = np.repeat(np.array([f"B{i:02d}" for i in range(boreholes)], dtype=object), n // boreholes)
    test = np.isin(bh, bh[:: n // boreholes][: boreholes // 5])
    return X, groups, bh, np.flatnonzero(~test), np.flatnonzero(test)


def test_boosted_beats_linear_on_a_non_linear_problem():
    X, groups, bh, fit, test = _band_problem()
    out = group_comparison({"features": X}, groups, ("a", "b"), fit, test, bh, CONFIG)
    linear, boosted = out["methods"]["features/linear"], out["methods"]["features/boosted"]
    assert linear["balanced_accuracy"] < 0.65
    assert boosted["balanced_accuracy"] > 0.9
    assert boosted["interval"]["low"] > linear["interval"]["high"]
    assert out["verdict"].startswith("best: features/boosted")
    assert "(beats the runner-up features/linear by +" in out["verdict"]
    best = out["paired_differences"]["best"]
    assert (best["method"], best["against"], best["verdict"]) == (
        "features/boosted",
        "features/linear",
        "beats",
    )
    assert best["low"] > 0 and best["rounds"] == CONFIG.interval_rounds
    assert best["difference"] == pytest.approx(
        boosted["balanced_accuracy"] - linear["balanced_accuracy"]
    )


def test_the_verdict_says_when_an_embedding_wins_and_stays_silent_on_overlap():
    X, groups, bh, fit, test = _band_problem()
    rng = np.random.default_rng(1)
    informative = np.stack([groups + 0.05 * rng.standard_normal(len(groups))], axis=1)
    noise = rng.standard_normal((len(groups), 1))
    reps = {"features": noise, "good": informative, "same": noise.copy()}
    out = group_comparison(reps, groups, ("a", "b"), fit, test, bh, CONFIG)
    assert "good: beats the strongest baseline, difference +" in out["verdict"]
    assert "same: no verdict (the difference's interval contains 0)" in out["verdict"]
    same = out["paired_differences"]["embeddings"]["same"]
    # Equal inputs give equal predictions: a difference of 0 on every resample.
    assert same["difference"] == same["low"] == same["high"] == 0.0
    assert same["verdict"] == "no verdict" and same["against"].startswith("features/")


def _scored(points: dict) -> dict:
    """Method entries as :func:`group_comparison` writes them, from (representation,
    balanced accuracy, interval) by name."""
    return {
        name: {
            "representation": rep,
            "balanced_accuracy": ba,
            "interval": {"low": low, "high": high, "rounds": 200},
        }
        for name, (rep, ba, low, high) in points.items()
    }


def test_a_paired_difference_gives_a_verdict_where_the_intervals_overlap():
    # Hard and easy resamples move both methods alike: their intervals overlap widely,
    # but the embedding is 0.02 ahead on every resample.
    rng = np.random.default_rng(3)
    base = rng.uniform(0.2, 0.5, 200)
    resampled = {"features/boosted": base, "emb/boosted": base + 0.02 + 0.002 * rng.random(200)}
    points = {k: v.mean() for k, v in resampled.items()}
    scores = _scored(
        {
            k: (k.split("/")[0], points[k], *np.percentile(v, [2.5, 97.5]))
            for k, v in resampled.items()
        }
    )
    emb, feat = scores["emb/boosted"]["interval"], scores["features/boosted"]["interval"]
    assert emb["low"] < feat["high"]  # the intervals overlap
    differences = paired_differences(scores, resampled, ["emb"])
    d = differences["embeddings"]["emb"]
    assert (d["method"], d["against"], d["verdict"], d["rounds"]) == (
        "emb/boosted",
        "features/boosted",
        "beats",
        200,
    )
    assert 0.02 <= d["low"] <= d["high"] <= 0.022
    line = verdict(scores, differences)
    assert "emb: beats the strongest baseline, difference +0.021 [+0.020, +0.022]" in line
    assert "best: emb/boosted" in line and "(beats the runner-up features/boosted by" in line
    # The other way round: beaten.
    swapped = {"features/boosted": resampled["emb/boosted"], "emb/boosted": base}
    scores_swapped = _scored({k: (k.split("/")[0], swapped[k].mean(), 0.0, 1.0) for k in swapped})
    line = verdict(scores_swapped, paired_differences(scores_swapped, swapped, ["emb"]))
    assert "emb: is beaten by the strongest baseline, difference -0.021" in line


def test_equal_methods_give_no_verdict():
    rng = np.random.default_rng(4)
    values = rng.uniform(0.2, 0.5, 200)
    noisy = values + rng.normal(0, 0.01, 200)  # ahead on some resamples, behind on others
    resampled = {"features/linear": values, "emb/linear": noisy, "twin/linear": values.copy()}
    scores = _scored({k: (k.split("/")[0], v.mean(), 0.0, 1.0) for k, v in resampled.items()})
    differences = paired_differences(scores, resampled, ["emb", "twin"])
    line = verdict(scores, differences)
    for emb in ("emb", "twin"):
        assert differences["embeddings"][emb]["verdict"] == "no verdict"
        assert f"{emb}: no verdict (the difference's interval contains 0), difference" in line
    assert "no verdict on the best: the difference to the runner-up" in line
    single = {"features/linear": scores["features/linear"]}
    alone = paired_differences(single, resampled, [])
    assert alone == {"best": None, "embeddings": {}}
    assert "(the only method scored)" in verdict(single, alone)


def test_comparison_is_deterministic():
    X, groups, bh, fit, test = _band_problem(n=2000, boreholes=20)
    a = group_comparison({"features": X}, groups, ("a", "b"), fit, test, bh, CONFIG)
    b = group_comparison({"features": X}, groups, ("a", "b"), fit, test, bh, CONFIG)
    for key in a["methods"]:
        a["methods"][key].pop("seconds"), b["methods"][key].pop("seconds")
    assert a == b


def test_a_missing_boosting_library_gives_one_clear_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "xgboost", None)
    X, groups, bh, fit, test = _band_problem(n=1000, boreholes=10)
    out = group_comparison({"features": X}, groups, ("a", "b"), fit, test, bh, CONFIG)
    assert out["skipped"] == MISSING_BOOSTING
    assert "\n" not in MISSING_BOOSTING and "pip install xgboost-cpu" in MISSING_BOOSTING
    assert list(out["methods"]) == ["features/linear"]


def test_context_never_mixes_boreholes_and_flags_the_edges():
    # Each borehole's rows hold its own number, so a neighbour from another borehole
    # would show as a different value.
    bh = np.array(["A"] * 3 + ["B"] * 1 + ["C"] * 4, dtype=object)
    X = np.array([[1.0], [1.0], [1.0], [2.0], [3.0], [3.0], [3.0], [3.0]])
    X = X + np.arange(8)[:, None] * 1e-3  # and its place, to see which neighbour it is
    out = context_features(X, bh, 2)
    assert out.shape == (8, context_columns(1, 2))
    # Per offset (-1, +1, -2, +2): neighbour value, difference, padding flag.
    neighbours = out[:, [1, 4, 7, 10]]
    flags = out[:, [3, 6, 9, 12]]
    assert np.array_equal(np.floor(neighbours), np.floor(X).repeat(4, axis=1))
    assert flags[3].tolist() == [1, 1, 1, 1]  # B has one row: every neighbour is padding
    assert flags[0].tolist() == [1, 0, 1, 0]  # top of A
    assert flags[5].tolist() == [0, 0, 1, 0]  # second row of C
    assert out[1, 1] == pytest.approx(X[0, 0]) and out[1, 2] == pytest.approx(X[0, 0] - X[1, 0])
    assert context_features(X, bh, 0) is X
    with pytest.raises(LilyVAEError, match="Borehole_ID"):
        context_features(X, None, 1)


def test_context_never_crosses_a_gap_in_depth():
    # One borehole of 20 cm bins with one missing bin (2.0 -> 2.4) and a step back up
    # (2.8 -> 2.6), then a second borehole without gaps.
    bh = np.array(["A"] * 7 + ["B"] * 3, dtype=object)
    depths = np.array([1.6, 1.8, 2.0, 2.4, 2.6, 2.8, 2.6, 5.0, 5.2, 5.4])
    X = np.arange(10, dtype=np.float64)[:, None]
    assert depth_gaps(bh, depths).tolist() == [0, 0, 0, 1, 0, 0, 1, 0, 0, 0]
    out = context_features(X, bh, 2, depths)
    # Per offset (-1, +1, -2, +2): neighbour value, difference, padding flag.
    neighbours = out[:, [1, 4, 7, 10]]
    flags = out[:, [3, 6, 9, 12]]
    segments = [[0, 1, 2], [3, 4, 5], [6], [7, 8, 9]]
    for segment in segments:
        for row in segment:
            # Every neighbour, real or padding, is a row of the same segment.
            assert set(neighbours[row].astype(int)) <= set(segment)
    assert flags[2].tolist() == [0, 1, 0, 1]  # above the missing bin: padded below
    assert neighbours[2].tolist() == [1, 2, 0, 2]  # the nearest row on this side
    assert flags[3].tolist() == [1, 0, 1, 0]  # below it: padded above
    assert flags[6].tolist() == [1, 1, 1, 1]  # the row out of order stands alone
    assert out[3, 2] == 0.0  # a padded neighbour at the very edge differs by 0
    # Adjacent bins are neighbours however the float steps round; B has no gap.
    assert flags[8].tolist() == [0, 0, 1, 1]


def test_context_without_gaps_is_the_table_order_context():
    bh = np.array(["A"] * 5 + ["B"] * 4, dtype=object)
    depths = np.round(np.r_[np.arange(5) * 0.2 + 10.0, np.arange(4) * 0.2 + 3.1], 1)
    X = np.random.default_rng(5).standard_normal((9, 2))
    assert not depth_gaps(bh, depths).any()
    assert np.array_equal(context_features(X, bh, 2, depths), context_features(X, bh, 2))
    # Bins of 2 (the median step): a step of 3 (1.5 bins) is no gap, one of 3.1 is.
    steps = np.array([0.0, 2.0, 4.0, 6.0, 8.0, 11.0, 14.1])
    assert np.flatnonzero(depth_gaps(np.array(["A"] * 7), steps)).tolist() == [6]


def test_boundary_f1_on_hand_made_sequences():
    bh = np.array(["A"] * 10 + ["B"] * 6, dtype=object)
    true = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2] + [5, 5, 5, 5, 5, 5])
    # One change one bin late (matches), one missed, one invented in B.
    pred = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1] + [5, 5, 6, 6, 6, 6])
    out = boundary_f1(true, pred, bh)
    assert out["described_changes"] == 2 and out["predicted_changes"] == 2
    assert out["precision"] == 0.5 and out["recall"] == 0.5 and out["f1"] == 0.5
    assert boundary_f1(true, true, bh)["f1"] == 1.0
    # A change that is two bins off does not count at tolerance 1, does at 2.
    late = np.array([0, 0, 0, 0, 0, 1, 1, 2, 2, 2] + [5] * 6)
    assert boundary_f1(true, late, bh)["recall"] == 0.5
    assert boundary_f1(true, late, bh, tolerance=2)["recall"] == 1.0
    # A change at the first row of B is no change: bins of two boreholes never compare.
    assert (
        boundary_f1(
            np.array([0, 0, 1, 1]),
            np.array([0, 0, 1, 1]),
            np.array(["A", "A", "B", "B"], dtype=object),
        )["f1"]
        is None
    )


def test_per_borehole_f1_log_loss_and_calibration():
    bh = np.array(["A"] * 4 + ["B"] * 4, dtype=object)
    true = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    pred = np.array([0, 0, 1, 1, 1, 1, 0, 0])  # A perfect, B all wrong
    f1 = per_borehole_macro_f1(true, pred, bh)
    assert f1["n_boreholes"] == 2 and f1["max"] == 1.0 and f1["min"] == 0.0
    assert f1["median"] == 0.5
    proba = np.array([[0.8, 0.2]] * 4 + [[0.2, 0.8]] * 4)
    classes = np.array([0, 1])
    y = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    assert log_loss(y, proba, classes) == pytest.approx(-(6 * np.log(0.8) + 2 * np.log(0.2)) / 8)
    # Confidence 0.8 everywhere, 75% right: ECE 0.05.
    assert expected_calibration_error(y, proba, classes) == pytest.approx(0.05)
    # A class the classifier does not know costs the floor, not an error.
    assert log_loss(np.array([7]), proba[:1], classes) == pytest.approx(-np.log(1e-15))


def test_resampled_balanced_accuracy_of_one_draw_is_the_plain_score():
    true = np.array([0, 0, 1, 1, 2])
    pred = np.array([0, 1, 1, 1, 0])
    codes = np.array([0, 0, 1, 1, 2])
    once = np.ones((1, 3))
    value = resampled_balanced_accuracy(true, pred, codes, 3, once)[0]
    assert value == pytest.approx(np.mean([0.5, 1.0, 0.0]))
    # Drawing only borehole 1 leaves group 1 alone, all right.
    only = np.array([[0.0, 2.0, 0.0]])
    assert resampled_balanced_accuracy(true, pred, codes, 3, only)[0] == 1.0


def test_borehole_macro_f1s_match_scikit_learn_per_borehole():
    from sklearn.metrics import f1_score

    from lilyvae.evaluation.field_scores import borehole_macro_f1s

    rng = np.random.default_rng(3)
    true = rng.integers(0, 6, 300)
    pred = np.where(rng.random(300) < 0.5, true, rng.integers(0, 8, 300))  # classes never described
    bh = rng.choice(np.array(["U1", "U2", "U3"]), 300)
    expected = [
        f1_score(true[bh == b], pred[bh == b], labels=np.unique(true[bh == b]), average="macro")
        for b in ("U1", "U2", "U3")
    ]
    np.testing.assert_allclose(borehole_macro_f1s(true, pred, bh), expected, atol=1e-12)
