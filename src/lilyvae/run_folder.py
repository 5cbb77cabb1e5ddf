"""Run folders: the one place that knows which file of a run is where.

Two kinds of folder, written by later stages and read by the report, so their file
names are declared here, below both: a run folder (:class:`RunDir`) and an ensemble
folder (``lilyvae bootstrap`` / ``sweep``: the ``ENSEMBLE_*`` names).

``lilyvae demo`` writes a whole run into one folder; ``lilyvae evaluate``, ``figures``
and ``report`` write and read parts of it::

    data/<table>                the table (and its .synthetic.json, .boreholes.csv)
    models/<name>.pt            checkpoints, each with its .meta.json card
    embeddings.parquet          the table plus each model's embedding columns
    metrics.json, metrics.md    the evaluation (and roc_curves.json, its ROC curves)
    seeds.json                  models across seeds: intervals and verdicts (the demo)
    properties/                 zero-shot property prediction (properties.csv, .json)
    new_core/                   the demo's new core: its input, prediction (table, LAS,
                                intervals, figure) and new_core.json, what the report shows
    figures/                    the figures, listed in figures/figures.json
    report.html                 the self-contained report
    summary.txt                 the demo's printed summary

Every JSON file is read through :func:`lilyvae.files.read_json_file`, so a corrupt one
is a one-line error naming it.
"""

from __future__ import annotations

import os
from pathlib import Path

from lilyvae.errors import LilyVAEError
from lilyvae.files import read_json_file

DATA_DIR = "data"
MODELS_DIR = "models"
EMBEDDINGS_FILE = "embeddings.parquet"
METRICS_FILE = "metrics.json"
METRICS_MD = "metrics.md"
ROC_FILE = "roc_curves.json"
SEEDS_FILE = "seeds.json"
FIGURES_DIR = "figures"
MANIFEST = "figures.json"
REPORT_FILE = "report.html"
SUMMARY_FILE = "summary.txt"
PROPERTIES_DIR = "properties"
NEW_CORE_DIR = "new_core"
#: The record of the demo's new core in ``new_core/``, and its ``format`` field.
NEW_CORE_FILE = "new_core.json"
NEW_CORE_FORMAT = "lilyvae-new-core"
#: The ``format`` field of ``metrics.json``.
METRICS_FORMAT = "lilyvae-metrics"
#: The version of ``metrics.json`` this lilyvae writes (newer ones are refused).
METRICS_VERSION = 1
#: The sections of ``metrics.json`` that its readers (figures, report) index.
METRICS_SECTIONS = ("data", "evaluation", "models", "subjects")
#: What ``figures.json`` records of each figure; the report reads each of them.
FIGURE_KEYS = ("file", "title", "caption")
#: The ``format`` field of ``seeds.json``.
SEEDS_FORMAT = "lilyvae-seeds"

# An ensemble folder (``lilyvae bootstrap`` / ``lilyvae sweep --output-dir``)::
#
#     run.json        the run's manifest: its plan, what a resume must match
#     members/        one checkpoint (with card and history) per finished member
#     members.csv     each member's parameters and scores
#     summary.json    every metric's mean and 95% intervals
#     results.csv     a sweep's cells, one row each
#     failures.json   members that failed, and why
ENSEMBLE_MANIFEST = "run.json"
ENSEMBLE_MEMBERS_DIR = "members"
ENSEMBLE_MEMBERS = "members.csv"
ENSEMBLE_SUMMARY = "summary.json"
ENSEMBLE_RESULTS = "results.csv"
ENSEMBLE_FAILURES = "failures.json"
#: The ``format`` fields of ``run.json`` and ``summary.json``.
ENSEMBLE_RUN_FORMAT = "lilyvae-ensemble-run"
ENSEMBLE_SUMMARY_FORMAT = "lilyvae-ensemble-summary"
#: The version of ``run.json`` this lilyvae writes (newer ones are refused).
ENSEMBLE_RUN_VERSION = 1


