"""The group comparison over a bootstrap's members, on hand-made member rows."""

import pytest

from lilyvae.runs.ensemble.group_verdict import members_comparison


def _rows(embedding, features=0.30, boosted=0.25, both=None):
    """Member rows as members.csv holds them: the measurements' scores the same for
    every member (the same held-out rows), the embedding's own."""
    rows = []
    for i, value in enumerate(embedding):
        row = {
            "groups_features_linear_balanced_accuracy": features,
            "groups_features_boosted_balanced_accuracy": boosted,
            "groups_embedding_linear_balanced_accuracy": value,
            "groups_embedding_boosted_balanced_accuracy": value - 0.05,
        }
        if both is not None:
            row["groups_both_linear_balanced_accuracy"] = both[i]
        rows.append(row)
    return rows


def test_members_ahead_of_the_strongest_baseline_beat_it():
    section = members_comparison(_rows([0.33, 0.34, 0.35, 0.36], both=[0.28, 0.31, 0.29, 0.33]))
    assert section["strongest_baseline"] == "features/linear"
    emb = section["differences"]["embedding"]
    assert (emb["method"], emb["against"], emb["verdict"], emb["members"]) == (
        "embedding/linear",
        "features/linear",
        "beats",
        4,
    )
    assert emb["difference"] == pytest.approx(0.045)
    assert 0.03 <= emb["low"] <= emb["high"] <= 0.06
    both = section["differences"]["both"]
    assert both["method"] == "embedding+features/linear" and both["verdict"] == "no verdict"
    line = section["verdict"]
    assert line.startswith("strongest baseline features/linear; embedding/linear: beats the")
    assert "embedding+features/linear: no verdict (the difference's interval contains 0)" in line


def test_members_behind_are_beaten_and_too_few_give_no_verdict():
    behind = members_comparison(_rows([0.20, 0.22, 0.21], features=0.25, boosted=0.31))
    d = behind["differences"]["embedding"]
    assert behind["strongest_baseline"] == "features/boosted"
    assert d["verdict"] == "is beaten by" and d["high"] < 0
    assert "embedding/linear: is beaten by the strongest baseline" in behind["verdict"]
    two = members_comparison(_rows([0.40, 0.41]))
    assert two["differences"]["embedding"]["verdict"] == "no verdict"
    assert "no interval: 2 member(s)" in two["verdict"]
    assert members_comparison([{"svm_accuracy": 0.5}]) is None
