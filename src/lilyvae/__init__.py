"""lilyvae: variational autoencoders for IODP LILY shipboard core measurements.

The public names below are imported on first use (PEP 562), so that commands that
never touch a network (``build-dataset``, ``synth``, ``synth-lily``) do not pay for
importing PyTorch: about a second and 0.3 GB.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "TrainedModel": "model.checkpoint",
    "load_model": "model.checkpoint",
    "FEATURE_COLS": "data.schema",
    "TABLE_COLUMNS": "data.schema",
    "load_training_data": "data.tables",
    "bootstrap": "runs.ensemble",
    "sweep": "runs.ensemble",
    "LilyVAEError": "errors",
    "VAE": "model.networks",
    "predict_properties": "properties.api",
    "SemiSupervisedVAE": "model.networks",
    "HybridRecipe": "model.recipes",
    "StandardRecipe": "model.recipes",
    "DistributionAwareScaler": "data.scaling",
    "fit_scaler": "data.scaling",
    "TrainingConfig": "training.config",
    "make_config": "training.config",
    "train": "training.trainer",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lilyvae' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lilyvae.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
