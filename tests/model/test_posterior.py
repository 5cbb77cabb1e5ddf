"""A trained model's posterior and prior samples, from the model itself."""

import numpy as np
import pytest

from lilyvae import make_config, train
from lilyvae.data.schema import FEATURE_COLS


@pytest.fixture(scope="module")
def models(small_frame):
    out = {}
    for missing in ("drop", "mask"):
        config = make_config("semisupervised", "standard", epochs=1, missing=missing)
        out[missing] = train(small_frame, config)
    return out


def test_posterior_mean_is_the_embedding_and_variance_positive(models, small_frame):
    model = models["drop"]
    rows = small_frame.dropna(subset=list(FEATURE_COLS)).head(300)
    mean, variance = model.posterior(rows)
    assert mean.shape == variance.shape == (300, model.module.latent_dim)
    np.testing.assert_allclose(mean, model.embed(rows), rtol=1e-6, atol=1e-6)
    assert (variance > 0).all() and np.isfinite(variance).all()


def test_a_mask_model_has_a_posterior_for_rows_without_colour(models, small_frame):
    rows = small_frame.dropna(subset=list(FEATURE_COLS)).head(50).copy()
    rows[["R", "G", "B"]] = np.nan
    mean, variance = models["mask"].posterior(rows)
    assert np.isfinite(mean).all() and np.isfinite(variance).all()
    # a missing scan widens nothing into NaN, and differs from the complete rows' code
    full_mean, _ = models["mask"].posterior(small_frame.dropna(subset=list(FEATURE_COLS)).head(50))
    assert not np.allclose(mean, full_mean)


def test_prior_samples_are_raw_measurements_reproducible_by_seed(models):
    model = models["drop"]
    a, b, c = model.sample(500, seed=3), model.sample(500, seed=3), model.sample(500, seed=4)
    assert a.shape == (500, len(FEATURE_COLS))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.isfinite(a).all()
