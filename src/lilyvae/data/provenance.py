"""Where a table came from, as far as lilyvae can tell: SYNTHETIC, or not known.

Provenance is one small value (:class:`Provenance`), read once, when a table is loaded
(:func:`table_provenance`), from the files lilyvae writes beside what it makes:

- ``<stem>.synthetic.json`` beside a table written by ``lilyvae synth`` (and the demo);
- ``<stem>.manifest.json`` beside a table built by ``lilyvae build-dataset``, which
  records whether its raw files were synthetic (they are when ``lily.synthetic.json``
  lay beside them, as ``lilyvae synth-lily`` writes it).

:class:`~lilyvae.data.tables.TrainingData` carries it (``data.origin``) into the model
card's ``data`` section (``synthetic``, ``synthetic_notice``, ``synthetic_evidence``),
and every later step reads it from there or from the metrics: ensembles, evaluation,
figures and the report never look for sidecars again. A table of unknown origin is not
marked; that is no claim that it is real.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Provenance:
    """Whether data are SYNTHETIC, what says so, and the file that said it."""

    synthetic: bool = False
    notice: str | None = None
    evidence: str | None = None  # the sidecar or manifest that marks the data

    def to_dict(self) -> dict:
        """The fields a card's or the metrics' ``data`` section records."""
        if not self.synthetic:
            return {"synthetic": False}
        return {
            "synthetic": True,
            "synthetic_notice": self.notice,
            "synthetic_evidence": self.evidence,
        }

    @classmethod
    def from_record(cls, record: Mapping | None) -> Provenance:
        """The provenance a ``data`` section records (absent: not known, not marked)."""
        record = record or {}
        if not record.get("synthetic"):
            return UNKNOWN
        return cls(True, record.get("synthetic_notice"), record.get("synthetic_evidence"))

    @property
    def label(self) -> str:
        """``" (SYNTHETIC data)"`` for synthetic data, else nothing: for printed lines."""
        return " (SYNTHETIC data)" if self.synthetic else ""


UNKNOWN = Provenance()


def synthetic_sidecar_path(table: str | os.PathLike) -> Path:
    """``<table without suffix>.synthetic.json``: the sidecar of a synthetic table."""
    p = Path(table)
    return p.with_name(p.stem + ".synthetic.json")


def read_synthetic_marker(path: Path, key: str = "synthetic") -> dict | None:
    """The JSON object at ``path`` when it marks data as synthetic (``key`` true);
    an unreadable one marks them too: its presence is the evidence, and losing the
    mark is the worse mistake."""
    if not path.is_file():
        return None
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {"notice": f"{path.name} is unreadable; its presence marks the data SYNTHETIC"}
    if not isinstance(obj, dict) or not obj.get(key):
        return None
    return obj


def sidecar_paths(output: str | os.PathLike) -> tuple[Path, Path]:
    """``(<stem>.boreholes.csv, <stem>.manifest.json)``: what ``build-dataset`` writes
    beside its output table (the manifest records whether its inputs were synthetic)."""
    out = Path(output)
    return out.with_name(out.stem + ".boreholes.csv"), out.with_name(out.stem + ".manifest.json")


def table_provenance(table: str | os.PathLike | None) -> Provenance:
    """The provenance of a table file, from its synthetic sidecar or build manifest."""
    if not table:
        return UNKNOWN
    side = synthetic_sidecar_path(table)
    info = read_synthetic_marker(side, "synthetic")
    if info is not None:
        return Provenance(True, str(info.get("notice") or "SYNTHETIC data"), str(side))
    manifest = sidecar_paths(table)[1]
    info = read_synthetic_marker(manifest, "synthetic_inputs")
    if info is not None:
        notice = info.get("synthetic_notice") or info.get("notice")
        return Provenance(True, str(notice or "built from SYNTHETIC files"), str(manifest))
    return UNKNOWN
