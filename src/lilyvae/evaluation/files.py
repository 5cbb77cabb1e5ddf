"""The evaluation's files: ``metrics.json``, ``metrics.md`` and ``roc_curves.json``."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from lilyvae.evaluation.text import markdown_report
from lilyvae.files import to_json, write_json_atomic, write_text_atomic
from lilyvae.run_folder import RunDir, read_metrics_file


def write_metrics(metrics: dict, output_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``metrics.json``, ``metrics.md`` and ``roc_curves.json`` into ``output_dir``."""
    run = RunDir(Path(output_dir))
    metrics = dict(metrics)
    curves = metrics.pop("_roc_curves", None)
    paths = {"metrics": write_json_atomic(run.metrics, json_safe(metrics))}
    paths["markdown"] = write_text_atomic(run.metrics_markdown, markdown_report(metrics))
    if curves is not None:
        paths["roc_curves"] = write_text_atomic(run.roc_curves, to_json(json_safe(curves)))
    return paths


def _finite(v) -> float | None:
    return None if v is None or not math.isfinite(float(v)) else float(v)


def json_safe(obj):
    """JSON-safe: NaN/inf to None, numpy scalars to Python."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return _finite(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def read_metrics(path: str | os.PathLike) -> dict:
    """``metrics.json``, given as the file or the run directory that holds it."""
    return read_metrics_file(path)
