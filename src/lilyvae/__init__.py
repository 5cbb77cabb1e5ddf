"""lilyvae: variational autoencoders for IODP LILY shipboard core measurements."""

__version__ = "0.1.0"

from .checkpoint import TrainedModel, load_model  # noqa: E402
from .data import FEATURE_COLS, TABLE_COLUMNS, load_training_data  # noqa: E402
from .ensemble import bootstrap, sweep  # noqa: E402
from .errors import LilyVAEError  # noqa: E402
from .models import VAE, SemiSupervisedVAE  # noqa: E402
from .recipes import HybridRecipe, StandardRecipe  # noqa: E402
from .scaling import DistributionAwareScaler, fit_scaler  # noqa: E402
from .training import TrainingConfig, make_config, train  # noqa: E402

__all__ = [
    "FEATURE_COLS",
    "TABLE_COLUMNS",
    "DistributionAwareScaler",
    "HybridRecipe",
    "LilyVAEError",
    "SemiSupervisedVAE",
    "StandardRecipe",
    "TrainedModel",
    "TrainingConfig",
    "VAE",
    "__version__",
    "bootstrap",
    "fit_scaler",
    "load_model",
    "load_training_data",
    "make_config",
    "sweep",
    "train",
]
