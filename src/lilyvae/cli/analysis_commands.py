"""Commands that read trained models: ``embed``, ``evaluate``, ``figures``, ``report``."""

from __future__ import annotations

import argparse
from pathlib import Path

from lilyvae.cli.options import (
    DEFAULT_DATA,
    add_command,
    add_declared_options,
    add_quiet_option,
    comma_separated,
    flag_values,
    required_options,
    settings_from_args,
)
from lilyvae.errors import LilyVAEError

MODEL_HELP = "checkpoint PATH or NAME=PATH (repeat for several models)"


def cmd_embed(args: argparse.Namespace) -> int:
    from lilyvae.model.embeddings import embed_table

    if args.output is None and args.npz is None:
        raise LilyVAEError("give --output (table) and/or --npz")
    result = embed_table(args.data, args.model, output=args.output, npz=args.npz)
    print(f"{args.data}: {result.rows:,} rows embedded by {', '.join(result.names)}")
    if result.rows_partial:
        print(f"  {result.rows_partial:,} rows lack an input (a bin without colour, say)")
    why = {
        "drop": "trained with --missing drop, it reads rows with all six inputs only",
        "mask": "rows without any input",
    }
    for name, n in result.without_embedding.items():
        if n:
            print(f"  {name}: {n:,} rows have NaN embeddings ({why[result.missing[name]]})")
    for path in (result.output, result.npz):
        if path is not None:
            print(f"  wrote {path}")
    for path in result.synthetic_sidecars:
        print(f"  wrote {path} (SYNTHETIC data: the input table is synthetic)")
    return 0


def _eval_config(args: argparse.Namespace):
    from lilyvae.evaluation.config import EVAL_FLAGS, EvalConfig

    zero_shot = tuple(args.zero_shot_classes) if args.zero_shot_classes else None
    return settings_from_args(EvalConfig, EVAL_FLAGS, args, zero_shot_classes=zero_shot)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lilyvae.evaluation import evaluate, summary_text, write_metrics
    from lilyvae.run_folder import METRICS_FILE, METRICS_MD, ROC_FILE

    config = _eval_config(args)
    out = Path(args.output_dir)
    if out.exists() and not out.is_dir():
        raise LilyVAEError(f"{out}: is not a directory")
    check_outputs(out, (METRICS_FILE, METRICS_MD, ROC_FILE), {"--data": args.data})
    metrics = evaluate(args.model, args.data, config, run_dir=out, quiet=args.quiet)
    paths = write_metrics(metrics, out)
    print(summary_text(metrics))
    for what, path in paths.items():
        print(f"  {what:<10} {path}")
    return 0


def check_outputs(folder: Path, names, inputs: dict) -> None:
    """Refuse, before any work, a folder where the command's files cannot be written or
    where one would replace an input (``{"--data": path}``)."""
    from lilyvae.files import check_output_path, refuse_overwriting_inputs

    for name in names:
        check_output_path(folder / name)
        refuse_overwriting_inputs(folder / name, inputs)


