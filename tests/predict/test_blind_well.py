"""The blind-well intervals: a block bootstrap down the core, on a hand-made core."""

from __future__ import annotations

import numpy as np
import pytest

from lilyvae.predict.scoring import BLOCK_BINS, RowPieces, blind_well_scores

MEANS = ("coverage_0.9", "log_loss", "mean_set_size")


def _runs_core(boreholes=2, runs=30, run_bins=100, classes=4, seed=0) -> RowPieces:
    """Beds of ``run_bins`` bins of one lithology; the model is right or wrong, and sure
    or torn between two classes, about a whole bed at once (so being right, and the
    set's size, are strongly correlated down the core)."""
    rng = np.random.default_rng(seed)
    pieces = RowPieces()
    class_group = np.arange(classes) % 2
    for b in range(boreholes):
        labels, proba = [], []
        for _ in range(runs):
            lith = rng.integers(classes)
            guess = lith if rng.random() < 0.6 else (lith + 1) % classes
            p = np.full((run_bins, classes), 0.1 / (classes - 1))
            p[:, guess] = 0.9
            if rng.random() < 0.3:  # torn: the next class is as likely
                p[:, (guess + 1) % classes] = p[:, guess] = 0.45
            p += rng.uniform(0, 0.01, p.shape)
            labels.append(np.full(run_bins, lith))
            proba.append(p / p.sum(axis=1, keepdims=True))
        labels, proba = np.concatenate(labels), np.concatenate(proba)
        sets = proba >= 0.4
        n = len(labels)
        pieces.add(proba, sets, labels, class_group, np.full(n, b), np.arange(n))
    return pieces


def _width(entry) -> float:
    low, high = entry["interval_95"]
    return high - low


def test_block_intervals_are_wider_than_bin_intervals_on_long_beds():
    pieces = _runs_core()
    blocks = blind_well_scores(pieces, True, 0.9, n_resamples=300)
    bins = blind_well_scores(pieces, True, 0.9, block_bins=1, n_resamples=300)
    for key in (*MEANS, "balanced_accuracy", "macro_f1"):
        assert blocks[key]["value"] == pytest.approx(bins[key]["value"])
        assert _width(blocks[key]) > 2 * _width(bins[key]), key


def test_intervals_contain_the_point_estimate():
    scores = blind_well_scores(_runs_core(seed=1), True, 0.9, n_resamples=300)
    for key in MEANS:
        low, high = scores[key]["interval_95"]
        assert low <= scores[key]["value"] <= high, key


def test_the_point_estimates_are_the_plain_scores():
    pieces = _runs_core(boreholes=1, runs=5)
    a = pieces.arrays()
    scores = blind_well_scores(pieces, True, 0.9, n_resamples=20)
    assert scores["coverage_0.9"]["value"] == pytest.approx(a["covered"].mean())
    assert scores["mean_set_size"]["value"] == pytest.approx(a["size"].mean())
    assert scores["log_loss"]["value"] == pytest.approx(-np.log(a["p_true"]).mean())
    recalls = [np.mean(a["pred"][a["label"] == c] == c) for c in np.unique(a["label"])]
    assert scores["balanced_accuracy"]["value"] == pytest.approx(np.mean(recalls))


def test_same_seed_same_intervals_and_the_method_is_recorded():
    pieces = _runs_core()
    first = blind_well_scores(pieces, True, 0.9, n_resamples=200, seed=3)
    again = blind_well_scores(pieces, True, 0.9, n_resamples=200, seed=3)
    other = blind_well_scores(pieces, True, 0.9, n_resamples=200, seed=4)
    assert first == again
    assert first["log_loss"]["interval_95"] != other["log_loss"]["interval_95"]
    method = first["interval_method"]
    assert method["block_bins"] == BLOCK_BINS
    assert method["blocks"] == 2 * 30 * 100 // BLOCK_BINS
    assert "block bootstrap" in method["method"]


def test_blocks_stay_within_their_borehole():
    """A borehole right everywhere and one wrong everywhere: every resample keeps each
    borehole's share, so the accuracy cannot move at all."""
    pieces = RowPieces()
    n = 400
    for b, right in enumerate((True, False)):
        labels = np.zeros(n, dtype=np.int64)
        proba = np.tile([0.9, 0.1] if right else [0.1, 0.9], (n, 1))
        pieces.add(proba, proba >= 0.5, labels, np.array([0, 1]), np.full(n, b), np.arange(n))
    scores = blind_well_scores(pieces, True, 0.9, n_resamples=100)
    assert scores["coverage_0.9"]["interval_95"] == pytest.approx((0.5, 0.5))
