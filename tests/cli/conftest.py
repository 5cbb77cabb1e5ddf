"""Fixtures of the command tests: a saved one-epoch model and a run folder scored with it."""

import pytest

from lilyvae.evaluation import EvalConfig, evaluate, write_metrics
from lilyvae.training.trainer import train

SMALL_EVAL = EvalConfig(svm_train_rows=300, svm_test_rows=200, gmm_components=3, gmm_rows=300)


@pytest.fixture(scope="module")
def model(tmp_path_factory, data):
    """A saved one-epoch model: its .pt, history and card."""
    path = tmp_path_factory.mktemp("model") / "unsup.pt"
    train(data, model="unsupervised", epochs=1).save(path)
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, model, small_csv):
    """A run directory with a real metrics.json."""
    out = tmp_path_factory.mktemp("run")
    write_metrics(evaluate([f"unsup={model}"], small_csv, SMALL_EVAL, run_dir=out), out)
    return out
