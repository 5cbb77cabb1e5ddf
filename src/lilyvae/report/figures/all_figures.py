"""Drawing every figure: the list of figure specifications, and the loop that draws
each one whose inputs are there into a folder with its ``figures.json`` manifest."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from lilyvae.data.provenance import table_provenance
from lilyvae.data.tables import read_table
from lilyvae.errors import LilyVAEError
from lilyvae.files import write_json_atomic
from lilyvae.model.embeddings import as_named_models
from lilyvae.report.ensemble_run import is_ensemble_dir
from lilyvae.report.figure_options import DEFAULT_DRAW
from lilyvae.report.figures.borehole_map import BOREHOLE_MAP
from lilyvae.report.figures.coverage import COVERAGE
from lilyvae.report.figures.data_figures import (
    DATASET_OVERVIEW,
    INPUT_DISTRIBUTIONS,
    LITHOLOGY_COUNTS,
)
from lilyvae.report.figures.downcore import DOWNCORE, check_boreholes
from lilyvae.report.figures.explorer import write_explorer_points
from lilyvae.report.figures.figure_spec import DrawOptions, FigureInputs, FigureSpec
from lilyvae.report.figures.group_figures import CLASS_RECALL, GROUP_CONFUSION
from lilyvae.report.figures.model_figures import LATENT_KL, PRIOR_SAMPLES, RECONSTRUCTION
from lilyvae.report.figures.model_outputs import adopt_mixtures, start_clusterings
from lilyvae.report.figures.property_figures import ZERO_SHOT_PROPERTIES
from lilyvae.report.figures.saving import (
    DrawnBefore,
    FigureInfo,
    FigureSet,
    drawn_before,
    save_figure,
)
from lilyvae.report.figures.score_figures import RELIABILITY, ROC, ZERO_SHOT
from lilyvae.report.figures.style import DPI, caption_tag, title_tag
from lilyvae.report.figures.training_curves import TRAINING_CURVES
from lilyvae.report.figures.umap_figure import UMAP, start_umap_run
from lilyvae.report.run_contents import run_embeddings, run_models, run_properties
from lilyvae.run_folder import MANIFEST, RunDir
from lilyvae.workers import side_pool

#: Every figure, in the order drawn and listed in ``figures.json``.
FIGURES: tuple[FigureSpec, ...] = (
    DATASET_OVERVIEW,
    INPUT_DISTRIBUTIONS,
    LITHOLOGY_COUNTS,
    BOREHOLE_MAP,
    COVERAGE,
    TRAINING_CURVES,
    RECONSTRUCTION,
    PRIOR_SAMPLES,
    LATENT_KL,
    ROC,
    RELIABILITY,
    GROUP_CONFUSION,
    CLASS_RECALL,
    ZERO_SHOT,
    ZERO_SHOT_PROPERTIES,
    UMAP,
    DOWNCORE,
)


#: Figures drawn in a worker process beside this one, when there is one (the side
#: pool's second worker; its first makes the UMAP layouts): about half of the drawing,
#: none of which reads what the other figures compute (layouts, mixtures). Drawing is
#: matplotlib on one core, so the demo's second core stood idle through most of it.
DRAWN_BESIDE = (
    "dataset_overview",
    "input_distributions",
    "training_curves",
    "reconstruction",
    "prior_samples",
)
#: Fewest table rows for which drawing beside is worth sending the inputs to a worker
#: (about a second for the demo's 238,506 rows and four models); below, all here.
BESIDE_MIN_ROWS = 50_000


def _draw_spec(spec, inputs, out: Path, pdf: bool, before: DrawnBefore, say):
    """One spec's figures (those ``before`` holds kept as they are), or the reason it is
    skipped: (figures, None) or ([], reason)."""
    if not spec.needs.met_by(inputs):
        return [], spec.needs.missing
    tag, cap_tag = title_tag(inputs.synthetic), caption_tag(inputs.synthetic)
    figures: list[FigureInfo] = []
    for name, figure_inputs in spec.instances(inputs):
        if name in before.figures:
            figures.append(before.figures[name])
            continue
        start = time.perf_counter()
        title = spec.title_for(figure_inputs, tag)
        png, pdf_name = save_figure(spec.draw(figure_inputs, title), out, name, pdf)
        caption = cap_tag + spec.caption_for(figure_inputs)
        seconds = round(time.perf_counter() - start, 2)
        figures.append(FigureInfo(name, png, title, caption, pdf_name, seconds))
        say(f"  {png} ({seconds:.1f} s)")
    return figures, None


def draw_specs_beside(names, parts: tuple, out: Path, pdf: bool, before: DrawnBefore) -> dict:
    """What a worker process runs: the named specs of :data:`FIGURES`, drawn from
    inputs made again from ``parts`` (:class:`FigureInputs`' arguments), by spec name."""
    inputs = FigureInputs(*parts)
    quiet = lambda *_: None  # noqa: E731  (the calling process prints the lines)
    return {
        s.name: _draw_spec(s, inputs, out, pdf, before, quiet) for s in FIGURES if s.name in names
    }


def _start_beside(specs, inputs: FigureInputs, out: Path, pdf: bool, before, pool):
    """Start :data:`DRAWN_BESIDE`'s specs among ``specs`` in ``pool``; (names, job) or None."""
    names = [s.name for s in specs if s.name in DRAWN_BESIDE]
    if pool is None or not names or len(inputs.table) < BESIDE_MIN_ROWS:
        return None
    i = inputs
    parts = (
        i.table,
        i.table_path,
        i.models,
        i.metrics,
        i.roc_curves,
        i.embeddings,
        i.synthetic,
        i.options,
        i.properties,
    )
    return names, pool.submit(draw_specs_beside, names, parts, out, pdf, before)


def draw_figures(
    specs: tuple[FigureSpec, ...],
    inputs: FigureInputs,
    out: Path,
    pdf: bool,
    say,
    before: DrawnBefore | None = None,
    pool=None,
) -> tuple[list[FigureInfo], dict[str, str]]:
    """Draw each spec whose needs the inputs meet, except the figures ``before`` holds
    (kept as they are); the others' reasons are returned. With a ``pool`` (worker
    processes) and a large table, :data:`DRAWN_BESIDE`'s figures are drawn in a worker
    while this process draws the others: the same files (the same code on the same
    inputs), listed in the same order."""
    before = before or DrawnBefore.none()
    beside = _start_beside(specs, inputs, out, pdf, before, pool)
    names = beside[0] if beside else []

    def draw_here(chosen) -> dict:
        return {s.name: _draw_spec(s, inputs, out, pdf, before, say) for s in specs if chosen(s)}

    drawn = draw_here(lambda s: s.name not in names)
    if beside:
        try:
            from_worker = beside[1].result()
            for figures, _ in from_worker.values():
                for f in figures:
                    say(f"  {f.file} ({f.seconds:.1f} s, beside)")
        except BrokenProcessPool:  # the worker died (killed, out of memory): here, then
            from_worker = draw_here(lambda s: s.name in names)
        drawn |= from_worker
    figures: list[FigureInfo] = []
    skipped: dict[str, str] = {}
    for spec in specs:
        made, reason = drawn[spec.name]
        figures.extend(made)
        if reason is not None:
            skipped[spec.skipped_as] = reason
    return figures, skipped


def make_figures(
    output_dir: str | os.PathLike,
    data: str | os.PathLike | pd.DataFrame,
    models=None,
    metrics: dict | None = None,
    roc_curves: dict | None = None,
    embeddings: pd.DataFrame | None = None,
    *,
    pdf: bool = False,
    umap_rows: int = DEFAULT_DRAW.umap_rows,
    scatter_rows: int = DEFAULT_DRAW.scatter_rows,
    prior_rows: int = DEFAULT_DRAW.prior_rows,
    seed: int = DEFAULT_DRAW.seed,
    synthetic: bool | None = None,
    properties: pd.DataFrame | None = None,
    quiet: bool = True,
    boreholes: Sequence[str] | None = None,
    missing_only: bool = False,
    mixtures: dict | None = None,
) -> FigureSet:
    """Draw every figure that the inputs allow into ``output_dir``; write ``figures.json``.

    ``data`` is the table (path or DataFrame); ``models`` checkpoints or NamedModels;
    ``metrics``/``roc_curves`` what :func:`lilyvae.evaluation.evaluate` returned or
    wrote; ``embeddings`` an embedded table (else the models embed the rows);
    ``properties`` what :func:`lilyvae.properties.predict_properties` wrote;
    ``boreholes`` the boreholes of the down-core logs (default: those with the most
    held-out rows). A figure whose inputs are missing is skipped and the reason
    recorded. ``missing_only``: keep the figures ``figures.json`` already lists whose
    files are there, and draw only the others (deleted ones, or ones whose inputs have
    come since). With the UMAP figure, the rows of the report's embedding explorer are
    written too (``explorer.parquet``). ``mixtures``: what ``evaluate(mixtures=...)``
    collected in this process; each model's clusters then come from the evaluation's
    own mixture where it was fitted on the figures' rows, instead of a second fit.
    """
    start = time.perf_counter()
    out = Path(output_dir)
    table_path = None if isinstance(data, pd.DataFrame) else Path(data)
    table = data if isinstance(data, pd.DataFrame) else read_table(data)
    models = as_named_models(models) if models else []
    if synthetic is None:
        # The metrics say it, else the table's provenance, else the models' cards.
        synthetic = bool(
            (metrics or {}).get("synthetic")
            or table_provenance(table_path).synthetic
            or any(m.model.card.origin.synthetic for m in models)
        )
    chosen = tuple(str(b) for b in boreholes) if boreholes else None
    options = DrawOptions(umap_rows, scatter_rows, prior_rows, seed, chosen)
    inputs = FigureInputs(
        table, table_path, models, metrics, roc_curves, embeddings, synthetic, options, properties
    )
    check_boreholes(inputs, table_path or "the table")
    # Created once the arguments are known to be good: a refused one leaves no empty folder.
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda *_: None) if quiet else print
    before = _kept_figures(out, pdf) if missing_only else DrawnBefore.none()
    adopt_mixtures(inputs, mixtures)
    pool = side_pool()
    _start_side_work(inputs, before, pool)
    figures, skipped = draw_figures(FIGURES, inputs, out, pdf, say, before, pool)
    explorer = write_explorer_points(inputs, out) or before.explorer
    manifest = write_json_atomic(
        out / MANIFEST,
        {
            "synthetic": synthetic,
            "figures": [asdict(f) for f in figures],
            "skipped": skipped,
            "explorer": explorer,
            "parameters": {"dpi": DPI, **asdict(options), "scored_rows": inputs.scored_how},
            "wall_time_s": round(time.perf_counter() - start, 2),
        },
    )
    drawn = [f.name for f in figures if f.name not in before.figures]
    return FigureSet(out, figures, skipped, manifest, drawn)


