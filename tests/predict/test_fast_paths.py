"""The fast ways prediction computes things give what the plain ways give."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from lilyvae.predict.columns import SetNames, top_classes
from lilyvae.predict.las import fixed_decimal_text
from lilyvae.predict.novelty import build_index


def _printf(data: np.ndarray) -> str:
    body = io.StringIO()
    pd.DataFrame(data).to_csv(body, sep=" ", header=False, index=False, float_format="%.5f")
    return body.getvalue()


EDGES = [
    0.0,
    -0.0,
    -1e-9,  # prints as -0.00000
    1 / 64,  # exactly half way at the fifth decimal: printf rounds half to even
    3 / 64,
    0.000005,  # just above or below half way in binary
    0.123455,
    2.5e-6,
    999.999995,
    -999.25,
    123456.123455,
    42949.67296,  # above 2**32 hundred-thousandths
    1e12,  # too large for the fast path: the whole array is formatted one by one
    3e15,
    0.5,
    1.0,
]


@pytest.mark.parametrize(
    "data",
    [
        np.random.default_rng(0).random((500, 7)),
        np.random.default_rng(1).normal(0, 1000, (300, 5)),
        (np.random.default_rng(2).integers(0, 10**7, (400, 3)) + 0.5) / 1e5,
        np.random.default_rng(3).random((200, 1)).astype(np.float32).astype(np.float64),
        np.array([EDGES]),
        np.array([EDGES[:12]]).T,
        np.round(np.random.default_rng(4).random((100, 4)) * 100, 1),
    ],
)
def test_fixed_decimal_text_is_printf_byte_for_byte(data):
    assert fixed_decimal_text(data) == _printf(data)


def test_fixed_decimal_text_of_nothing_is_empty():
    assert fixed_decimal_text(np.empty((0, 3))) == ""


@pytest.mark.parametrize("k", [1, 5])
def test_the_analog_search_is_the_exact_nearest_neighbours(k):
    rng = np.random.default_rng(0)
    # uneven spread across directions that are not the axes, as an embedding has
    mixing = rng.normal(size=(6, 6)) * np.array([3.0, 2.0, 1.0, 0.3, 0.2, 0.1])[:, None]
    train = rng.normal(size=(3000, 6)) @ mixing + 5
    index = build_index(train, np.array(["A"] * 3000), np.arange(3000.0), [""] * 3000, "sha")
    queries = rng.normal(size=(400, 6)) @ mixing + 5
    distances, neighbours = index.search(queries, k)
    q = index.standardise(queries).astype(np.float64)
    full = np.linalg.norm(q[:, None, :] - index.embedding.astype(np.float64)[None], axis=2)
    expected = np.argsort(full, axis=1, kind="stable")[:, :k]
    assert neighbours.shape == (400, k) and neighbours.dtype == np.int64
    np.testing.assert_array_equal(neighbours, expected)
    np.testing.assert_allclose(distances, np.take_along_axis(full, expected, 1), rtol=1e-12)


def test_top_classes_are_a_stable_sort_ties_included():
    rng = np.random.default_rng(0)
    proba = rng.integers(0, 5, (2000, 9)).astype(np.float32)  # many ties
    proba[5, 2] = np.nan
    before = proba.copy()
    expected = np.argsort(-proba, axis=1, kind="stable")[:, :3]
    expected[5] = np.r_[2, np.argsort(-np.delete(proba[5], 2), kind="stable")[:2]]
    expected[5, 1:] += expected[5, 1:] >= 2
    np.testing.assert_array_equal(top_classes(proba, 3), expected)
    # The passes hide their winners in the array itself, and give it back unchanged.
    np.testing.assert_array_equal(proba, before)


def test_set_names_are_the_joined_classes_with_one_code_per_set_across_chunks():
    rng = np.random.default_rng(0)
    names = [f"class {i}" for i in range(11)]
    distinct = rng.random((40, 11)) < 0.3
    distinct[0] = False  # an empty set
    sets = distinct[rng.integers(0, 40, 3000)]
    encoder = SetNames(names)
    codes = np.concatenate([encoder.encode(part) for part in np.array_split(sets, 7)])
    joined = [";".join(n for n, member in zip(names, row, strict=True) if member) for row in sets]
    assert [encoder.names[c] for c in codes] == joined
    assert len(encoder.names) == len(set(joined))  # each set named once


def test_a_search_shared_by_two_threads_is_the_whole_search():
    """predict's search is taken block by block by the searcher's thread and, instead of
    waiting, by the thread that needs it: the result is one search's, in order."""
    from concurrent.futures import ThreadPoolExecutor

    from lilyvae.predict import predictor
    from lilyvae.predict.predictor import BESIDE, Stopwatch, _SharedSearch

    rng = np.random.default_rng(1)
    train = rng.normal(size=(2000, 5))
    index = build_index(train, np.array(["A"] * 2000), np.arange(2000.0), [""] * 2000, "sha")
    queries = rng.normal(size=(predictor.SEARCH_BLOCK * 3 + 17, 5))
    watch = Stopwatch()
    with ThreadPoolExecutor(max_workers=1) as searcher:
        shared = _SharedSearch(index, queries, 4, 1, watch)
        shared.beside = searcher.submit(shared.work, BESIDE)
        distances, neighbours = shared.result()
    expected_d, expected_i = index.search(queries, 4)
    np.testing.assert_array_equal(neighbours, expected_i)
    np.testing.assert_array_equal(distances, expected_d)
    assert len(shared.found) == 4  # every block once
