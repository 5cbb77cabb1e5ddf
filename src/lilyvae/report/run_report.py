"""Report: one self-contained HTML file for a run.

Stage four of the downstream half (embeddings -> evaluation -> figures -> report). The
file embeds every figure as base64 PNG and carries the metric tables, the model cards,
the data's provenance and, for synthetic data, the caveat, so it can be mailed or
opened from anywhere with a browser. It holds no script and loads nothing.

Inputs are what a run directory holds (found through :class:`RunDir`):
``metrics.json`` (from ``lilyvae evaluate``), ``figures/figures.json`` with its PNGs
(from ``lilyvae figures``) and the model checkpoints' ``.meta.json`` cards. Each section
of the page is built by its own function, in page order, from :func:`build_report`.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from lilyvae import __version__
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation import (
    SYNTHETIC_LABEL,
    Table,
    coverage_table,
    format_value,
    gmm_components,
    metric_tables,
    read_synthetic_sidecar,
    summary_table,
)
from lilyvae.files import to_json, write_text_atomic
from lilyvae.model.card import ModelCard
from lilyvae.model.checkpoint import card_path, read_card
from lilyvae.report.ensemble_report import ensemble_report_html
from lilyvae.report.ensemble_run import is_ensemble_dir, read_ensemble
from lilyvae.report.html_blocks import document, figures_section

# The page's pieces, shared with the ensembles' report (here under their old names).
from lilyvae.report.html_blocks import escape as _e
from lilyvae.report.html_blocks import table_html as _table_html
from lilyvae.report.new_core_section import new_core_section
from lilyvae.report.run_contents import run_models
from lilyvae.report.seeds_section import seeds_section
from lilyvae.run_folder import RunDir

_FOOTER = (
    '<footer class="note"><hr>The embedding explorer is drawn with Plotly, its library '
    "inlined in this file so that nothing is fetched when the page is opened (offline, at "
    "sea); Plotly's own menus switch the colouring and the layout, where Bokeh, the other "
    "library that writes such pages, would need JavaScript of ours to do it.</footer>"
)


def _table_section(table: Table, heading: str = "h3") -> list[str]:
    table, left_out = without_empty_cells(table)
    return [
        f"<{heading}>{_e(table.title)}</{heading}>",
        _table_html(table.columns, table.rows),
        f'<p class="note">{_e(table.note)}{_e(left_out)}</p>',
    ]


#: Why a column of the missing-colour tables may hold no value at all.
_EMPTY_COLUMN_WHY = {
    "head bal. acc": "only semi-supervised models have a classification head",
    "embedding shift": "only models trained with --missing mask embed a row without its colour",
}


def _is_empty(value) -> bool:
    return value is None or format_value(value) == "n/a"


def without_empty_cells(table: Table) -> tuple[Table, str]:
    """The table without its columns that hold no value in any row, and without the
    rows that hold no value in any column where other rows have one; with a sentence
    saying what was left out and why (a table whose every row is empty stays whole)."""
    rows = table.rows
    if not rows:
        return table, ""
    empty_columns = [j for j in range(1, len(table.columns)) if all(_is_empty(r[j]) for r in rows)]
    keep = [j for j in range(len(table.columns)) if j not in empty_columns]
    # Columns that can be empty: a row empty in all of them says nothing.
    optional = [j for j in keep if any(_is_empty(r[j]) for r in rows)]
    full = [r for r in rows if not optional or not all(_is_empty(r[j]) for j in optional)]
    if not full:
        full = rows
    notes = []
    if len(full) < len(rows):
        dropped = [" / ".join(str(v) for v in r[:3]) for r in rows if r not in full]
        notes.append(
            f"Left out: {len(dropped)} rows without any score ({'; '.join(dropped)}): the "
            "representation has no embedding of those rows (a model trained with --missing "
            "drop reads only rows with all six inputs) or no such score."
        )
    if empty_columns:
        names = [table.columns[j] for j in empty_columns]
        why = [f"{n} ({_EMPTY_COLUMN_WHY[n]})" if n in _EMPTY_COLUMN_WHY else n for n in names]
        notes.append(f"Left out, no value in any row: {'; '.join(why)}.")
    shown = Table(
        table.title,
        [table.columns[j] for j in keep],
        [[r[j] for j in keep] for r in full],
        table.note,
    )
    return shown, (" " + " ".join(notes)) if notes else ""


def _head(run: RunDir, metrics: dict, title: str, synthetic: bool) -> list[str]:
    """Title, provenance line, navigation, the SYNTHETIC and IN-SAMPLE banners, warnings."""
    ev = metrics["evaluation"]
    written = datetime.datetime.now().isoformat(timespec="seconds")
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="note">Run folder <code>{_e(run.root.resolve().name)}</code>; written '
        f"{_e(written)} by lilyvae {_e(__version__)}.</p>",
        '<nav><a href="#summary">summary</a><a href="#metrics">metrics</a>'
        '<a href="#coverage">coverage</a>'
        '<a href="#figures">figures</a><a href="#explorer">embedding explorer</a>'
        '<a href="#models">models</a>'
        '<a href="#data">data</a><a href="#evaluation">evaluation set-up</a></nav>',
    ]
    if synthetic:
        parts.append(
            f'<div class="banner synthetic" id="synthetic-caveat">{_e(_synthetic_words(metrics))} '
            "Every number and figure below "
            "describes the synthetic data set made by lilyvae's generator, not the LILY "
            "database; they show that the pipeline works, not how the models do on real "
            "cores.</div>"
        )
    if ev["mode"] == "IN-SAMPLE":
        parts.append(
            '<div class="banner insample" id="mode">IN-SAMPLE: the model cards record no '
            "held-out boreholes present in the data, so the encoders were trained on the rows "
            f"they are scored on. {_e(ev['split'])}.</div>"
        )
    else:
        parts.append(
            f'<div class="banner heldout" id="mode">Scored on held-out boreholes: '
            f"{_e(ev['split'])}.</div>"
        )
    if ev.get("warnings"):
        items = "".join(f"<li>{_e(w)}</li>" for w in ev["warnings"])
        parts.append(f'<ul class="warnings">{items}</ul>')
    return parts


def _synthetic_words(metrics: dict) -> str:
    """The banner's first words: the table's notice, which names SYNTHETIC data itself,
    else SYNTHETIC DATA and whatever the metrics say."""
    notice = (metrics.get("synthetic_notice") or "").strip()
    if notice.upper().startswith(SYNTHETIC_LABEL):
        return notice
    return f"{SYNTHETIC_LABEL} DATA. {notice}".strip()


def _metrics_section(metrics: dict) -> list[str]:
    """The summary table, every metric table, and which lithologies the split left out."""
    ev = metrics["evaluation"]
    parts = ['<h2 id="summary">Summary</h2>']
    parts += _table_section(summary_table(metrics))[1:]
    parts.append('<h2 id="metrics">Metrics</h2>')
    for table in metric_tables(metrics):
        parts += _table_section(table)
    cov = ev["coverage"]
    parts.append("<h3>Lithologies and the split</h3>")
    parts.append(
        f'<p class="note">{cov["classes_in_table"]} lithologies in the table, '
        f"{cov['classes_in_training_rows']} in training-borehole rows, "
        f"{cov['classes_in_held_out_rows']} in held-out rows. Only in held-out boreholes (no "
        "classifier can predict them): "
        f"{_e(', '.join(cov['classes_without_training_rows']) or 'none')}. "
        "Not in held-out boreholes (not scored): "
        f"{_e(', '.join(cov['classes_without_held_out_rows']) or 'none')}.</p>"
    )
    if ev.get("skipped"):
        parts.append('<p class="note">Skipped: ' + _e("; ".join(ev["skipped"].values())) + "</p>")
    return parts


def _coverage_section(metrics: dict, manifest: dict | None) -> list[str]:
    """Bins and boreholes embedded with and without colour, and where the figure with
    the map is."""
    table = coverage_table(metrics)
    if table is None:
        return []
    drawn = any(f.get("name") == "coverage" for f in (manifest or {}).get("figures", []))
    where = (
        '<p class="note">On the map: <a href="#fig-coverage">the coverage figure</a>.</p>'
        if drawn
        else ""
    )
    return ['<h2 id="coverage">Coverage</h2>', *_table_section(table)[1:], where]


def _figures_section(run: RunDir, manifest: dict | None) -> list[str]:
    """Every figure of the manifest, embedded, with its caption."""
    return figures_section(run.figures_dir, manifest)


def _explorer_section(run: RunDir, manifest: dict | None, synthetic: bool) -> list[str]:
    """The interactive view of the UMAP layouts, from the rows ``lilyvae figures`` kept."""
    from lilyvae.report.figures.explorer import explorer_html, read_explorer_points

    parts = ['<h2 id="explorer">Embedding explorer</h2>']
    entry = (manifest or {}).get("explorer")
    if not entry:
        return parts + [
            '<p class="note">No explorer: it shows the UMAP layouts, which '
            "<code>lilyvae figures</code> draws when there are models and lithology labels.</p>"
        ]
    parts.append(
        f'<p class="note">The UMAP layouts of the figures above, one point per row: '
        f"{entry['rows']:,} of the table's {entry['rows_in_table']:,} usable rows (the UMAP "
        f"subsample: {entry['held_out_rows']:,} of held-out boreholes, the rest of training "
        "boreholes; a subsample keeps the layouts quick and this page small). Hover a point "
        "for its borehole, depth, lithology and measurements; choose the colouring and the "
        "representation laid out in the menus. Clusters: a Gaussian mixture on each model's "
        "embedding, fitted on training-borehole rows.</p>"
    )
    points = read_explorer_points(run.figures_dir, entry)
    title = (f"{SYNTHETIC_LABEL} data: " if synthetic else "") + "UMAP layouts of the embeddings"
    return parts + [explorer_html(points, title)]


_MODEL_COLUMNS = [
    "model",
    "kind",
    "recipe",
    "epochs",
    "seed",
    "rows trained",
    "held-out boreholes",
    "labels withheld",
    "trained on",
    "training s",
    "checkpoint",
]


def _model_row(name: str, info: dict, root: Path) -> list:
    """A model's row of the models' table, from what ``metrics.json`` records of it."""
    return [
        name,
        info.get("kind"),
        info.get("recipe"),
        info.get("epochs"),
        info.get("seed"),
        info.get("rows_trained"),
        info.get("held_out_boreholes"),
        ", ".join(info.get("labels_withheld") or []) or "-",
        "SYNTHETIC data" if info.get("trained_on_synthetic") else "-",
        info.get("wall_time_s"),
        shown_path(info.get("checkpoint"), root),
    ]


def _model_cards(run: RunDir, metrics: dict) -> tuple[dict[str, ModelCard], str | None]:
    """The cards of the run's models, and why they were not found (or None).

    A checkpoint that cannot be found is a note in the report; a card that is there but
    corrupt is an error naming it."""
    try:
        models = run_models(run, metrics)
    except LilyVAEError as exc:
        return {}, str(exc)
    return {name: read_card(path) for name, path in models if card_path(path).is_file()}, None


def _models_section(run: RunDir, metrics: dict) -> list[str]:
    """The models' table and each model card in full (folded)."""
    rows = [_model_row(name, info, run.root) for name, info in metrics["models"].items()]
    parts = ['<h2 id="models">Models</h2>', _table_html(_MODEL_COLUMNS, rows)]
    cards, not_found = _model_cards(run, metrics)
    if not_found:
        parts.append(f'<p class="note">Model cards not found: {_e(not_found)}</p>')
    for name, card in cards.items():
        file = card_path(card.checkpoint_file or name + ".pt").name
        shown = without_folders(card.to_dict(), run.root)
        parts.append(
            f"<details><summary>model card of <b>{_e(name)}</b> ({_e(file)})"
            f"</summary><pre>{_e(to_json(shown))}</pre></details>"
        )
    return parts


