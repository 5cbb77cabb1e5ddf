"""The RBF SVM of the reference's lithology score: fitted by scikit-learn (libsvm), its
one-vs-one decision values computed here with matrix products.

Why: with 139 lithologies the SVM has 9,591 one-vs-one classifiers, and libsvm's
prediction loops over all of them for each test row, summing kernel values one
support vector at a time: scoring 4,000 held-out rows took about twice as long as
fitting on 8,000 (most of the demo's evaluation time). The same numbers come from
dense products: the kernel between test rows and support vectors once, then, for each
class, its support vectors' coefficients in every pair at once. The decision values
equal libsvm's to rounding (the tests compare them with ``SVC.decision_function``), and
the one-vs-rest scores are built by the rule scikit-learn documents for
``decision_function_shape="ovr"``: votes, plus the summed confidences squashed into
(-1/3, 1/3) so that they only break ties.
"""

from __future__ import annotations

import functools

import numpy as np

#: Test rows per block: bounds the (rows x pairs) arrays (139 classes: 9,591 pairs).
ROWS_PER_BLOCK = 512
#: BLAS threads of the products: they are small, and on a machine shared with other
#: work OpenBLAS's spinning threads made them about 4x slower than one thread.
BLAS_THREADS = 1


def fit_rbf_svm(X, y):
    """``SVC(kernel="rbf", C=1, gamma="scale")`` fitted on ``X``, ``y``."""
    from sklearn.svm import SVC

    return SVC(kernel="rbf", C=1.0, gamma="scale", decision_function_shape="ovr").fit(X, y)


def _pairs(n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Classes (i, j), i < j, of each one-vs-one classifier in libsvm's order."""
    first, second = np.triu_indices(n_classes, k=1)
    return first, second


def _gamma(svm) -> float:
    """The kernel width the fit used (``gamma="scale"``: 1 / (features x variance))."""
    gamma = getattr(svm, "_gamma", None)
    return float(svm.gamma if gamma is None else gamma)


def pairwise_decision(svm, X) -> np.ndarray:
    """(n, pairs) decision values of each one-vs-one classifier (positive: its first
    class), as ``svm.decision_function`` gives them with ``decision_function_shape="ovo"``."""
    X = np.asarray(X, np.float64)
    sv = np.asarray(svm.support_vectors_, np.float64)
    coef = np.asarray(svm.dual_coef_, np.float64)  # (classes - 1, support vectors)
    n_classes = len(svm.classes_)
    first, second = _pairs(n_classes)
    edges = np.concatenate([[0], np.cumsum(svm.n_support_)])
    # squared distances as |x|^2 + |s|^2 - 2 x.s (clipped at 0: rounding can dip below),
    # then the kernel, in two (rows x support vectors) buffers: each temporary of the
    # plain expression was a new array of that size, and new memory costs page faults
    twice_dot = np.matmul(X, sv.T)
    twice_dot *= 2.0  # exact
    kernel = np.add(np.einsum("ij,ij->i", X, X)[:, None], np.einsum("ij,ij->i", sv, sv)[None, :])
    kernel -= twice_dot
    del twice_dot
    np.maximum(kernel, 0.0, out=kernel)
    kernel *= -_gamma(svm)
    np.exp(kernel, out=kernel)
    # part[:, c, r]: class c's support vectors' share of its r-th pair (libsvm stores the
    # coefficient of class c's vector in the pair with class j in row j if j < c, else j - 1)
    part = np.empty((len(X), n_classes, n_classes - 1))
    for c in range(n_classes):
        block = slice(edges[c], edges[c + 1])
        np.matmul(kernel[:, block], coef[:, block].T, out=part[:, c, :])
    # each pair's two shares, gathered by flat column (one index array, not two)
    flat = part.reshape(len(X), -1)
    decision = np.take(flat, first * (n_classes - 1) + second - 1, axis=1)
    decision += np.take(flat, second * (n_classes - 1) + first, axis=1)
    decision += svm.intercept_
    return decision


def one_vs_rest_scores(decision: np.ndarray, n_classes: int) -> np.ndarray:
    """(n, classes): each class's one-vs-one votes, plus its summed confidences mapped
    into (-1/3, 1/3) (they break ties between equal votes, never outweigh a vote)."""
    signs, second_in = _pair_signs(n_classes)
    # A class wins a pair it is first in when the decision is >= 0, one it is second in
    # otherwise: its votes are (pairs won as first) - (pairs lost as second) + (pairs
    # it is second in), the last being its index. Sums of 0 and +-1: exact, as counting.
    votes = (decision >= 0).astype(np.float64) @ signs + second_in
    confidence = decision @ signs
    return votes + confidence / (3.0 * (np.abs(confidence) + 1.0))


@functools.cache
def _pair_signs(n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(pairs, classes): +1 for a pair's first class, -1 for its second; and the number
    of pairs each class is second in. Made once per class count, not per block of rows."""
    first, second = _pairs(n_classes)
    signs = np.zeros((len(first), n_classes))
    signs[np.arange(len(first)), first] = 1.0
    signs[np.arange(len(first)), second] = -1.0
    signs.flags.writeable = False
    return signs, np.arange(n_classes, dtype=np.float64)


def decision_scores(svm, X) -> np.ndarray:
    """``svm.decision_function(X)`` of a fitted RBF ``SVC`` (one-vs-rest shape), by
    blocks of rows; two classes: the one decision value as two columns (-d, d)."""
    n_classes = len(svm.classes_)
    if n_classes == 2:
        d = svm.decision_function(X)
        return np.stack([-d, d], axis=1)
    from threadpoolctl import threadpool_limits

    X = np.asarray(X, np.float64)
    out = np.empty((len(X), n_classes))
    with threadpool_limits(BLAS_THREADS, user_api="blas"):
        for lo in range(0, len(X), ROWS_PER_BLOCK):
            rows = slice(lo, lo + ROWS_PER_BLOCK)
            out[rows] = one_vs_rest_scores(pairwise_decision(svm, X[rows]), n_classes)
    return out
