"""Commands for a new core: ``calibrate`` (once per model) and ``predict``."""

from __future__ import annotations

import argparse
from pathlib import Path

from lilyvae.cli.options import add_command, add_split_options, required_options
from lilyvae.errors import LilyVAEError


def _interval(entry: dict) -> str:
    low_high = entry.get("interval_95")
    value = f"{entry['value']:.3f}"
    return value if not low_high else f"{value} [{low_high[0]:.3f}, {low_high[1]:.3f}]"


def calibration_summary(cal) -> list[str]:
    """The lines ``calibrate`` prints: the check half's scores, before and after."""
    m = cal.measured
    lines = [
        f"  fitted on {len(m['boreholes']['fit'])} held-out boreholes ({m['bins']['fit']:,} "
        f"bins), checked on {len(m['boreholes']['check'])} others ({m['bins']['check']:,} bins)",
        f"  temperature: lithologies {cal.temperature['class']:.3f}, "
        f"groups {cal.temperature['group']:.3f}",
        "  on the check boreholes (95% intervals over boreholes):",
    ]
    left_out = m.get("withheld_lithologies_left_out") or {}
    if left_out.get("lithologies"):
        lines.insert(
            1,
            f"  left out of both halves: {left_out['fit_bins'] + left_out['check_bins']:,} bins "
            f"of the {left_out['lithologies']} lithologies whose labels the head never saw",
        )
    for level, name in (("class", "lithologies"), ("group", "groups")):
        raw, after = m[level]["raw"], m[level]["calibrated"]
        lines += [
            f"    {name:<11} ECE {_interval(raw['ece'])} -> {_interval(after['ece'])}",
            f"    {'':<11} log-loss {_interval(raw['log_loss'])} -> {_interval(after['log_loss'])}",
            f"    {'':<11} 90% sets: coverage {_interval(after['coverage_90'])}, "
            f"mean size {_interval(after['mean_set_size_90'])}",
        ]
    lines.append(f"  novelty: {m['novelty_flag_rate_check']:.1%} of check bins flagged")
    return lines


def cmd_calibrate(args: argparse.Namespace) -> int:
    from lilyvae.predict.fitting import calibrate

    split = None
    if args.split or args.holdout_boreholes is not None:
        from lilyvae.cli.options import split_from_args
        from lilyvae.data.tables import load_training_data

        split = split_from_args(args, load_training_data(args.data))
    cal, paths = calibrate(args.model, args.data, split=split, seed=args.split_seed)
    label = " (SYNTHETIC data)" if cal.provenance.get("synthetic") else ""
    print(f"calibrated {args.model}{label}")
    for line in calibration_summary(cal):
        print(line)
    for what, path in paths.items():
        print(f"  wrote {what:<11} {path}")
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    from lilyvae.data.tables import table_format
    from lilyvae.files import check_output_path, refuse_overwriting_inputs

    table_format(args.output)
    for flag, path, suffix in (
        ("--las", args.las, ".las"),
        ("--intervals", args.intervals, None),
        ("--figure", args.figure, ".png"),
    ):
        if path is None:
            continue
        if suffix and Path(path).suffix.lower() != suffix:
            raise LilyVAEError(f"{path}: {flag} must name a {suffix} file")
        if suffix is None:
            table_format(path)
        check_output_path(path)
    check_output_path(args.output)
    refuse_overwriting_inputs(args.output, {"--data": args.data, "--model": args.model})


def cmd_predict(args: argparse.Namespace) -> int:
    from lilyvae.predict.conformal import check_level
    from lilyvae.predict.outputs import write_prediction
    from lilyvae.predict.predictor import Predictor

    check_level(args.level)
    _check_outputs(args)
    predictor = Predictor(args.model, uncalibrated=args.uncalibrated)
    result = predictor.predict(args.data, level=args.level, analogs=args.analogs)
    paths = write_prediction(result, args.output, args.las, args.intervals, args.figure)
    n_boreholes = result.table["Borehole_ID"].nunique()
    print(f"{args.data}: {len(result.table):,} bins of {n_boreholes} borehole(s), {result.label}")
    for note in result.notes:
        print(f"  {note}")
    if "novel" in result.table.columns:
        flagged = int(result.table["novel"].fillna(False).astype(bool).sum())
        print(f"  {flagged:,} bins flagged as unlike the training bins")
    if result.scores and result.scores.get("scored_bins"):
        s = result.scores
        blocks = s["interval_method"]["block_bins"]
        print(
            f"  blind-well test on {s['scored_bins']:,} described bins (95% intervals: "
            f"block bootstrap, blocks of {blocks} bins):"
        )
        for key, entry in s.items():
            if isinstance(entry, dict) and "value" in entry:
                print(f"    {key:<24} {_interval(entry)}")
    for what, files in paths.items():
        shown = ", ".join(map(str, files[:3])) + (f" (+{len(files) - 3})" if len(files) > 3 else "")
        print(f"  wrote {what:<9} {shown}")
    return 0


def register(sub) -> None:
    p = add_command(
        sub,
        "calibrate",
        "calibrate a model's lithology probabilities, prediction sets and novelty on held-out "
        "boreholes",
        cmd_calibrate,
    )
    req = required_options(p)
    req.add_argument("--model", required=True, help="checkpoint M.pt, or an ensemble directory")
    req.add_argument("--data", required=True, help="the table (.csv/.parquet) the model came from")
    add_split_options(p)

    p = add_command(
        sub,
        "predict",
        "predict the lithology of a new core, bin by bin, with calibrated probabilities",
        cmd_predict,
    )
    req = required_options(p)
    req.add_argument("--model", required=True, help="checkpoint M.pt, or an ensemble directory")
    req.add_argument(
        "--data",
        required=True,
        help="the new core: a table (.csv/.parquet; Principal optional), a folder of LIMS "
        "files, or a .las file",
    )
    req.add_argument("--output", required=True, help="output table (.csv or .parquet)")
    p.add_argument("--level", type=float, default=0.9, help="prediction set level, default 0.9")
    p.add_argument("--analogs", type=int, default=0, metavar="K", help="K nearest training bins")
    p.add_argument("--las", metavar="FILE.las", help="LAS 2.0 file (one per borehole)")
    p.add_argument("--intervals", metavar="FILE.csv", help="merged lithology intervals")
    p.add_argument("--figure", metavar="FILE.png", help="down-core figure (one per borehole)")
    p.add_argument(
        "--uncalibrated",
        action="store_true",
        help="use the raw probabilities (labelled UNCALIBRATED in every output)",
    )
