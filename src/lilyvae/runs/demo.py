"""The main job: the whole pipeline on the embedded SYNTHETIC dataset.

``lilyvae demo`` runs, in one output directory:

1. ``data/``: a synthetic LILY-like table (if absent), its sidecar, and a borehole table
   ``<stem>.boreholes.csv`` (positions and depth ranges, for the map);
2. ``models/``: four models (unsupervised and semi-supervised, standard and hybrid
   recipe) on a short schedule, with 20% of the boreholes held out of training, each
   trained with 5 seeds as one pack (the first seed's model in ``models/``, the others
   in ``models/seeds/``). The semi-supervised models never see the labels of a few
   lithologies (recorded in their cards), which the evaluation then uses as honest
   zero-shot classes;
3. ``embeddings.parquet``: the table plus each model's 10 embedding columns;
4. ``metrics.json``, ``metrics.md``, ``roc_curves.json``: the evaluation on the
   held-out boreholes (the first seed's models); ``seeds.json``: every seed's model
   scored the same way, each model's mean and 95% interval over its seeds, and the
   semi- against the unsupervised model per recipe, with a verdict only where the
   intervals separate;
5. ``properties/``: the zero-shot test of the paper: SYNTHETIC LILY property tables
   made for the same synthetic cores (``data/lily/``), predicted from the hybrid
   models' embeddings and from the six inputs, scored on the held-out boreholes;
6. ``figures/``: every figure, with ``figures.json``;
7. ``report.html``: one self-contained report; its path is printed at the end;
8. ``new_core/``: the borehole with the table's injected out-of-distribution interval,
   held out of training as "the new core": the semi-supervised hybrid model calibrated
   on the other held-out boreholes, the core predicted with its LAS file, intervals and
   down-core figure (:mod:`lilyvae.runs.new_core`), shown in the report. The
   calibration is written before the evaluation, which then scores the model's
   probabilities raw and calibrated.

Everything it writes is labelled SYNTHETIC.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

from lilyvae.data.boreholes import borehole_table_path, write_borehole_table
from lilyvae.data.splits import BoreholeSplit, split_boreholes
from lilyvae.data.tables import TrainingData, load_training_data, read_table, write_table_atomic
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation import (
    EvalConfig,
    choose_zero_shot_classes,
    read_synthetic_sidecar,
    summary_text,
)
from lilyvae.files import write_json_atomic, write_text_atomic
from lilyvae.model.checkpoint import TrainedModel
from lilyvae.model.embeddings import NamedModel, add_embedding_columns, embed_arrays
from lilyvae.report.figure_options import DEFAULT_DRAW
from lilyvae.report.figures import make_figures
from lilyvae.report.run_report import build_report
from lilyvae.run_folder import RunDir
from lilyvae.runs.demo_scoring import Scored, score_all
from lilyvae.runs.demo_settings import (
    DEMO_EPOCHS,
    DEMO_HOLDOUT,
    DEMO_NEW_CORE_MODEL,
    DEMO_SEEDS,
    DEMO_SPLIT_SEED,
    DEMO_TABLE,
    DEMO_ZERO_SHOT,
    RUNS,
)
from lilyvae.runs.ensemble import train_seeds
from lilyvae.runs.new_core import choose_new_core, new_core_line, predict_new_core, with_new_core
from lilyvae.runs.seeds import compare_models, comparison_lines, model_summary
from lilyvae.synthetic.generator import (
    SyntheticLily,
    sidecar_path,
    synthetic_boreholes,
    write_synthetic_table,
)
from lilyvae.synthetic.novel import add_novel_interval
from lilyvae.training.config import make_config

#: (recipe, semi-supervised model, unsupervised model): the comparisons the demo prints.
PAIRS = tuple((recipe, f"semisup_{recipe}", f"unsup_{recipe}") for recipe in ("standard", "hybrid"))


def write_synthetic_borehole_table(table: str | Path, lily: SyntheticLily | None = None) -> Path:
    """Write ``<stem>.boreholes.csv`` beside a synthetic table: Borehole_ID, latitude,
    longitude, water_depth_m (SYNTHETIC positions from the generator, rebuilt from the
    table's sidecar unless ``lily`` is given), rows, min_depth_m, max_depth_m (from the
    table)."""
    table = Path(table)
    if lily is not None:
        return write_borehole_table(table, lily.boreholes)
    info = read_synthetic_sidecar(table)
    if info is None or "rows" not in info or "seed" not in info:
        raise LilyVAEError(
            f"{sidecar_path(table)}: no synthetic sidecar with the generator's rows and "
            "seed beside the table"
        )
    return write_borehole_table(table, synthetic_boreholes(info))


def semi_vs_unsupervised(
    subjects: dict[str, list[dict]], seeds: list[int], synthetic: bool = True
) -> dict:
    """``seeds.json``: each model's scores over its seeds (``subjects[name]``, in seed
    order) with 95% intervals, and per recipe the semi-supervised model against the
    unsupervised one, with a verdict only where the intervals separate."""
    models = {name: model_summary(scores, seeds) for name, scores in subjects.items()}
    return compare_models(models, PAIRS, synthetic)


@dataclass
class DemoResult:
    output_dir: Path
    report: Path
    metrics: dict
    seconds: float
    stage_seconds: dict
    seeds: dict | None = None  # seeds.json: each model over its seeds, and the verdicts
    new_core: dict | None = None  # new_core/new_core.json: the new core's prediction


class _StageClock:
    """Seconds per stage of the demo, in the order run; a line as each ends (``say``)."""

    def __init__(self, say=print) -> None:
        self.seconds: dict[str, float] = {}
        self.say = say

    @contextlib.contextmanager
    def stage(self, name: str):
        t0 = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - t0, 1)
        self.say(f"[{name} done in {self.seconds[name]:.0f} s]")


@dataclass
class _DemoData:
    table: Path
    data: TrainingData
    split: BoreholeSplit
    zero_shot: list[str]  # lithologies whose labels the semi-supervised models never see
    new_core: str  # the borehole held back as the new core (in ``split.holdout``)
    novel_interval: dict | None  # its injected out-of-distribution interval, if any


def _prepare_data(
    run: RunDir, holdout: float, rows: int | None, epochs: int, say=print
) -> _DemoData:
    """The synthetic table and its borehole table (written unless present), the
    held-out boreholes, and the lithologies kept for the zero-shot test."""
    table = run.data_dir / DEMO_TABLE
    if table.is_file():
        say(f"using the existing SYNTHETIC table {table}")
    else:
        write_synthetic_table(table, rows=rows)
        # An out-of-distribution interval in the new core, for the novelty flags to find.
        add_novel_interval(table, seed=DEMO_SPLIT_SEED)
        say(f"wrote the SYNTHETIC LILY-like table {table} (not real data)")
    if not borehole_table_path(table).is_file():
        write_synthetic_borehole_table(table)
    data = load_training_data(table)
    split = split_boreholes(data, holdout, DEMO_SPLIT_SEED)
    core, novel = choose_new_core(table, data, split)
    split = with_new_core(split, core)
    test = split.holdout_mask(data.boreholes)
    zero_shot = choose_zero_shot_classes(
        data.labels, data.class_names, test, DEMO_ZERO_SHOT, DEMO_SPLIT_SEED
    )
    say(
        f"SYNTHETIC: {data.n_rows:,} rows, {len(data.class_names)} lithologies; "
        f"{len(split.holdout)} boreholes ({int(test.sum()):,} rows) held out of training; "
        f"{epochs} epochs per model"
    )
    say(f"labels hidden from the semi-supervised models (zero-shot): {', '.join(zero_shot)}")
    say(f"the new core, held out of training and calibration: {core}")
    return _DemoData(table, data, split, zero_shot, core, novel)


@dataclass
class _Models:
    """The demo's models: each one's first seed (embedded, in ``metrics.json``, drawn)
    and its other seeds (scored for ``seeds.json``)."""

    first: list[NamedModel]
    others: dict[str, list[NamedModel]]  # by model name, in seed order
    seeds: list[int]


def _saved(path: Path, name: str, model: TrainedModel) -> NamedModel:
    model.save(path)
    return NamedModel(name, path, model)


def _train_models(
    run: RunDir, demo: _DemoData, epochs: int, say=print, early_stopping: int | None = None
) -> _Models:
    """The four models of ``RUNS``, each with ``DEMO_SEEDS`` seeds trained as one pack
    (the packs in parallel processes); the semi-supervised ones without the zero-shot
    lithologies' labels (recorded in their cards)."""
    configs = {
        name: make_config(model, recipe, epochs=epochs, early_stopping=early_stopping)
        for model, recipe, name in RUNS
    }
    base = next(iter(configs.values())).seed
    seeds = [base + i for i in range(DEMO_SEEDS)]
    trained = train_seeds(
        demo.data, configs, seeds, split=demo.split, withhold_labels=demo.zero_shot
    )
    first, others = [], {}
    for name, models in trained.items():
        first.append(_saved(run.model_path(name), name, models[0]))
        others[name] = [
            _saved(run.models_dir / "seeds" / f"{name}_seed{s}.pt", f"{name}_seed{s}", m)
            for s, m in zip(seeds[1:], models[1:], strict=True)
        ]
        say(
            f"  trained {name} with seeds {seeds[0]}..{seeds[-1]} (one pack) in "
            f"{models[0].card.wall_time_s:.1f} s"
        )
    return _Models(first, others, seeds)


