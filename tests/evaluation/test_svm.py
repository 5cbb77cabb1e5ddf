"""The SVM's decision values by matrix products equal scikit-learn's (libsvm's)."""

import numpy as np
import pytest

from lilyvae.evaluation import svm as svm_module
from lilyvae.evaluation.svm import decision_scores, fit_rbf_svm


def _blobs(n: int, classes: int, seed: int):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, 4))
    y = rng.integers(0, classes, n)
    return centres[y] + rng.normal(size=(n, 4)), y


@pytest.mark.parametrize("classes", [2, 3, 9])
def test_decision_scores_equal_libsvm_ones(classes, monkeypatch):
    X, y = _blobs(400, classes, seed=classes)
    X_test, _ = _blobs(150, classes, seed=99)
    svm = fit_rbf_svm(X, y)
    monkeypatch.setattr(svm_module, "ROWS_PER_BLOCK", 64)  # several blocks, one ragged
    ours = decision_scores(svm, X_test)
    reference = svm.decision_function(X_test)
    if classes == 2:
        reference = np.stack([-reference, reference], axis=1)
    assert ours.shape == (150, classes)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-9)
    assert np.array_equal(ours.argmax(axis=1), reference.argmax(axis=1))


def test_one_vs_rest_votes_are_counted_pairs_won():
    """The votes of scikit-learn's rule, counted plainly: a class wins a pair it is first
    in when the decision is >= 0, and one it is second in otherwise."""
    from lilyvae.evaluation.svm import one_vs_rest_scores

    n_classes = 7
    first, second = np.triu_indices(n_classes, k=1)
    rng = np.random.default_rng(0)
    decision = rng.normal(size=(300, len(first)))
    decision[rng.random(decision.shape) < 0.05] = 0.0  # ties go to the first class
    votes = np.zeros((300, n_classes))
    confidence = np.zeros((300, n_classes))
    for p, (i, j) in enumerate(zip(first, second, strict=True)):
        won = decision[:, p] >= 0
        votes[:, i] += won
        votes[:, j] += ~won
        confidence[:, i] += decision[:, p]
        confidence[:, j] -= decision[:, p]
    scores = one_vs_rest_scores(decision, n_classes)
    np.testing.assert_array_equal(np.round(scores), votes)  # confidences stay within 1/3
    expected = votes + confidence / (3.0 * (np.abs(confidence) + 1.0))
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12)
