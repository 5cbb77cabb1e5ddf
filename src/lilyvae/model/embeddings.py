"""Embeddings: the posterior means of trained models, added to a table.

Stage one of the downstream half (embeddings -> evaluation -> figures -> report). Only
a checkpoint and its model card are needed: the card carries the scaler and the input
columns, so no training table is read.

Typical use from Python::

    from lilyvae.model.embeddings import load_models, embed_frame
    models = load_models(["models/unsup.pt", "semi=models/semisup.pt"])
    table = embed_frame(df, models)          # df plus unsup_emb_0..9, semi_emb_0..9

A model's name prefixes its columns (``<name>_emb_<i>``). By default the name comes
from the model's kind (``unsup`` or ``semisup``, as the reference's ``unsup_emb_*``
and ``semisup_emb_*``); ``NAME=PATH`` names it explicitly. Two models may not share a
name.

Rows with a missing input (a bin without a colour scan): a model trained with
``missing="mask"`` embeds every row that has at least one input; a ``"drop"`` model
(the reference's way) only rows with all six, and leaves the others NaN
(:func:`rows_without_embedding` says how many, and the command prints it).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.provenance import UNKNOWN, Provenance, synthetic_sidecar_path, table_provenance
from lilyvae.data.schema import FEATURE_COLS, LABEL_COL
from lilyvae.data.tables import (
    feature_values,
    table_format,
    table_lines,
    write_table,
)
from lilyvae.errors import LilyVAEError
from lilyvae.files import (
    atomic_path,
    check_output_path,
    refuse_overwriting_inputs,
    sha256_file,
    to_json,
)
from lilyvae.model.card import check_input_columns
from lilyvae.model.checkpoint import TrainedModel, load_model
from lilyvae.model.networks import MODEL_CLASSES

#: Default column prefix per model kind (the reference's ``unsup_emb_*``/``semisup_emb_*``).
DEFAULT_NAMES = {kind: cls.short_name for kind, cls in MODEL_CLASSES.items()}

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


@dataclass
class NamedModel:
    """A trained model, the name that prefixes its columns, and where it was read from."""

    name: str
    path: Path | None
    model: TrainedModel

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def has_head(self) -> bool:
        return self.model.has_head

    @property
    def recipe(self) -> str | None:
        try:
            return self.model.card.recipe
        except (KeyError, TypeError):
            return None


def parse_model_arg(text: str | os.PathLike) -> tuple[str | None, Path]:
    """``"NAME=PATH"`` or ``"PATH"`` -> (name or None, path)."""
    text = os.fspath(text)
    head, sep, tail = text.partition("=")
    if sep and _NAME_RE.match(head) and tail:
        return head, Path(tail)
    if sep and not head:
        raise LilyVAEError(f"--model {text!r}: empty model name before '='")
    return None, Path(text)


def embedding_columns(name: str, latent_dim: int) -> list[str]:
    return [f"{name}_emb_{i}" for i in range(latent_dim)]


def _check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise LilyVAEError(
            f"model name {name!r}: use letters, digits, '_', '.' or '-', starting with a letter"
        )
    return name


def load_models(specs: Iterable) -> list[NamedModel]:
    """Load checkpoints (each ``.pt`` with its ``.meta.json``) and name them.

    ``specs`` holds ``"NAME=PATH"`` or ``"PATH"`` strings, paths, ``(name, path)``
    pairs, or :class:`NamedModel` objects. Unnamed models take the default name of
    their kind; a repeated name is an error.
    """
    out: list[NamedModel] = []
    for spec in specs:
        if isinstance(spec, NamedModel):
            item = spec
        else:
            if isinstance(spec, tuple):
                name, path = spec[0], Path(spec[1])
            else:
                name, path = parse_model_arg(spec)
            trained = load_model(path)
            item = NamedModel(_check_name(name or DEFAULT_NAMES[trained.kind]), path, trained)
        out.append(item)
    if not out:
        raise LilyVAEError("no model given; pass at least one --model PATH")
    seen: dict[str, NamedModel] = {}
    for item in out:
        if item.name in seen:
            raise LilyVAEError(
                f"two models are named {item.name!r} ({seen[item.name].path} and {item.path}); "
                "name them with --model NAME=PATH"
            )
        seen[item.name] = item
    return out


def as_named_models(models) -> list[NamedModel]:
    """Accept a list of NamedModel / specs, or a mapping name -> TrainedModel or path."""
    if isinstance(models, Mapping):
        items = []
        for name, value in models.items():
            if isinstance(value, TrainedModel):
                items.append(NamedModel(_check_name(name), None, value))
            else:
                items.append((name, value))
        return load_models(items)
    if isinstance(models, (NamedModel, TrainedModel, str, os.PathLike)):
        models = [models]
    items = [
        NamedModel(DEFAULT_NAMES[m.kind], None, m) if isinstance(m, TrainedModel) else m
        for m in models
    ]
    return load_models(items)


def input_columns(model: NamedModel) -> list[str]:
    """The raw columns a model reads, from its card (the package's six by default),
    by the rule its card was validated with when loaded."""
    return list(check_input_columns(model.model.card.input_columns, f"model {model.name!r}"))


def require_model_inputs(df: pd.DataFrame, models: list[NamedModel], source: str) -> None:
    for m in models:
        missing = [c for c in input_columns(m) if c not in df.columns]
        if missing:
            raise LilyVAEError(
                f"{source}: missing input column(s) {', '.join(map(repr, missing))} "
                f"needed by model {m.name!r}"
            )


def embeddable_rows(values: np.ndarray, model: NamedModel) -> np.ndarray:
    """(n,) bool: the rows of raw inputs (NaN = missing) the model embeds: those with
    every input for a ``drop`` model, with any for a ``mask`` model."""
    present = np.isfinite(values)
    return present.any(axis=1) if model.model.missing == "mask" else present.all(axis=1)


def check_scalable(values: np.ndarray, model: NamedModel, source: str) -> None:
    """Refuse inputs the model's scaler cannot scale (a GRA of 1e308 overflows to an
    infinite scaled value, and the embedding to NaN), naming the column, the count and
    the first place, as training refuses them."""
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = model.model.scaler.transform(values, allow_missing=True)
    bad = np.isfinite(values) & ~np.isfinite(scaled)
    if not bad.any():
        return
    rows = bad.any(axis=1)
    first = int(np.flatnonzero(rows)[0])
    j = int(np.flatnonzero(bad[first])[0])
    try:
        place = table_lines(source, len(values))[first]
    except LilyVAEError:  # not a table file (a DataFrame): name the row
        place = f"row {first + 1}"
    raise LilyVAEError(
        f"{source}: {int(bad.sum()):,} value(s) too large for model {model.name!r} to scale "
        f"(first: {place}, {FEATURE_COLS[j]!r} = {values[first, j]:.3g}); remove or "
        "correct those rows"
    )


def embed_arrays(df: pd.DataFrame, models, source: str = "data") -> dict[str, np.ndarray]:
    """One (n, latent_dim) float32 array per model name; NaN rows where the model reads
    no embedding: an input is missing or non-finite (``drop`` models), or every input
    is (``mask`` models)."""
    models = as_named_models(models)
    require_model_inputs(df, models, source)
    values = feature_values(df)
    out = {}
    for m in models:
        check_scalable(values, m, source)
        emb = np.full((len(df), m.model.module.latent_dim), np.nan, dtype=np.float32)
        rows = embeddable_rows(values, m)
        if rows.any():
            emb[rows] = m.model.embed(values[rows])
        out[m.name] = emb
    return out


def rows_without_embedding(arrays: Mapping[str, np.ndarray]) -> dict[str, int]:
    """Per model name, the rows its embedding leaves NaN."""
    return {name: int(np.isnan(a).any(axis=1).sum()) if a.size else 0 for name, a in arrays.items()}


def embed_frame(df: pd.DataFrame, models, source: str = "data") -> pd.DataFrame:
    """``df`` plus ``<name>_emb_0..k`` columns per model (existing ones are replaced).

    Rows a model cannot read get NaN embeddings: rows with a missing or non-finite
    input for a ``drop`` model, rows without any input for a ``mask`` model.
    """
    return add_embedding_columns(df, embed_arrays(df, models, source))


def add_embedding_columns(df: pd.DataFrame, arrays: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """``df`` plus ``<name>_emb_<i>`` columns from ``{name: (n, k) array}``."""
    out = df.copy()
    for name, emb in arrays.items():
        cols = embedding_columns(name, emb.shape[1])
        stale = [c for c in out.columns if str(c).startswith(f"{name}_emb_")]
        out = out.drop(columns=stale)
        out = pd.concat([out, pd.DataFrame(emb, columns=cols, index=out.index)], axis=1)
    return out


def embedding_matrix(table: pd.DataFrame, name: str) -> np.ndarray:
    """The ``<name>_emb_*`` columns of an embedded table, in index order."""
    prefix = f"{name}_emb_"
    cols = [
        c for c in table.columns if str(c).startswith(prefix) and str(c)[len(prefix) :].isdigit()
    ]
    if not cols:
        raise LilyVAEError(f"the table has no {prefix}* columns")
    cols.sort(key=lambda c: int(str(c)[len(prefix) :]))
    return table[cols].to_numpy(np.float32)


def embedded_names(table: pd.DataFrame) -> list[str]:
    """Model names with ``<name>_emb_0`` columns in an embedded table, in column order."""
    return [str(c)[: -len("_emb_0")] for c in table.columns if str(c).endswith("_emb_0")]


def npz_arrays(df: pd.DataFrame, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The reference's ``embeddings.npz`` layout: one array per model name (``unsup``,
    ``semisup``), ``y`` (label index per row in sorted name order, as a LabelEncoder
    gives; -1 where the label is missing) and ``class_names`` (plain strings)."""
    out = {name: np.asarray(a, dtype=np.float32) for name, a in arrays.items()}
    for reserved in ("y", "class_names"):
        if reserved in out:
            raise LilyVAEError(f"model name {reserved!r} clashes with an npz entry; rename it")
    if LABEL_COL in df.columns:
        names = df[LABEL_COL].astype("string").str.strip()
        names = names.mask(names == "")
        classes = sorted(names.dropna().unique())
        y = pd.Categorical(names, categories=classes).codes.astype(np.int64)
    else:
        classes, y = [], np.full(len(df), -1, dtype=np.int64)
    out["y"] = y
    out["class_names"] = np.asarray(classes, dtype=str)
    return out


