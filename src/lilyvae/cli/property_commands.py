"""``lilyvae properties``: zero-shot prediction of other LILY measurements.

A thin layer over :func:`lilyvae.properties.predict_properties`: parse the flags, call
it, print the summary. Bad input raises :class:`~lilyvae.errors.LilyVAEError`, which
the ``lilyvae`` command prints as one line (exit status 1).
"""

from __future__ import annotations

import argparse

from lilyvae.cli import options

SUMMARY = "predict other LILY measurements from each embedding (zero-shot)"


def register(sub) -> argparse.ArgumentParser:
    """Declare ``lilyvae properties`` on the ``lilyvae`` command's subparsers."""
    from lilyvae.data.lily.property_tables import PROPERTY_TABLES
    from lilyvae.properties.scoring import DEFAULT_ROUNDS, PROTOCOLS
    from lilyvae.workers import BACKENDS

    p = options.add_command(sub, "properties", SUMMARY, cmd_properties)
    required = options.required_options(p)
    required.add_argument("--lily-dir", required=True, help="folder of <TABLE>_DataLITH.csv")
    required.add_argument("--data", required=True, metavar="TABLE", help="the training table")
    required.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="[NAME=]PATH",
        help="checkpoint with its model card (repeat for several models)",
    )
    required.add_argument("--output-dir", required=True, help="properties.csv, .json go here")
    names = options.comma_separated("table names", "MAD,CARB")
    tables = f"tables to score, default every one present of {', '.join(PROPERTY_TABLES)}"
    p.add_argument("--tables", type=names, metavar="AVS,CARB,...", help=tables)
    p.add_argument("--min-rows", type=options.positive_int, default=100, help="rows a target needs")
    p.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="boreholes",
        help="boreholes: score held-out boreholes (default); reference: the reference's "
        "bootstrap of random 80/20 row splits (leaky)",
    )
    rounds = ", ".join(f"{k} {v}" for k, v in DEFAULT_ROUNDS.items())
    p.add_argument(
        "--rounds",
        type=options.positive_int,
        help=f"borehole resamples of the interval, or bootstrap rounds; default {rounds}",
    )
    p.add_argument("--seed", type=int, default=0, help="split, draws and trees, default 0")
    p.add_argument(
        "--bin-means",
        action="store_true",
        help="one row per matched bin (its samples' mean), not one per matched sample",
    )
    p.add_argument("--backend", choices=BACKENDS, default="local", help="where variables run")
    p.add_argument("--workers", type=options.positive_int, help="processes, default one per core")
    p.add_argument("--ray-address", help="join this Ray cluster (default: start one here)")
    options.add_quiet_option(p, "no progress log")
    return p


def cmd_properties(args: argparse.Namespace) -> int:
    from lilyvae.properties.api import predict_properties
    from lilyvae.workers import check_backend

    check_backend(args.backend, args.ray_address)  # before any work
    same = options.flag_values(
        args, "tables", "min_rows", "protocol", "rounds", "seed", "backend", "workers"
    )
    same |= options.flag_values(args, "ray_address", "bin_means")
    result = predict_properties(
        args.lily_dir,
        args.data,
        args.model,
        args.output_dir,
        progress=None if args.quiet else print,
        **same,
    )
    for line in result.summary:
        print(line)
    print(f"wrote {result.csv} and {result.json}")
    return 0
