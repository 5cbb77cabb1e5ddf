"""Commands that read trained models: ``embed``, ``evaluate``, ``figures``, ``report``."""

from __future__ import annotations

import argparse
from pathlib import Path

from lilyvae.cli.options import (
    DEFAULT_DATA,
    add_command,
    add_quiet_option,
    positive_int,
    required_options,
)
from lilyvae.errors import LilyVAEError

MODEL_HELP = "checkpoint PATH or NAME=PATH (repeat for several models)"


def cmd_embed(args: argparse.Namespace) -> int:
    from lilyvae.analysis.embeddings import embed_table

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
    return 0


def _eval_config(args: argparse.Namespace):
    from lilyvae.analysis.evaluation import EvalConfig

    return EvalConfig(
        svm_train_rows=args.svm_train_rows,
        svm_test_rows=args.svm_test_rows,
        gmm_components=args.gmm_components,
        gmm_rows=args.gmm_rows,
        zero_shot_classes=tuple(args.zero_shot_classes) if args.zero_shot_classes else None,
        seed=args.seed,
        context=args.context,
    )


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lilyvae.analysis.evaluation import evaluate, summary_text, write_metrics

    config = _eval_config(args)
    out = Path(args.output_dir)
    if out.exists() and not out.is_dir():
        raise LilyVAEError(f"{out}: is not a directory")
    metrics = evaluate(args.model, args.data, config, run_dir=out, quiet=args.quiet)
    paths = write_metrics(metrics, out)
    print(summary_text(metrics))
    for what, path in paths.items():
        print(f"  {what:<10} {path}")
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from lilyvae.analysis.figures import figures_from_run

    result = figures_from_run(
        args.run_dir,
        data=args.data,
        models=args.model or None,
        output_dir=args.output_dir,
        pdf=args.pdf,
        umap_rows=args.umap_rows,
        seed=args.seed,
        quiet=args.quiet,
        boreholes=args.boreholes,
    )
    print(f"wrote {len(result.figures)} figures to {result.output_dir} ({result.manifest.name})")
    for name, why in result.skipped.items():
        print(f"  not drawn: {name}: {why}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from lilyvae.analysis.figures import figures_from_run
    from lilyvae.analysis.report import build_report
    from lilyvae.analysis.run_dir import RunDir

    run = RunDir.existing(args.run_dir, figures=args.figures_dir)
    if not args.no_figures and not run.figure_manifest.is_file():
        # A report is mostly figures: a run without them gets them first.
        result = figures_from_run(run.root, output_dir=run.figures_dir, quiet=True)
        print(f"drew {len(result.figures)} figures into {result.output_dir} (none were there)")
    path = build_report(args.run_dir, output=args.output, figures_dir=args.figures_dir)
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
    g = p.add_argument_group("scoring")
    for flag, default, what in (
        ("--svm-train-rows", 8000, "rows the SVM is fitted on"),
        ("--svm-test-rows", 4000, "held-out rows the SVM is scored on"),
        ("--gmm-components", 20, "Gaussian mixture components of the clustering score"),
        ("--gmm-rows", 10000, "rows the Gaussian mixture is fitted on"),
    ):
        g.add_argument(flag, type=positive_int, default=default, help=f"{what}, default {default}")
    g.add_argument(
        "--zero-shot-classes",
        nargs="+",
        metavar="NAME",
        help="lithologies for the zero-shot test (default: labels withheld from the models, "
        "else six chosen by seed)",
    )
    g.add_argument("--seed", type=int, default=0, help="subsamples and GMM seed, default 0")
    g.add_argument(
        "--context",
        type=int,
        default=0,
        metavar="K",
        help="depth context for every classifier: each bin also sees its K neighbours above "
        "and below in its borehole and the differences to them (never across boreholes; "
        "edges padded and flagged); default 0",
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
    p.add_argument(
        "--umap-rows", type=positive_int, default=3000, help="UMAP subsample, default 3000"
    )
    p.add_argument("--seed", type=int, default=0, help="subsample and UMAP seed, default 0")
    p.add_argument(
        "--boreholes",
        type=borehole_list,
        metavar="ID,...",
        help="draw the down-core logs of these boreholes (default: the 3 with the most "
        "held-out rows)",
    )
    p.add_argument("--pdf", action="store_true", help="also write PDF files")
    add_quiet_option(p)


def borehole_list(text: str) -> tuple[str, ...]:
    """``ID,ID,...`` -> the IDs (a usage error when there are none)."""
    ids = tuple(part.strip() for part in text.split(",") if part.strip())
    if not ids:
        raise argparse.ArgumentTypeError("give borehole IDs separated by commas")
    return ids


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
        help="do not draw the figures when the run has none yet (the default draws them)",
    )