@dataclass
class EmbedResult:
    table: pd.DataFrame
    names: list[str]
    rows: int
    rows_without_embedding: int  # rows some model left NaN
    output: Path | None
    npz: Path | None
    #: Per model: rows it left NaN (a drop model: every row lacking an input).
    without_embedding: dict[str, int] = field(default_factory=dict)
    #: Rows of the table lacking some input (a bin without colour, say).
    rows_partial: int = 0
    #: Per model: "drop" or "mask" (how it treats rows with a missing input).
    missing: dict[str, str] = field(default_factory=dict)
    #: The SYNTHETIC markers written beside the outputs (none for data not marked).
    synthetic_sidecars: list[Path] = field(default_factory=list)


def _check_output(path: Path, allowed: tuple[str, ...]) -> None:
    if path.suffix.lower() not in allowed:
        raise LilyVAEError(f"{path}: the output name must end in {' or '.join(allowed)}")
    check_output_path(path)


def _write_npz_file(tmp: Path, arrays: Mapping[str, np.ndarray]) -> None:
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def write_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        _write_npz_file(tmp, arrays)
    return path


def embedding_sidecar(origin: Provenance, source: str, models, files: Mapping[str, str]) -> dict:
    """The SYNTHETIC marker of embeddings computed from a synthetic table: the same
    ``*.synthetic.json`` a synthetic table has, so that a later step reading the output
    (figures, another model) knows it is not real data. ``files``: name -> sha256."""
    return {
        "synthetic": True,
        "notice": origin.notice or "SYNTHETIC data",
        "table": next(iter(files)),
        "files": dict(files),
        "derived_from": source,
        "derived_from_evidence": origin.evidence,
        "written_by": "lilyvae embed",
        "models": {m.name: str(m.path) for m in models},
    }


