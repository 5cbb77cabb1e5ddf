"""Commands that train many models: ``bootstrap``, ``sweep``, and the whole ``demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lilyvae.cli.options import (
    add_command,
    add_data_option,
    add_declared_options,
    add_quiet_option,
    add_split_options,
    add_training_options,
    config_from_args,
    given_training_flags,
    positive_int,
    print_partial_rows,
    required_options,
    split_from_args,
)
from lilyvae.errors import LilyVAEError


def _ensemble_options(args: argparse.Namespace) -> dict:
    """Backend, packs, resuming and member evaluation, shared by bootstrap and sweep."""
    from lilyvae.runs.ensemble import MemberEvaluation
    from lilyvae.workers import check_backend

    check_backend(args.backend, args.ray_address)  # before any work
    return {
        "backend": args.backend,
        "ray_address": args.ray_address,
        "workers": args.workers,
        "pack_size": args.pack_size,
        "resume": args.resume,
        "evaluation": None if args.no_eval else MemberEvaluation(rows=args.eval_rows),
        "quiet": args.quiet,
    }


def _load_for_ensemble(args: argparse.Namespace, missing: str):
    from lilyvae.data.tables import load_training_data

    # Every row with an input: held-out boreholes come from the same boreholes
    # whatever --missing says; the run keeps the rows its members read.
    data = load_training_data(args.data, keep_partial=True)
    used = data.rows_for(missing)
    print(
        f"{args.data}: {used.n_rows:,} rows used ({used.rows_dropped:,} dropped), "
        f"{used.n_labelled:,} labelled{data.origin.label}"
    )
    print_partial_rows(data, missing)
    split = split_from_args(args, data)
    if split is not None:
        print(f"holding out {len(split.holdout)} boreholes; members are scored on them")
    return data, split


#: The exit status of a run whose members did not all finish (see :func:`exit_status`).
EXIT_MEMBERS_FAILED = 3


def exit_status(summary: dict, strict: bool) -> int:
    """0 when at least one member finished: the run's tables are written, its failures
    listed (members.csv, failures.json) and retried by re-running; ``--strict`` (for CI)
    makes any failed or missing member :data:`EXIT_MEMBERS_FAILED`. A run where no
    member finished is :data:`EXIT_MEMBERS_FAILED` either way."""
    if summary["ok"] == 0 or (strict and summary["ok"] < summary["members"]):
        return EXIT_MEMBERS_FAILED
    return 0


def _report_ensemble(result, strict: bool) -> int:
    from lilyvae.runs.ensemble import summary_table

    if result.replaced_unstarted_run:
        print(
            f"{result.output_dir}: replaced the run there, no member of which had finished "
            "(it had failed before training)"
        )
    if result.settings_from_directory:
        print("--resume: continued the run with the settings stored in its run.json")
    print(summary_table(result))
    for what, path in result.paths.items():
        print(f"  {what:<10} {path}")
    code = exit_status(result.summary, strict)
    if code:
        s = result.summary
        print(
            f"lilyvae {s['kind']}: {s['members'] - s['ok']} of {s['members']} members did not "
            f"finish (exit status {code}; re-run the command to retry them)",
            file=sys.stderr,
        )
    return code


def refuse_settings_beside_resume(args: argparse.Namespace) -> None:
    """``--resume`` continues a run with the settings in its run.json: a setting given
    beside it would be ignored, so it is refused (before any work)."""
    if not args.resume:
        return
    given = given_training_flags(args)
    given += [flag for flag, value in _run_flags(args) if value is not None]
    if given:
        raise LilyVAEError(
            f"{', '.join(given)} beside --resume: --resume continues the run in "
            f"{args.output_dir} with the settings stored in its run.json, so "
            f"{'it' if len(given) == 1 else 'they'} would be ignored; drop "
            f"{'it' if len(given) == 1 else 'them'}, or give a new --output-dir for a new run"
        )


def _run_flags(args: argparse.Namespace) -> list[tuple[str, object]]:
    """The run settings besides the training flags that run.json records."""
    return [
        ("--resample", args.resample),
        ("--holdout-boreholes", args.holdout_boreholes),
        ("--split", args.split),
    ]


def _run_ensemble(args: argparse.Namespace, entry, *grid, **specific) -> int:
    """Run :func:`~lilyvae.runs.ensemble.bootstrap` or ``sweep`` (``entry``) with the
    flags the two share, then print its summary."""
    refuse_settings_beside_resume(args)
    options = _ensemble_options(args)
    config = config_from_args(args)
    data, split = _load_for_ensemble(args, config.missing)
    result = entry(
        data,
        config,
        *grid,
        output_dir=args.output_dir,
        resample=args.resample or args.default_resample,
        split=split,
        **specific,
        **options,
    )
    return _report_ensemble(result, args.strict)


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from lilyvae.runs.ensemble import bootstrap

    return _run_ensemble(args, bootstrap, n=args.n)


def cmd_sweep(args: argparse.Namespace) -> int:
    from lilyvae.runs.ensemble import parse_grid, sweep

    grid = parse_grid(args.grid)  # bad names and values fail before any work
    refuse_settings_beside_grid(args, grid)
    return _run_ensemble(args, sweep, grid, seeds=args.seeds)


def refuse_settings_beside_grid(args: argparse.Namespace, grid: dict) -> None:
    """A setting given both as a flag and as a grid axis: the grid's values would
    silently replace the flag's, so the pair is refused."""
    both = [name for name in grid if getattr(args, name, None) not in (None, False)]
    if both:
        flag = "--" + both[0].replace("_", "-")
        raise LilyVAEError(
            f"{flag} beside --grid {both[0].replace('_', '-')}=...: the grid's values replace "
            f"the flag's in every cell, so {flag} would be ignored; give it in one place"
        )


