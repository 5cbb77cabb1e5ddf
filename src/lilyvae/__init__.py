"""lilyvae: variational autoencoders for IODP LILY shipboard core measurements.

The public names below are imported on first use (PEP 562), so that commands that
never touch a network (``build-dataset``, ``synth``, ``synth-lily``) do not pay for
importing PyTorch: about a second and 0.3 GB.
"""

from __future__ import annotations

from lilyvae.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "TrainedModel": "lilyvae.model.checkpoint",
    "load_model": "lilyvae.model.checkpoint",
    "FEATURE_COLS": "lilyvae.data.schema",
    "TABLE_COLUMNS": "lilyvae.data.schema",
    "load_training_data": "lilyvae.data.tables",
    "bootstrap": "lilyvae.runs.ensemble",
    "sweep": "lilyvae.runs.ensemble",
    "LilyVAEError": "errors",
    "VAE": "lilyvae.model.networks",
    "predict_properties": "lilyvae.properties.api",
    "SemiSupervisedVAE": "lilyvae.model.networks",
    "HybridRecipe": "lilyvae.model.recipes",
    "StandardRecipe": "lilyvae.model.recipes",
    "DistributionAwareScaler": "lilyvae.data.scaling",
    "fit_scaler": "lilyvae.data.scaling",
    "TrainingConfig": "lilyvae.training.config",
    "make_config": "lilyvae.training.config",
    "train": "lilyvae.training.trainer",
}

__all__ = sorted([*_EXPORTS, "__version__"])


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