def read_metrics_file(path: str | os.PathLike) -> dict:
    """``metrics.json`` (or the one inside a run directory ``path``)."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_FILE
    if not path.is_file():
        raise LilyVAEError(f"{path}: no such metrics file (run lilyvae evaluate first)")
    metrics = read_json_file(path, "metrics file", METRICS_FORMAT, METRICS_VERSION)
    for key in METRICS_SECTIONS:
        _require_mapping(metrics.get(key), f"{path}: damaged metrics file: {key!r}", "evaluate")
    if not metrics["models"]:
        raise LilyVAEError(f"{path}: damaged metrics file: 'models' names no model")
    for name, info in metrics["models"].items():
        _require_mapping(info, f"{path}: damaged metrics file: model {name!r}", "evaluate")
    return metrics


def read_figure_manifest(figures_dir: str | os.PathLike) -> dict:
    """``figures.json`` of a folder of figures, its list of figures checked."""
    path = Path(figures_dir) / MANIFEST
    if not path.is_file():
        raise LilyVAEError(f"{path}: no figure manifest (run lilyvae figures first)")
    try:
        manifest = read_json_file(path, "figure manifest")
    except LilyVAEError as exc:
        raise LilyVAEError(f"{exc}; run lilyvae figures again to rewrite it") from None
    figures = manifest.get("figures")
    if not isinstance(figures, list):
        raise LilyVAEError(
            f"{path}: damaged figure manifest: 'figures' is not a list (run lilyvae figures again)"
        )
    for i, fig in enumerate(figures):
        if not (isinstance(fig, dict) and all(isinstance(fig.get(k), str) for k in FIGURE_KEYS)):
            raise LilyVAEError(
                f"{path}: damaged figure manifest: figure {i + 1} lacks its "
                f"{', '.join(FIGURE_KEYS)} (run lilyvae figures again)"
            )
    _require_mapping(
        manifest.get("skipped", {}), f"{path}: damaged figure manifest: 'skipped'", "figures"
    )
    return manifest


def _require_mapping(value, what: str, command: str) -> None:
    """A section of a run's JSON file that its readers index: it must be an object."""
    if not isinstance(value, dict):
        found = "missing" if value is None else f"a {type(value).__name__}, not a mapping"
        raise LilyVAEError(f"{what} is {found} (run lilyvae {command} again)")


class RunDir:
    """The files of one run directory (``root``). ``figures`` overrides where its
    figures are (default ``<root>/figures``)."""

    def __init__(self, root: str | os.PathLike, figures: str | os.PathLike | None = None):
        self.root = Path(root)
        self.data_dir = self.root / DATA_DIR
        self.models_dir = self.root / MODELS_DIR
        self.embeddings = self.root / EMBEDDINGS_FILE
        self.metrics = self.root / METRICS_FILE
        self.metrics_markdown = self.root / METRICS_MD
        self.roc_curves = self.root / ROC_FILE
        self.seeds = self.root / SEEDS_FILE
        self.figures_dir = Path(figures) if figures is not None else self.root / FIGURES_DIR
        self.figure_manifest = self.figures_dir / MANIFEST
        self.report = self.root / REPORT_FILE
        self.summary = self.root / SUMMARY_FILE
        self.properties_dir = self.root / PROPERTIES_DIR
        self.new_core_dir = self.root / NEW_CORE_DIR
        self.new_core = self.new_core_dir / NEW_CORE_FILE

    def __repr__(self) -> str:
        return f"RunDir({str(self.root)!r})"

    @classmethod
    def existing(cls, root: str | os.PathLike, figures: str | os.PathLike | None = None) -> RunDir:
        """A run directory that must already exist."""
        if not Path(root).is_dir():
            raise LilyVAEError(f"{root}: no such run directory")
        return cls(root, figures)

    def model_path(self, name: str) -> Path:
        """Where the checkpoint of the model ``name`` goes."""
        return self.models_dir / f"{name}.pt"

    # --- reading ---------------------------------------------------------------------------

    def read_metrics(self) -> dict:
        return read_metrics_file(self.metrics)

    def read_metrics_if_present(self) -> dict | None:
        return self.read_metrics() if self.metrics.is_file() else None

    def read_seeds_if_present(self) -> dict | None:
        """``seeds.json`` (models across seeds), or None when the run has none."""
        if not self.seeds.is_file():
            return None
        return read_json_file(self.seeds, "seeds file", SEEDS_FORMAT)

    def read_new_core_if_present(self) -> dict | None:
        """The demo's ``new_core/new_core.json``, or None when the run has none."""
        if not self.new_core.is_file():
            return None
        return read_json_file(self.new_core, "new-core record", NEW_CORE_FORMAT)

    def read_roc_curves(self) -> dict | None:
        if not self.roc_curves.is_file():
            return None
        return read_json_file(self.roc_curves, "ROC curves file")

    def read_figure_manifest_if_present(self) -> dict | None:
        if not self.figure_manifest.is_file():
            return None
        return read_figure_manifest(self.figures_dir)

    def data_table(self, metrics: dict | None) -> Path:
        """The table the metrics name (as given, or relative to the run), else the
        first table in ``data/``."""
        recorded = (metrics or {}).get("data", {}).get("path")
        if recorded and Path(recorded).is_file():
            return Path(recorded)
        if recorded and (self.root / recorded).is_file():
            return self.root / recorded
        tables = sorted(self.data_dir.glob("*.csv")) + sorted(self.data_dir.glob("*.parquet"))
        tables = [t for t in tables if not t.name.endswith(".boreholes.csv")]
        if not tables:
            raise LilyVAEError(f"{self.root}: no data table found; pass --data")
        return tables[0]