def _write_embeddings(run: RunDir, table: Path, named: list[NamedModel], say=print):
    """The table plus every model's embedding columns, written to ``embeddings.parquet``."""
    df = read_table(table)
    embedded = add_embedding_columns(df, embed_arrays(df, named, str(table)))
    emb_path = write_table_atomic(embedded, run.embeddings)
    say(f"wrote {emb_path} ({len(df):,} rows x {len(named)} models)")
    return embedded


def _verdict_lines(seeds: dict) -> list[str]:
    """One line per recipe: the verdict of each compared metric (the quiet summary)."""
    by_recipe: dict[str, list[str]] = {}
    for c in seeds["comparisons"]:
        by_recipe.setdefault(c["label"], []).append(f"{c['metric'].split('_')[0]} {c['verdict']}")
    return [f"  {label}: " + "; ".join(parts) for label, parts in by_recipe.items()]


def _write_summary(
    run: RunDir,
    metrics: dict,
    seeds: dict,
    properties: list[str],
    new_core: str,
    stages: dict,
    scored: Scored,
    quiet: bool,
):
    """``summary.txt``: the evaluation's summary, semi- against unsupervised over the
    seeds, the zero-shot property test, the new core, timings; printed in full unless
    ``quiet`` (then the verdicts and the new core only: the file has the rest)."""
    text = summary_text(metrics)
    text += "\n\nsemi-supervised vs unsupervised, per recipe:\n"
    text += "\n".join(comparison_lines(seeds))
    text += "\n\nzero-shot property prediction:\n" + "\n".join(properties)
    text += "\n\n" + new_core
    timing = ", ".join(f"{k} {v:.0f} s" for k, v in stages.items())
    total = sum(stages.values())
    parts = f"scoring, side by side: {scored.parts_line()}"
    write_text_atomic(run.summary, text + f"\n\nstages: {timing}\n{parts}\ntotal {total:.0f} s\n")
    if quiet:
        n_seeds = max((len(m["seeds"]) for m in seeds["models"].values()), default=0)
        print(
            ("SYNTHETIC data (not LILY): " if metrics.get("synthetic") else "")
            + f"semi- vs unsupervised, held-out balanced accuracy over {n_seeds} seeds:"
        )
        print("\n".join(_verdict_lines(seeds)))
        print(new_core)
        print(f"summary: {run.summary}")
        return
    print()
    print(text)
    print()
    print(f"stages: {timing}")


