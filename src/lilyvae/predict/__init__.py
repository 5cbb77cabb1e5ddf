"""Predicting a new core: calibrated lithology probabilities, prediction sets, novelty and
analogs, bin by bin (``lilyvae calibrate``, then ``lilyvae predict``).

This stage comes after the model and training stages and before analysis: it reads
data, models and their cards, and nothing of the later stages.

- ``members``: the model used (a checkpoint, or an ensemble directory's members) and
  one pass of its networks;
- ``head``: a lithology head for a model without one, saved as numbers;
- ``temperature``, ``conformal``, ``novelty``: the three calibrations;
- ``metrics``: calibration error, log-loss, set coverage and size, intervals;
- ``calibration`` and ``fitting``: the calibration file, and fitting it (:func:`calibrate`);
- ``inputs``: reading a new core (table, raw LIMS files, LAS);
- ``predictor``: :class:`Predictor`; ``scoring``: the blind-well test;
- ``outputs`` and ``figure``: the table, LAS, intervals, summary and down-core figure.
"""

from lilyvae.lazy_exports import lazy_exports

# Imported on first use: predicting needs neither the fitting code nor what it imports
# (SciPy's optimisers, scikit-learn), which cost about a second of every ``predict``.
_EXPORTS = {
    "CorePrediction": "lilyvae.predict.predictor",
    "Predictor": "lilyvae.predict.predictor",
    "calibrate": "lilyvae.predict.fitting",
    "write_prediction": "lilyvae.predict.outputs",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
