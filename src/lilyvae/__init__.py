"""lilyvae: variational autoencoders for IODP LILY shipboard core measurements."""

from .data import FEATURE_COLS, TABLE_COLUMNS
from .errors import LilyVAEError
from .scaling import DistributionAwareScaler, fit_scaler

__version__ = "0.1.0"

__all__ = [
    "FEATURE_COLS",
    "TABLE_COLUMNS",
    "DistributionAwareScaler",
    "LilyVAEError",
    "fit_scaler",
    "__version__",
]
