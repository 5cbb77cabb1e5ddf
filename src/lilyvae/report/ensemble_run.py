"""An ensemble's run directory (``lilyvae bootstrap``, ``lilyvae sweep``) as the figures
and the report read it: ``run.json`` (the manifest), ``summary.json`` (means and
intervals), ``members.csv`` (one row per member) and ``failures.json``.

``lilyvae figures`` and ``lilyvae report`` recognise such a directory by its
``run.json`` and draw and write what an ensemble has, instead of a single run's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lilyvae.errors import LilyVAEError, first_line
from lilyvae.files import read_json_file
from lilyvae.run_folder import (
    ENSEMBLE_FAILURES,
    ENSEMBLE_MANIFEST,
    ENSEMBLE_MEMBERS,
    ENSEMBLE_RUN_FORMAT,
    ENSEMBLE_RUN_VERSION,
    ENSEMBLE_SUMMARY,
    ENSEMBLE_SUMMARY_FORMAT,
)


def is_ensemble_dir(root: str | os.PathLike) -> bool:
    """True for a directory holding an ensemble's ``run.json``."""
    return (Path(root) / ENSEMBLE_MANIFEST).is_file()


@dataclass(frozen=True)
class EnsembleFiles:
    """What an ensemble's directory holds, read and checked."""

    root: Path
    manifest: dict  # run.json
    summary: dict  # summary.json
    members: pd.DataFrame  # members.csv
    failures: dict  # member key -> {"seed", "reason"}; empty when none failed

    @property
    def kind(self) -> str:
        return self.summary["kind"]

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic") or self.summary.get("synthetic"))

    @property
    def grid(self) -> dict[str, list]:
        """A sweep's grid (axis -> values, in order); empty for a bootstrap."""
        return dict(self.manifest.get("identity", {}).get("grid") or {})

    @property
    def status(self) -> str:
        """``"3 of 4 members ok, 1 failed"``."""
        s = self.summary
        return (
            f"{s['ok']} of {s['members']} members ok"
            + (f", {s['failed']} failed" if s.get("failed") else "")
            + (f", {s['pending']} not trained" if s.get("pending") else "")
        )


def read_ensemble(root: str | os.PathLike) -> EnsembleFiles:
    """The files of the ensemble run in ``root``, each a one-line error naming it when
    missing or not what lilyvae wrote."""

    root = Path(root)
    manifest = read_json_file(
        root / ENSEMBLE_MANIFEST, "ensemble run manifest", ENSEMBLE_RUN_FORMAT, ENSEMBLE_RUN_VERSION
    )
    summary_path = root / ENSEMBLE_SUMMARY
    if not summary_path.is_file():
        raise LilyVAEError(
            f"{summary_path}: no ensemble summary (the run wrote none yet: re-run its "
            "command to resume it)"
        )
    summary = read_json_file(summary_path, "ensemble summary", ENSEMBLE_SUMMARY_FORMAT)
    if summary.get("kind") not in ("bootstrap", "sweep") or "ok" not in summary:
        raise LilyVAEError(f"{summary_path}: not a lilyvae ensemble summary")
    if summary.get("run_id") != manifest.get("run_id"):
        raise LilyVAEError(
            f"{summary_path}: belongs to another run than {ENSEMBLE_MANIFEST} (re-run the "
            "command to rewrite it)"
        )
    members_path = root / ENSEMBLE_MEMBERS
    try:
        members = pd.read_csv(members_path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        first = first_line(exc)
        raise LilyVAEError(f"{members_path}: cannot read the members' table ({first})") from None
    if "member" not in members.columns or "status" not in members.columns:
        raise LilyVAEError(f"{members_path}: not a lilyvae members table")
    failures_path = root / ENSEMBLE_FAILURES
    failures = {}
    if failures_path.is_file():
        failures = read_json_file(failures_path, "failures file").get("members") or {}
    return EnsembleFiles(root, manifest, summary, members, dict(failures))
