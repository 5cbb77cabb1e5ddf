"""Where the evaluated data came from: the table itself and whether it is SYNTHETIC."""

from __future__ import annotations

import os

from lilyvae.data.provenance import table_provenance
from lilyvae.files import read_json_file


def read_synthetic_sidecar(table: str | os.PathLike | None) -> dict | None:
    """A synthetic table's sidecar (``<stem>.synthetic.json``), or None when the table
    has none; a corrupt sidecar is a one-line error naming it."""
    if not table:
        return None
    from lilyvae.synthetic.generator import sidecar_path

    side = sidecar_path(table)
    if not side.is_file():
        return None
    return read_json_file(side, "synthetic-table sidecar")


def synthetic_notice(path: str | os.PathLike | None) -> str | None:
    """The notice of a SYNTHETIC table (its ``<stem>.synthetic.json`` sidecar, or the
    build manifest of a table built from synthetic files), or None."""
    return table_provenance(path).notice