def _start_side_work(inputs: FigureInputs, before: DrawnBefore, pool) -> None:
    """The slowest parts of the figures still to draw, started in worker processes
    while this one draws the rest: the UMAP layouts, then the models' mixtures (the
    explorer's and the down-core logs' clusters)."""
    if pool is None:
        return
    umap = UMAP.name not in before.figures and UMAP.needs.met_by(inputs)
    if umap:
        start_umap_run(inputs, pool)
    downcore = DOWNCORE.needs.met_by(inputs) and any(
        name not in before.figures for name, _ in DOWNCORE.instances(inputs)
    )
    if (umap or downcore) and inputs.models:
        start_clusterings(inputs, pool)


def _kept_figures(out: Path, pdf: bool) -> DrawnBefore:
    """The figures of ``out`` to keep; the UMAP figure only with the explorer's rows,
    which are made with its layouts."""
    before = drawn_before(out, pdf)
    if before.explorer is None:
        before.figures.pop(UMAP.name, None)
    return before


def figures_from_run(
    run_dir: str | os.PathLike,
    data: str | os.PathLike | None = None,
    models=None,
    output_dir: str | os.PathLike | None = None,
    **options,
) -> FigureSet:
    """Draw the figures of a run directory (``metrics.json``, ``roc_curves.json``,
    ``embeddings.parquet``, ``models/``, ``properties/properties.csv``) into
    ``<run>/figures``; of an ensemble's directory (``run.json``), its members' metrics
    with their intervals
    (:func:`~lilyvae.report.figures.ensemble_figures.make_ensemble_figures`)."""
    run = RunDir.existing(run_dir)
    if is_ensemble_dir(run.root):
        from lilyvae.report.figures.ensemble_figures import make_ensemble_figures

        if data is not None or models:
            raise LilyVAEError(
                f"{run.root}: an ensemble run; its figures come from its own files "
                "(drop --data and --model)"
            )
        return make_ensemble_figures(run.root, output_dir, pdf=options.get("pdf", False))
    metrics = run.read_metrics_if_present()
    roc = run.read_roc_curves()
    if data is None:
        data = run.data_table(metrics)
    if models is None:
        models = run_models(run, metrics)
    return make_figures(
        output_dir or run.figures_dir,
        data,
        models,
        metrics,
        roc,
        run_embeddings(run),
        properties=run_properties(run),
        **options,
    )
