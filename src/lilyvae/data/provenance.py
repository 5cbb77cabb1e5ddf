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

A synthetic table also carries a mark of its own, so that one copied without its
sidecar is not taken for real data (:func:`write_marked_table`, :func:`carries_mark`):
in a CSV every ``Depth_Bin`` is written with three extra trailing zeros (``42.2000``:
the same value, so every parsed bit and every trained model is unchanged); a Parquet
file holds the key ``lilyvae.synthetic`` in its schema metadata. A table with the mark
and no sidecar is labelled SYNTHETIC, with a one-line warning.
"""

from __future__ import annotations

import json
import os
import re
import sys
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


#: Appended to each Depth_Bin of a synthetic CSV: zeros after the decimals keep the value.
DEPTH_MARK = "000"
PARQUET_MARK = b"lilyvae.synthetic"
_MARKED_DEPTH = re.compile(r"^\d+\.\d*" + DEPTH_MARK + r"$")
#: Rows of a CSV the mark is looked for in (its first ones: reading stays cheap).
_MARK_ROWS = 50
_warned: set[str] = set()


def write_marked_table(df, path: str | os.PathLike, fmt: str) -> None:
    """Write a synthetic table (``fmt`` "csv" or "parquet") carrying the mark."""
    import numpy as np

    from lilyvae.data.csv_text import write_csv
    from lilyvae.data.schema import DEPTH_COL

    if fmt == "csv":
        out = df.copy()
        depth = out[DEPTH_COL].to_numpy(dtype=float).astype(str)
        plain = (np.char.find(depth, ".") >= 0) & (np.char.find(depth, "e") < 0)
        out[DEPTH_COL] = np.where(plain, np.char.add(depth, DEPTH_MARK), depth)
        write_csv(out, path)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), PARQUET_MARK: b"true"}
    pq.write_table(table.replace_schema_metadata(metadata), path)


def carries_mark(table: str | os.PathLike) -> bool:
    """Whether a table file carries the synthetic generator's mark (see the module)."""
    path = Path(table)
    if not path.is_file():
        return False
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return PARQUET_MARK in (pq.read_schema(path).metadata or {})
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = [fh.readline() for _ in range(_MARK_ROWS + 1)]
    except (OSError, ValueError):
        return False
    from lilyvae.data.schema import DEPTH_COL

    rows = [line.rstrip("\r\n").split(",") for line in head if line.strip()]
    if len(rows) < 2 or DEPTH_COL not in rows[0]:
        return False
    j = rows[0].index(DEPTH_COL)
    return all(len(r) > j and _MARKED_DEPTH.match(r[j]) for r in rows[1:])


def _unmarked_synthetic(table: str | os.PathLike) -> Provenance:
    side = synthetic_sidecar_path(table)
    notice = (
        f"SYNTHETIC data: {Path(table).name} carries lilyvae's synthetic generator's mark, "
        f"but its sidecar {side.name} is missing"
    )
    if str(table) not in _warned:
        _warned.add(str(table))
        print(
            f"warning: {table}: {notice[len('SYNTHETIC data: ') :]}; labelled SYNTHETIC",
            file=sys.stderr,
        )
    return Provenance(True, notice, str(table))


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
    if carries_mark(table):
        return _unmarked_synthetic(table)
    return UNKNOWN
