"""lilyvae: variational autoencoders for IODP LILY shipboard core measurements.

The public names below are imported on first use (PEP 562), so that commands that
never touch a network (``build-dataset``, ``synth``, ``synth-lily``) do not pay for
importing PyTorch: about a second and 0.3 GB.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "TrainedModel": "checkpoint",
    "load_model": "checkpoint",
    "FEATURE_COLS": "data",
    "TABLE_COLUMNS": "data",
    "load_training_data": "data",
    "bootstrap": "ensemble",
    "sweep": "ensemble",
    "LilyVAEError": "errors",
    "VAE": "models",
    "SemiSupervisedVAE": "models",
    "HybridRecipe": "recipes",
    "StandardRecipe": "recipes",
    "DistributionAwareScaler": "scaling",
    "fit_scaler": "scaling",
    "TrainingConfig": "training",
    "make_config": "training",
    "train": "training",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lilyvae' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