def write_embedding_files(writers: Mapping[Path, Callable[[Path], None]], sidecar) -> list[Path]:
    """Write the outputs and, when ``sidecar`` is given (``files -> dict``), the
    synthetic marker beside each, as one set: all are written to temporary files first
    and moved into place together, the markers first, so that an interrupted or failed
    write never leaves an output without its marker. Returns the markers written."""
    with contextlib.ExitStack() as stack:
        temporary = {path: stack.enter_context(atomic_path(path)) for path in writers}
        for path, write in writers.items():
            write(temporary[path])
        if sidecar is not None:
            groups: dict[Path, dict[str, str]] = {}
            for path in writers:
                files = groups.setdefault(synthetic_sidecar_path(path), {})
                files[path.name] = sha256_file(temporary[path])
            for side, files in groups.items():
                stack.enter_context(atomic_path(side)).write_text(
                    to_json(sidecar(files)), encoding="utf-8"
                )
            return list(groups)
    return []


def embed_table(
    data: str | os.PathLike | pd.DataFrame,
    models,
    output: str | os.PathLike | None = None,
    npz: str | os.PathLike | None = None,
) -> EmbedResult:
    """Embed every row of a table with each model; write the table and/or an ``.npz``.

    ``output`` ends in ``.csv`` or ``.parquet``; ``npz`` in ``.npz``. Output names are
    checked before any work is done.
    """
    from lilyvae.data.tables import read_table

    inputs = {} if isinstance(data, pd.DataFrame) else {"--data": data}
    origin = UNKNOWN if isinstance(data, pd.DataFrame) else table_provenance(data)
    if origin.synthetic:
        inputs["--data's SYNTHETIC sidecar"] = synthetic_sidecar_path(data)
    if output is not None:
        output = Path(output)
        _check_output(output, (".csv", ".parquet", ".pq"))
        refuse_overwriting_inputs(output, inputs)
    if npz is not None:
        npz = Path(npz)
        _check_output(npz, (".npz",))
        refuse_overwriting_inputs(npz, inputs)
    if origin.synthetic:
        for path in (output, npz):
            if path is not None:
                side = check_output_path(synthetic_sidecar_path(path))
                refuse_overwriting_inputs(side, inputs)
    models = as_named_models(models)
    if isinstance(data, pd.DataFrame):
        df, source = data, "data"
    else:
        df, source = read_table(data, check=True), str(data)
    require_model_inputs(df, models, source)
    arrays = embed_arrays(df, models, source)
    table = add_embedding_columns(df, arrays) if output is not None else df
    writers: dict[Path, Callable[[Path], None]] = {}
    if output is not None:
        fmt = table_format(output)
        writers[output] = lambda tmp: write_table(table, tmp, fmt)
    if npz is not None:
        npz_data = npz_arrays(df, arrays)
        writers[npz] = lambda tmp: _write_npz_file(tmp, npz_data)
    sidecar = None
    if origin.synthetic:
        sidecar = functools.partial(embedding_sidecar, origin, source, models)
    sidecars = write_embedding_files(writers, sidecar)
    without = rows_without_embedding(arrays)
    partial = int((~np.isfinite(feature_values(df)).all(axis=1)).sum())
    names = [m.name for m in models]
    most = max(without.values(), default=0)
    modes = {m.name: m.model.missing for m in models}
    return EmbedResult(table, names, len(df), most, output, npz, without, partial, modes, sidecars)
