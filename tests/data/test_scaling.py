"""The distribution-aware scaler: transforms, round trip, JSON, validation."""

import json
import re

import numpy as np
import pytest

from lilyvae import DistributionAwareScaler, fit_scaler
from lilyvae.errors import LilyVAEError


def raw(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [
            rng.normal(1.7, 0.25, n),
            rng.lognormal(3, 1.5, n) - 20,  # MS: long tail and negatives
            rng.gamma(2, 10, n),
            rng.gamma(2, 30, n),
            rng.gamma(2, 30, n),
            rng.gamma(2, 30, n),
        ]
    )


def test_transform_is_log_then_standardise():
    X = raw()
    s = DistributionAwareScaler().fit(X)
    Z = s.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-9)
    logged = np.column_stack(
        [
            X[:, 0],
            np.sign(X[:, 1]) * np.log1p(np.abs(X[:, 1])),
            np.sign(X[:, 2]) * np.log1p(np.abs(X[:, 2])),
        ]
        + [np.log1p(X[:, j]) for j in (3, 4, 5)]
    )
    np.testing.assert_allclose(Z, (logged - logged.mean(0)) / logged.std(0), rtol=1e-10)


def test_round_trip_and_json(tmp_path):
    X = raw()
    s = DistributionAwareScaler()
    Z = s.fit_transform(X)
    np.testing.assert_allclose(s.inverse_transform(Z), X, rtol=1e-9, atol=1e-9)
    path = tmp_path / "scaler.json"
    s.save(path)
    params = json.loads(path.read_text())  # plain JSON, no pickle
    assert params["transforms"][1] == "signed_log1p"
    s2 = DistributionAwareScaler.load(path)
    np.testing.assert_array_equal(s2.transform(X), Z)


def test_validation_names_the_problem():
    s = DistributionAwareScaler()
    with pytest.raises(LilyVAEError, match="not fitted"):
        s.transform(raw())
    with pytest.raises(LilyVAEError, match="6 columns"):
        s.fit(np.zeros((4, 5)))
    bad = raw()
    bad[0, 3] = -2.0
    with pytest.raises(LilyVAEError, match="'R' has values <= -1"):
        s.fit(bad)
    bad = raw()
    bad[1, 0] = np.nan
    with pytest.raises(LilyVAEError, match="non-finite"):
        s.fit(bad)


@pytest.mark.parametrize(
    "text, match",
    [
        (None, "not a readable scaler parameters file"),  # no such file
        ("{not json", "not a readable scaler parameters file"),
        ("[1, 2]", "not a lilyvae scaler parameters file"),
        ('{"transforms": ["identity"]}', "malformed scaler parameters"),
    ],
)
def test_bad_parameter_file_is_one_line_naming_it(tmp_path, text, match):
    path = tmp_path / "scaler.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(LilyVAEError, match=match) as info:
        DistributionAwareScaler.load(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message


@pytest.mark.parametrize("column, value", [(0, 1e308), (0, 1e200), (2, -1e308)])
def test_values_that_overflow_the_fit_are_refused_naming_their_column(column, value):
    X = raw(50)
    X[7, column] = value
    name = DistributionAwareScaler().feature_names[column]
    if column == 2:  # signed log1p tames any finite value: nothing overflows
        assert np.isfinite(DistributionAwareScaler().fit_transform(X)).all()
        return
    with pytest.raises(LilyVAEError, match=rf"^table.csv: column '{re.escape(name)}' holds"):
        fit_scaler(X, "table.csv")
    X[:, column] = value  # every row: the mean itself overflows
    with pytest.raises(LilyVAEError, match="too large to scale"):
        DistributionAwareScaler().fit(X)


@pytest.mark.parametrize(
    "key, value", [("scale", 0.0), ("scale", -2.0), ("scale", float("inf")), ("mean", float("nan"))]
)
def test_saved_parameters_that_would_give_nan_are_refused(key, value):
    params = DistributionAwareScaler().fit(raw()).to_dict()
    params[key][3] = value
    with pytest.raises(
        LilyVAEError, match="card.json: scaler parameters of column 'R' are unusable"
    ):
        DistributionAwareScaler.from_dict(params, source="card.json")
