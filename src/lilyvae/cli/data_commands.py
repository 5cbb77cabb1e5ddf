"""Commands that make tables: ``synth``, ``synth-lily``, ``build-dataset``.

None of them trains a network; their work imports neither PyTorch nor the models.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lilyvae.cli.options import (
    add_command,
    add_quiet_option,
    positive_float,
    positive_int,
    required_options,
)
from lilyvae.synthetic.overlap import DEFAULT_GENERATOR_VERSION, GENERATOR_VERSIONS

PARTIAL_HELP = (
    "add bins without colour in the real proportions (41%%): gaps in the colour scans and "
    "boreholes never colour-scanned; default: every bin has all six"
)


def cmd_synth(args: argparse.Namespace) -> int:
    from lilyvae.data.boreholes import borehole_table_path
    from lilyvae.synthetic.generator import sidecar_path, write_synthetic_table

    path = write_synthetic_table(
        args.output,
        rows=args.rows,
        seed=args.seed,
        borehole_table=True,
        partial=args.partial,
        version=args.generator_version,
    )
    print(f"wrote SYNTHETIC LILY-like table {path} (not real data; see {sidecar_path(path)})")
    if args.partial:
        print("  with bins without colour (R, G, B empty) in the real proportions")
    print(f"  boreholes  {borehole_table_path(path)} (SYNTHETIC positions, for the map)")
    if args.novel_interval:
        from lilyvae.synthetic.novel import add_novel_interval

        novel = add_novel_interval(path, seed=args.seed)
        print(
            f"  injected a novel lithology into {novel['borehole']}, {novel['top_m']:g}-"
            f"{novel['base_m']:g} m ({novel['bins']} bins; recorded in the sidecar)"
        )
    return 0


def cmd_synth_lily(args: argparse.Namespace) -> int:
    from lilyvae.synthetic.lily_files import SIDECAR_NAME, write_synthetic_lily
    from lilyvae.synthetic.properties import PROPERTY_TABLES, write_property_tables

    say = None if args.quiet else print
    sidecar = write_synthetic_lily(
        args.output_dir, scale=args.scale, seed=args.seed, progress=say, partial=args.partial
    )
    print(
        f"wrote SYNTHETIC raw LILY tables ({sidecar['total_rows']:,} rows in 4 files) to "
        f"{args.output_dir} (not real data; see {Path(args.output_dir) / SIDECAR_NAME})"
    )
    if not args.no_properties:
        # Same scale and seed: the property tables describe the same synthetic cores.
        write_property_tables(args.output_dir, scale=args.scale, seed=args.seed, progress=say)
        print(
            f"wrote {len(PROPERTY_TABLES)} SYNTHETIC property tables "
            "(AVS ... TOR, for `lilyvae properties`) beside them"
        )
    return 0


def cmd_build_dataset(args: argparse.Namespace) -> int:
    from lilyvae.data.lily import build_dataset, sidecar_paths

    manifest = build_dataset(
        args.lily_dir,
        args.output,
        bin_size=args.bin_size,
        progress=not args.quiet,
        threads=args.threads,
        memory_limit=args.memory_limit,
        keep_partial=args.keep_partial,
    )
    out, colour = manifest["output"], manifest["colour"]
    boreholes, manifest_path = sidecar_paths(args.output)
    print(
        f"wrote {args.output} ({out['rows']:,} rows, {out['boreholes']:,} boreholes, "
        f"{out['lithologies']:,} lithologies) in {manifest['wall_time_s']:.1f} s"
    )
    print(
        f"  colour     {colour['bins_with_colour']:,} bins with, "
        f"{colour['bins_without_colour']:,} without ("
        + ("kept, R, G, B empty" if args.keep_partial else "left out; --keep-partial keeps them")
        + ")"
    )
    print(f"  boreholes  {boreholes}")
    print(f"  manifest   {manifest_path}")
    if manifest.get("synthetic_inputs"):
        print("  (built from SYNTHETIC LILY-like files: not real data)")
    return 0


def register(sub) -> None:
    p = add_command(sub, "synth", "write a SYNTHETIC LILY-like training table", cmd_synth)
    required_options(p).add_argument(
        "--output", required=True, help="table path (.csv or .parquet)"
    )
    p.add_argument("--rows", type=positive_int, default=None, help="rows, default 238,506")
    p.add_argument("--seed", type=int, default=0, help="seed of the generator, default 0")
    p.add_argument("--partial", action="store_true", help=PARTIAL_HELP)
    p.add_argument(
        "--generator-version",
        type=int,
        choices=GENERATOR_VERSIONS,
        default=DEFAULT_GENERATOR_VERSION,
        help="3 (default): lithology groups of several facies, which boosted trees separate "
        "better than a linear model, as on real cores; 2: lithologies overlap, but linearly; "
        "1: the first generator's easier tables (each byte for byte for a seed)",
    )
    p.add_argument(
        "--novel-interval",
        action="store_true",
        help="inject an out-of-distribution interval (a lithology no other borehole has)",
    )

    p = add_command(
        sub, "synth-lily", "write SYNTHETIC raw LILY tables (*_DataLITH.csv)", cmd_synth_lily
    )
    required_options(p).add_argument(
        "--output-dir", required=True, help="folder the four tables are written to"
    )
    p.add_argument(
        "--scale",
        type=positive_float,
        default=0.1,
        help="bins relative to the real table (1: 238,506 bins, ~14 M rows; default 0.1)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the generator, default 0")
    p.add_argument(
        "--partial",
        action="store_true",
        help="the RGB file lacks the bins that synth --partial leaves without colour "
        "(build-dataset --keep-partial keeps them)",
    )
    p.add_argument(
        "--no-properties",
        action="store_true",
        help="write only the four core tables, not the 14 property tables",
    )
    add_quiet_option(p, "no progress log")

    p = add_command(
        sub,
        "build-dataset",
        "build the 20 cm training table from the raw LILY CSV files",
        cmd_build_dataset,
    )
    required = required_options(p)
    required.add_argument(
        "--lily-dir", required=True, help="folder holding GRA, MS, NGR and RGB _DataLITH.csv"
    )
    required.add_argument("--output", required=True, help="table path (.csv or .parquet)")
    p.add_argument(
        "--bin-size", type=positive_float, default=0.2, help="depth bin in metres (default 0.2)"
    )
    p.add_argument(
        "--threads", type=positive_int, default=None, help="DuckDB threads (default: all cores)"
    )
    p.add_argument(
        "--memory-limit", default="1GB", help="DuckDB memory cap, spills beyond it (default 1GB)"
    )
    p.add_argument(
        "--keep-partial",
        action="store_true",
        help="also keep bins with GRA, MS and NGR but no colour (R, G, B left empty); "
        "default: the reference's table, every bin with all six",
    )
    add_quiet_option(p, "no progress log")
