"""The one resolver of held-out rows, on hand-made boreholes."""

import numpy as np

from lilyvae.data.held_out import held_out_rows
from lilyvae.data.splits import BoreholeSplit, borehole_codes, rows_in

BOREHOLES = np.array(["A", "A", "B", "C", "C", "D"], dtype=object)


def split(*holes):
    return BoreholeSplit(tuple(holes))


def test_one_card():
    got = held_out_rows(BOREHOLES, {"m": split("C", "A")})
    assert got.mask.tolist() == [True, True, False, True, True, False]
    assert got.boreholes == ("C", "A") and got.usable and got.recorded and not got.warnings


def test_several_cards_count_only_what_all_held_out_and_say_so():
    got = held_out_rows(BOREHOLES, {"a": split("A", "C"), "b": split("C", "D"), "c": None})
    assert got.boreholes == ("C",) and got.mask.tolist() == [False] * 3 + [True] * 2 + [False]
    assert any("different boreholes" in w for w in got.warnings)
    assert any("model(s) c record no held-out boreholes" in w for w in got.warnings)


def test_unusable_and_absent_splits():
    assert not held_out_rows(BOREHOLES, {"m": None}).recorded
    gone = held_out_rows(BOREHOLES, {"m": split("X")})
    assert not gone.usable and "none of the 1 held-out boreholes" in gone.warnings[0]
    every = held_out_rows(BOREHOLES, {"m": split("A", "B", "C", "D")})
    assert not every.usable and "every borehole" in every.warnings[0]
    part = held_out_rows(BOREHOLES, {"m": split("A", "X").to_dict()})
    assert part.usable and "1 of the 2 held-out boreholes are not in this table" in part.warnings


def test_hashed_borehole_lookups_give_numpys_answers():
    # rows_in and borehole_codes replace np.isin and np.unique(return_inverse=True) on
    # the table's object array of IDs: the same masks and codes, in the same order.
    rng = np.random.default_rng(3)
    names = np.array([f"U{n:04d}{h}" for n in range(40) for h in "ABC"], dtype=object)
    boreholes = names[rng.integers(0, len(names), 5000)]
    chosen = tuple(names[::7]) + ("not-in-table",)
    assert np.array_equal(rows_in(boreholes, chosen), np.isin(boreholes, np.array(chosen, object)))
    assert not rows_in(boreholes, ()).any()
    got_names, got_codes = borehole_codes(boreholes)
    want_names, want_codes = np.unique(boreholes, return_inverse=True)
    assert list(got_names) == list(want_names)
    assert np.array_equal(got_codes, want_codes)