def cmd_demo(args: argparse.Namespace) -> int:
    from lilyvae.runs.demo import run_demo

    run_demo(
        Path(args.output_dir),
        epochs=args.epochs,
        quiet=args.quiet,
        holdout=args.holdout_boreholes,
        pdf=args.pdf,
        umap_rows=args.umap_rows,
        early_stopping=args.early_stopping,
    )
    return 0


def _add_ensemble_options(p: argparse.ArgumentParser, resample_default: str) -> None:
    from lilyvae.runs.ensemble.planning import RESAMPLES
    from lilyvae.workers import BACKENDS

    required_options(p).add_argument(
        "--output-dir", required=True, help="the run directory (resumable)"
    )
    add_data_option(p, "training table")
    p.add_argument(
        "--resample",
        choices=RESAMPLES,
        default=None,  # not given: the command's own default (and none beside --resume)
        help=f"each member's training rows (default {resample_default})",
    )
    p.set_defaults(default_resample=resample_default)
    g = p.add_argument_group("running members")
    g.add_argument(
        "--backend", choices=BACKENDS, default="local", help="where packs train (default local)"
    )
    g.add_argument("--ray-address", metavar="ADDR", help="a Ray cluster (default: start one here)")
    g.add_argument(
        "--workers", type=positive_int, help="packs trained at once (default: one per core)"
    )
    g.add_argument(
        "--pack-size", type=positive_int, help="members per pack (default: spread, at most 16)"
    )
    g.add_argument(
        "--resume",
        action="store_true",
        help="continue the run OUTPUT_DIR holds with its own settings",
    )
    g.add_argument(
        "--strict",
        action="store_true",
        help=f"exit with status {EXIT_MEMBERS_FAILED} when any member failed (default: 0 when "
        f"at least one finished; {EXIT_MEMBERS_FAILED} when none did)",
    )
    g.add_argument("--no-eval", action="store_true", help="do not score members")
    g.add_argument(
        "--eval-rows",
        type=positive_int,
        default=20000,
        help="rows of the table members are scored on (held-out boreholes only), default 20000",
    )
    add_split_options(p)
    add_training_options(p)


def _grid_help() -> str:
    from lilyvae.training.config import grid_axes

    axes = ", ".join(a.replace("_", "-") for a in grid_axes())
    return f"e.g. beta=0.1,0.5,1 alpha=0.1,0.5 (hidden-dims values as 64/32); axes: {axes}"


def register(sub) -> None:
    p = add_command(
        sub, "bootstrap", "train N bootstrap members; metrics with intervals", cmd_bootstrap
    )
    required_options(p).add_argument(
        "--n",
        type=positive_int,
        required=True,
        help="number of members (with --resume, more than the run has adds members)",
    )
    _add_ensemble_options(p, "rows")

    p = add_command(sub, "sweep", "a hyper-parameter grid, several seeds per cell", cmd_sweep)
    required_options(p).add_argument(
        "--grid", nargs="+", required=True, metavar="NAME=V1,V2", help=_grid_help()
    )
    p.add_argument("--seeds", type=positive_int, default=3, help="seeds per cell (default 3)")
    _add_ensemble_options(p, "seed-only")

    from lilyvae.runs.demo_settings import DEMO_EPOCHS

    p = add_command(sub, "demo", "the main job on the embedded synthetic data", cmd_demo)
    p.add_argument("--output-dir", default="runs/demo", help="default runs/demo")
    p.add_argument(
        "--epochs", type=positive_int, default=None, help=f"per model, default {DEMO_EPOCHS}"
    )
    p.add_argument(
        "--holdout-boreholes",
        type=float,
        default=0.2,
        metavar="F",
        help="fraction of boreholes held out of training (default 0.2)",
    )
    p.add_argument(
        "--early-stopping",
        type=positive_int,
        metavar="PATIENCE",
        help="train each model with early stopping of this patience, as train does (default: off)",
    )
    from lilyvae.report.figure_options import DrawOptions

    add_declared_options(p, DrawOptions, ("umap_rows",))
    p.add_argument("--pdf", action="store_true", help="also write PDF figures")
    add_quiet_option(p, "no progress messages")