def cmd_figures(args: argparse.Namespace) -> int:
    from lilyvae.report.figures import figures_from_run
    from lilyvae.run_folder import MANIFEST, RunDir

    out = Path(args.output_dir) if args.output_dir else RunDir.existing(args.run_dir).figures_dir
    if out.exists() and not out.is_dir():
        raise LilyVAEError(f"{out}: is not a directory (--output-dir)")
    check_outputs(out, (MANIFEST,), {"--data": args.data})
    same = flag_values(args, "output_dir", "pdf", "umap_rows", "seed", "quiet", "boreholes")
    result = figures_from_run(args.run_dir, data=args.data, models=args.model or None, **same)
    print(f"wrote {len(result.figures)} figures to {result.output_dir} ({result.manifest.name})")
    for name, why in result.skipped.items():
        print(f"  not drawn: {name}: {why}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from lilyvae.report.ensemble_run import is_ensemble_dir
    from lilyvae.report.figures import figures_from_run
    from lilyvae.report.run_report import build_report
    from lilyvae.run_folder import RunDir

    run = RunDir.existing(args.run_dir, figures=args.figures_dir)
    if not run.metrics.is_file() and not is_ensemble_dir(run.root):
        raise LilyVAEError(
            f"{run.root}: nothing to report: the report needs a run folder holding metrics.json "
            f"(from `lilyvae evaluate --output-dir {run.root}` or `lilyvae demo`) or run.json "
            "(from `lilyvae bootstrap` or `sweep`)"
        )
    output = Path(args.output) if args.output else run.report
    if output.suffix.lower() not in (".html", ".htm"):
        raise LilyVAEError(f"{output}: the report's name must end in .html")
    check_outputs(output.parent, (output.name,), {"--run-dir's metrics": run.metrics})
    if not args.no_figures:
        # A report is mostly figures: those the run lacks are drawn first.
        result = figures_from_run(
            run.root, output_dir=run.figures_dir, quiet=True, missing_only=True
        )
        if result.drawn:
            print(f"drew {len(result.drawn)} missing figures into {result.output_dir}")
    path = build_report(args.run_dir, output=output, figures_dir=args.figures_dir)
    print(f"wrote {path}")
    return 0


def _register_embed(sub) -> None:
    p = add_command(sub, "embed", "add each model's embedding columns to a table", cmd_embed)
    required_options(p).add_argument("--model", action="append", required=True, help=MODEL_HELP)
    p.add_argument(
        "--data",
        default=DEFAULT_DATA,
        help=f"table to embed (.csv or .parquet), default {DEFAULT_DATA}",
    )
    p.add_argument("--output", help="embedded table (.csv or .parquet)")
    p.add_argument("--npz", help="also write the reference's embeddings.npz layout here")


def _register_evaluate(sub) -> None:
    p = add_command(sub, "evaluate", "score embeddings on held-out boreholes", cmd_evaluate)
    required = required_options(p)
    required.add_argument("--model", action="append", required=True, help=MODEL_HELP)
    required.add_argument("--output-dir", required=True, help="metrics.json, metrics.md go here")
    p.add_argument(
        "--data",
        default=DEFAULT_DATA,
        help=f"table with labels (.csv or .parquet), default {DEFAULT_DATA}",
    )
    from lilyvae.evaluation.config import EVAL_FLAGS, EvalConfig

    g = p.add_argument_group("scoring")
    add_declared_options(g, EvalConfig, EVAL_FLAGS)
    g.add_argument(
        "--zero-shot-classes",
        nargs="+",
        metavar="NAME",
        help="lithologies for the zero-shot test (default: labels withheld from the models, "
        "else six chosen by seed)",
    )
    add_quiet_option(p)


def _register_figures(sub) -> None:
    p = add_command(sub, "figures", "draw every figure of a run (PNG, optionally PDF)", cmd_figures)
    required_options(p).add_argument(
        "--run-dir", required=True, help="holds metrics.json, models/, embeddings"
    )
    p.add_argument("--data", help="the table (default: the one metrics.json names)")
    p.add_argument("--model", action="append", help=MODEL_HELP + " (default: the run's)")
    p.add_argument("--output-dir", help="default RUN_DIR/figures")
    from lilyvae.report.figure_options import FIGURE_FLAGS, DrawOptions

    add_declared_options(p, DrawOptions, FIGURE_FLAGS)
    p.add_argument(
        "--boreholes",
        type=comma_separated("borehole IDs", "U1338B,U1337A"),
        metavar="ID,...",
        help="draw the down-core logs of these boreholes (default: the 3 with the most "
        "held-out rows)",
    )
    p.add_argument("--pdf", action="store_true", help="also write PDF files")
    add_quiet_option(p)


def register(sub) -> None:
    _register_embed(sub)
    _register_evaluate(sub)
    _register_figures(sub)
    p = add_command(sub, "report", "one self-contained HTML report of a run", cmd_report)
    required_options(p).add_argument(
        "--run-dir", required=True, help="holds metrics.json and the figures"
    )
    p.add_argument("--output", help="default RUN_DIR/report.html")
    p.add_argument("--figures-dir", help="default RUN_DIR/figures")
    p.add_argument(
        "--no-figures",
        action="store_true",
        help="do not draw the figures the run lacks (the default draws them first)",
    )
