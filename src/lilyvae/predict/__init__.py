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

from lilyvae.predict.fitting import calibrate
from lilyvae.predict.outputs import write_prediction
from lilyvae.predict.predictor import CorePrediction, Predictor

__all__ = ["CorePrediction", "Predictor", "calibrate", "write_prediction"]