_DATA_FIELDS = {
    "table": "path",
    "sha256": "sha256",
    "rows read": "rows_read",
    "rows dropped": "rows_dropped",
    "rows used": "rows_used",
    "labelled": "rows_labelled",
    "lithologies": "n_classes",
    "boreholes": "boreholes",
}


def shown_path(path, root: Path) -> str | None:
    """A path as the report shows it: relative to the run folder when inside it, else
    only its name (a report is shared; the folders of the machine it was made on are
    nobody else's business and may say who made it)."""
    if not path:
        return None
    path = Path(path)
    # A relative path was recorded from where the command ran, or from the run folder.
    for candidate in (path, root / path):
        try:
            return candidate.resolve().relative_to(root.resolve()).as_posix()
        except (ValueError, OSError):
            continue
    return path.name


def without_folders(value, root: Path):
    """``value`` (a card, a sidecar: JSON-like) with every absolute path in it shown as
    :func:`shown_path` shows it."""
    if isinstance(value, dict):
        return {k: without_folders(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [without_folders(v, root) for v in value]
    if isinstance(value, str) and os.path.isabs(value):
        return shown_path(value, root)
    return value


def _data_section(run: RunDir, metrics: dict) -> list[str]:
    """The table's provenance (a field per row, long values wrapped) and, for a
    synthetic table, its sidecar."""
    d = metrics["data"]
    values = {**d, "path": shown_path(d.get("path"), run.root)}
    rows = [[label, values.get(key)] for label, key in _DATA_FIELDS.items()]
    parts = [
        '<h2 id="data">Data provenance</h2>',
        _table_html(["field", "value"], rows, cls="metrics fields"),
    ]
    if d.get("synthetic"):
        parts.append(
            f'<p class="note" id="data-synthetic">Marked {SYNTHETIC_LABEL} by '
            f"<code>{_e(shown_path(d.get('synthetic_evidence'), run.root) or 'the model cards')}"
            "</code> (see the caveat at the top).</p>"
        )
    info = read_synthetic_sidecar(d.get("path"))
    if info is not None:
        from lilyvae.synthetic.generator import sidecar_path

        info = without_folders(info, run.root)
        shown = {k: v for k, v in info.items() if k != "parameters"}
        parts.append(
            f'<p class="note">Synthetic sidecar <code>{_e(sidecar_path(d["path"]).name)}</code>:'
            f"</p><pre>{_e(to_json(shown))}</pre>"
            f"<details><summary>generator parameters</summary>"
            f"<pre>{_e(to_json(info.get('parameters')))}</pre></details>"
        )
    return parts


def _scoring_time(metrics: dict) -> str:
    """``evaluate``'s wall time for the models of ``metrics.json``, and its parts."""
    total = metrics.get("wall_time_s")
    if total is None:
        return "not recorded"
    parts = [
        f"{name} {s['seconds']:.0f} s"
        for name, s in metrics["subjects"].items()
        if isinstance(s.get("seconds"), (int, float))
    ]
    rest = total - sum(s.get("seconds") or 0 for s in metrics["subjects"].values())
    if metrics.get("missing_colour"):
        parts.append(f"the missing-colour groups and the rest {rest:.0f} s")
    return f"{total:.0f} s wall time" + (f" ({', '.join(parts)})" if parts else "")


def _setup_section(
    root: Path, metrics: dict, manifest: dict | None, seeds: dict | None
) -> list[str]:
    """How the evaluation was made, its time, and the figures' parameters."""
    ev, cfg = metrics["evaluation"], metrics["evaluation"]["config"]
    settings = [
        ["mode", ev["mode"]],
        ["split", ev["split"]],
        ["rows fitting the downstream models", ev["rows_train"]],
        ["rows scored", ev["rows_test"]],
        ["SVM rows (training / scored)", f"{ev['svm_train_rows']:,} / {ev['svm_test_rows']:,}"],
        ["GMM", f"{gmm_components(ev)}, {ev['gmm_fit_rows']:,} rows"],
        ["seed", cfg["seed"]],
        ["ROC classes", ", ".join(ev["top_classes"])],
        ["zero-shot classes", f"{', '.join(ev['zero_shot_classes'])} ({ev['zero_shot_source']})"],
        ["held-out boreholes", ", ".join(ev["held_out_boreholes"]) or "-"],
        ["time to score these models (evaluate)", _scoring_time(metrics)],
    ]
    parts = [
        '<h2 id="evaluation">Evaluation set-up</h2>',
        _table_html(["setting", "value"], settings, cls="metrics fields"),
    ]
    if seeds:
        parts.append(
            '<p class="note">The demo\'s log times its whole "evaluation" stage: this '
            "scoring, writing the metrics and scoring every other seed's models "
            "(<code>seeds.json</code>), so its figure is larger.</p>"
        )
    if manifest is not None:
        shown = without_folders(manifest.get("parameters", {}), root)
        parts.append(f"<pre>{_e(to_json(shown))}</pre>")
    return parts


def build_report(
    run_dir: str | os.PathLike,
    output: str | os.PathLike | None = None,
    figures_dir: str | os.PathLike | None = None,
    title: str | None = None,
) -> Path:
    """Write ``<run>/report.html`` (or ``output``) from a run directory; return its path.

    An ensemble's directory (``run.json``, from ``lilyvae bootstrap`` or ``sweep``) gets
    its own report (:mod:`lilyvae.report.ensemble_report`)."""
    run = RunDir.existing(run_dir, figures=figures_dir)
    output = Path(output) if output else run.report
    if output.suffix.lower() not in (".html", ".htm"):
        raise LilyVAEError(f"{output}: the report's name must end in .html")
    if is_ensemble_dir(run.root):
        ensemble = read_ensemble(run.root)
        manifest = run.read_figure_manifest_if_present()
        write_text_atomic(output, ensemble_report_html(ensemble, manifest, title, run.figures_dir))
        return output
    metrics = run.read_metrics()
    manifest = run.read_figure_manifest_if_present()
    seeds = run.read_seeds_if_present()

    synthetic = bool(metrics.get("synthetic") or (manifest or {}).get("synthetic"))
    title = title or ("lilyvae report" + (f" ({SYNTHETIC_LABEL} data)" if synthetic else ""))
    parts = [
        *_head(run, metrics, title, synthetic),
        *_metrics_section(metrics),
        *_coverage_section(metrics, manifest),
        *seeds_section(seeds),
        *new_core_section(run.read_new_core_if_present(), run.new_core_dir),
        *_figures_section(run, manifest),
        *_explorer_section(run, manifest, synthetic),
        *_models_section(run, metrics),
        *_data_section(run, metrics),
        *_setup_section(run.root, metrics, manifest, seeds),
    ]
    write_text_atomic(output, document(title, [*parts, _FOOTER]))
    return output