def run_demo(
    output_dir: Path,
    epochs: int | None = None,
    quiet: bool = False,
    *,
    holdout: float = DEMO_HOLDOUT,
    pdf: bool = False,
    umap_rows: int = DEFAULT_DRAW.umap_rows,
    eval_config: EvalConfig | None = None,
    rows: int | None = None,
    early_stopping: int | None = None,
) -> DemoResult:
    """Run the whole pipeline on synthetic data in ``output_dir``; return where things are.

    ``rows`` makes a smaller synthetic table (tests); the default is the real table's
    238,506 rows. ``early_stopping`` trains every model with that patience (validation
    boreholes drawn from the training ones; the training-curve figure then shows the
    validation curves).
    """
    epochs = epochs or DEMO_EPOCHS
    start = time.perf_counter()
    run = RunDir(Path(output_dir))
    say = (lambda *_: None) if quiet else print  # progress; the summary is always printed
    clock = _StageClock(say)
    with clock.stage("data"):
        demo = _prepare_data(run, holdout, rows, epochs, say)
    with clock.stage("training"):
        models = _train_models(run, demo, epochs, say, early_stopping)
        named = models.first
    config = eval_config or EvalConfig()

    def before_evaluation():  # the calibration the evaluation scores, and the embeddings
        core = predict_new_core(
            run,
            demo.table,
            run.model_path(DEMO_NEW_CORE_MODEL),
            demo.split,
            demo.new_core,
            demo.novel_interval,
            DEMO_SPLIT_SEED,
        )
        return core, _write_embeddings(run, demo.table, named, say)

    with clock.stage("scoring"):
        scored = score_all(
            run, demo.table, demo.data, named, models.others, config, before_evaluation, quiet
        )
        (new_core, embedded), metrics, properties = scored.before, scored.metrics, scored.properties
        seeds = semi_vs_unsupervised(scored.subjects, models.seeds, bool(metrics.get("synthetic")))
        write_json_atomic(run.seeds, seeds)
    say(f"  scoring, side by side: {scored.parts_line()}")
    if not quiet:
        print("\n".join(properties.summary))
    with clock.stage("figures"):
        make_figures(
            run.figures_dir,
            demo.table,
            named,
            metrics,
            None,
            embedded,
            pdf=pdf,
            umap_rows=umap_rows,
            seed=config.seed,
            properties=properties.frame,
            quiet=quiet,
            mixtures=scored.mixtures,
        )
    with clock.stage("report"):
        report = build_report(run.root)
    seconds = time.perf_counter() - start
    core_line = new_core_line(new_core)
    _write_summary(run, metrics, seeds, properties.summary, core_line, clock.seconds, scored, quiet)
    timing = ", ".join(f"{k} {v:.0f} s" for k, v in clock.seconds.items())
    print(f"demo finished in {seconds:.0f} s ({timing}); outputs in {run.root}")
    print(f"report: {report}")
    return DemoResult(run.root, report, metrics, seconds, clock.seconds, seeds, new_core)
