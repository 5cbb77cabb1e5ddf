"""``lilyvae properties``: zero-shot prediction of other LILY measurements.

A thin layer over :func:`lilyvae.properties.predict_properties`: parse the flags, call
it, print the summary. Bad input raises :class:`~lilyvae.errors.LilyVAEError`, which
the ``lilyvae`` command prints as one line (exit status 1).
"""

from __future__ import annotations

import argparse
import functools

from lilyvae.errors import LilyVAEError

HELP = "predict other LILY measurements from each embedding (zero-shot)"


def _whole_number(text: str, low: int) -> int:
    """An argparse type (with ``functools.partial``): a whole number >= ``low``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be >= {low}, not {value}")
    return value


def _at_least(low: int):
    return functools.partial(_whole_number, low=low)


def _table_names(text: str) -> tuple[str, ...]:
    names = tuple(t.strip() for t in text.split(","))
    if not names or not all(names):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give comma-separated table names, e.g. MAD,CARB"
        )
    return names


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Declare ``lilyvae properties`` on the ``lilyvae`` command's subparsers."""
    from lilyvae.properties.matching import PROPERTY_TABLES
    from lilyvae.properties.runner import BACKENDS
    from lilyvae.properties.scoring import DEFAULT_ROUNDS, PROTOCOLS

    p = subparsers.add_parser("properties", help=HELP, description=HELP + ".")
    p.add_argument("--lily-dir", required=True, help="folder of the <TABLE>_DataLITH.csv tables")
    p.add_argument("--data", required=True, metavar="TABLE", help="the training table (bins)")
    p.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="[NAME=]PATH",
        help="checkpoint with its model card (repeat for several models)",
    )
    p.add_argument("--output-dir", required=True, help="properties.csv and .json go here")
    p.add_argument(
        "--tables",
        type=_table_names,
        metavar="AVS,CARB,...",
        help=f"tables to score (default: every one present of {', '.join(PROPERTY_TABLES)})",
    )
    p.add_argument(
        "--min-rows", type=_at_least(1), default=100, help="matched bins a target needs (100)"
    )
    p.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="boreholes",
        help="boreholes: score held-out boreholes (honest, default); reference: the "
        "reference's bootstrap of random 80/20 row splits (leaky)",
    )
    rounds = ", ".join(f"{k} {v}" for k, v in DEFAULT_ROUNDS.items())
    p.add_argument(
        "--rounds",
        type=_at_least(1),
        help=f"borehole resamples of the interval, or bootstrap rounds (default {rounds})",
    )
    p.add_argument("--seed", type=_at_least(0), default=0, help="split, draws and trees")
    p.add_argument(
        "--bin-means",
        action="store_true",
        help="one row per matched bin (its samples' mean), not one per matched sample",
    )
    p.add_argument("--backend", choices=BACKENDS, default="local", help="where variables run")
    p.add_argument("--workers", type=_at_least(1), help="processes (default: one per core)")
    p.add_argument("--ray-address", help="join this Ray cluster (default: start one here)")
    p.add_argument("--quiet", action="store_true", help="no progress log")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from lilyvae.properties.api import predict_properties

    if args.ray_address and args.backend != "ray":
        raise LilyVAEError("--ray-address needs --backend ray")
    result = predict_properties(
        args.lily_dir,
        args.data,
        args.model,
        args.output_dir,
        tables=args.tables,
        min_rows=args.min_rows,
        protocol=args.protocol,
        rounds=args.rounds,
        seed=args.seed,
        backend=args.backend,
        workers=args.workers,
        ray_address=args.ray_address,
        bin_means=args.bin_means,
        progress=None if args.quiet else print,
    )
    for line in result.summary:
        print(line)
    print(f"wrote {result.csv} and {result.json}")
    return 0
