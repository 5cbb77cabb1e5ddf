"""The ``lilyvae`` command: a thin layer over the Python API.

Every subcommand parses its flags, calls one function of the package, and prints
what it did. A :class:`~lilyvae.errors.LilyVAEError` (bad input) becomes one line
on stderr and exit status 1; a usage error becomes one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from lilyvae.errors import LilyVAEError

DEFAULT_DATA = "data/vae_training_data_v2_20cm.csv"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {value}")
    return value


def _number(strictly_positive: bool):
    """An argparse type for a finite number > 0 (or >= 0)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        ok = value > 0 if strictly_positive else value >= 0
        if not ok or value == float("inf"):
            bound = "a positive number" if strictly_positive else "a number >= 0"
            raise argparse.ArgumentTypeError(f"must be {bound}, not {text}")
        return value

    return parse


_positive_float = _number(strictly_positive=True)
_non_negative_float = _number(strictly_positive=False)


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive, not {text}")
    return values


# --- train ----------------------------------------------------------------------------------


def add_training_options(p: argparse.ArgumentParser, model_required: bool = True) -> None:
    """Model, recipe and every hyper-parameter, shared by train, bootstrap and sweep."""
    from lilyvae.train.config import MODEL_KINDS

    p.add_argument("--model", choices=MODEL_KINDS, required=model_required, default="unsupervised")
    p.add_argument("--recipe", choices=("standard", "hybrid"), default="standard")
    g = p.add_argument_group("hyper-parameters (defaults: the recipe's)")
    g.add_argument("--epochs", type=_positive_int, help="default 100")
    g.add_argument("--batch-size", type=_positive_int, help="default 256")
    g.add_argument("--lr", type=_positive_float, help="Adam learning rate, default 1e-3")
    g.add_argument("--seed", type=int, help="default 42")
    g.add_argument(
        "--beta",
        type=_non_negative_float,
        help="KL weight (standard: fixed, default 1.0; hybrid: after annealing, default 0.5)",
    )
    g.add_argument("--alpha", type=_non_negative_float, help="classification weight")
    g.add_argument("--beta-start", type=_non_negative_float, help="hybrid: KL weight at epoch 0")
    g.add_argument("--anneal-epochs", type=int, help="hybrid: epochs of the KL ramp (0: none)")
    g.add_argument("--mask-ratio", type=float, help="fraction of input entries zeroed per batch")
    g.add_argument("--mask-weight", type=_non_negative_float, help="weight of the masked MSE")
    g.add_argument("--grad-clip", type=_positive_float, help="max gradient L2 norm")
    g.add_argument("--plateau-patience", type=int, help="ReduceLROnPlateau patience")
    g.add_argument("--plateau-factor", type=float, help="ReduceLROnPlateau factor")
    g.add_argument("--latent-dim", type=_positive_int, help="default 10")
    g.add_argument("--hidden-dims", type=_int_list, help="comma-separated, default 64,32")
    r = p.add_argument_group("running")
    r.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    r.add_argument(
        "--deterministic",
        action="store_true",
        help="seed every RNG, set cuDNN flags, use deterministic algorithms",
    )
    r.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the training step of a single model (for GPUs: on the CPU the "
        "default engine's fused kernels are faster)",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bar")


HYPER_FLAGS = (
    "epochs",
    "batch_size",
    "lr",
    "seed",
    "beta",
    "alpha",
    "beta_start",
    "anneal_epochs",
    "mask_ratio",
    "mask_weight",
    "grad_clip",
    "plateau_patience",
    "plateau_factor",
    "latent_dim",
    "hidden_dims",
)


def config_from_args(args: argparse.Namespace):
    from lilyvae.train.config import make_config

    options = {name: getattr(args, name) for name in HYPER_FLAGS}
    return make_config(
        model=args.model,
        recipe=args.recipe,
        device=args.device,
        deterministic=args.deterministic,
        **options,
    )


def _check_output(path: Path, suffix: str) -> None:
    """Refuse an output name before any work is done, so bad input writes nothing."""
    from lilyvae.files import check_output_path

    if path.suffix != suffix:
        raise LilyVAEError(f"{path}: the output name must end in {suffix}")
    check_output_path(path)


def add_split_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("held-out boreholes (default: train on every row)")
    x = g.add_mutually_exclusive_group()
    x.add_argument(
        "--holdout-boreholes",
        type=float,
        metavar="F",
        help="keep this fraction of boreholes out of training, e.g. 0.2",
    )
    x.add_argument("--split", metavar="FILE", help="file listing the held-out borehole IDs")
    g.add_argument("--split-seed", type=int, default=0, help="seed of the borehole draw")


def split_from_args(args: argparse.Namespace, data):
    from lilyvae.data.tables import read_split_file, split_boreholes

    if args.split:
        return read_split_file(args.split, data)
    if args.holdout_boreholes is not None:
        return split_boreholes(data, args.holdout_boreholes, args.split_seed)
    return None


def cmd_train(args: argparse.Namespace) -> int:
    from lilyvae.data.tables import load_training_data
    from lilyvae.train.trainer import train

    config = config_from_args(args)
    output = Path(args.output)
    _check_output(output, ".pt")
    data = load_training_data(args.data)
    print(
        f"{args.data}: {data.rows_read:,} rows read, {data.rows_dropped:,} dropped "
        f"(missing or non-finite input), {data.n_rows:,} used "
        f"({data.n_labelled:,} labelled, {len(data.class_names)} classes)"
    )
    split = split_from_args(args, data)
    if split is not None:
        print(f"holding out {len(split.holdout)} boreholes (recorded in the model card)")
    trained = train(data, config, split=split, quiet=args.quiet)
    paths = trained.save(output)
    final = trained.card.final
    losses = ", ".join(
        f"{k} {final[k]:.4g}" for k in ("loss", "recon", "kl", "masked", "class") if k in final
    )
    print(
        f"trained {config.model}/{config.recipe.name} for {config.epochs} epochs "
        f"in {trained.card.wall_time_s:.1f} s on {trained.card.training['device']}: {losses}"
    )
    for what, path in paths.items():
        print(f"  {what:<10} {path}")
    return 0


# --- synth ----------------------------------------------------------------------------------


def cmd_synth(args: argparse.Namespace) -> int:
    from lilyvae.synthetic.generator import sidecar_path, write_synthetic_table

    path = write_synthetic_table(args.output, rows=args.rows, seed=args.seed)
    print(f"wrote SYNTHETIC LILY-like table {path} (not real data; see {sidecar_path(path)})")
    return 0


# --- build-dataset, synth-lily --------------------------------------------------------------


def cmd_build_dataset(args: argparse.Namespace) -> int:
    from lilyvae.data.lily import build_dataset, sidecar_paths

    manifest = build_dataset(
        args.lily_dir,
        args.output,
        bin_size=args.bin_size,
        progress=not args.quiet,
        threads=args.threads,
        memory_limit=args.memory_limit,
    )
    out = manifest["output"]
    boreholes, manifest_path = sidecar_paths(args.output)
    print(
        f"wrote {args.output} ({out['rows']:,} rows, {out['boreholes']:,} boreholes, "
        f"{out['lithologies']:,} lithologies) in {manifest['wall_time_s']:.1f} s"
    )
    print(f"  boreholes  {boreholes}")
    print(f"  manifest   {manifest_path}")
    if manifest.get("synthetic_inputs"):
        print("  (built from SYNTHETIC LILY-like files: not real data)")
    return 0


def cmd_synth_lily(args: argparse.Namespace) -> int:
    from lilyvae.synthetic.lily_files import SIDECAR_NAME, write_synthetic_lily

    say = None if args.quiet else print
    sidecar = write_synthetic_lily(args.output_dir, scale=args.scale, seed=args.seed, progress=say)
    print(
        f"wrote SYNTHETIC raw LILY tables ({sidecar['total_rows']:,} rows in 4 files) to "
        f"{args.output_dir} (not real data; see {Path(args.output_dir) / SIDECAR_NAME})"
    )
    return 0


# --- inspect --------------------------------------------------------------------------------


def cmd_inspect(args: argparse.Namespace) -> int:
    from lilyvae.model.checkpoint import (
        architecture_of_state_dict,
        card_path,
        check_state_dict,
        kind_of_state_dict,
        load_model,
        read_state_dict,
    )
    from lilyvae.model.networks import build_model

    path = Path(args.checkpoint)
    if card_path(path).is_file():
        trained = load_model(path)
        if args.model and args.model != trained.kind:
            raise LilyVAEError(f"{path}: holds a {trained.kind} model, not {args.model}")
        card = trained.card
        print(f"{path}: {trained.kind} model with a model card")
        print(f"  recipe      {card.recipe}")
        print(f"  trained on  {card.data['path']} (sha256 {str(card.data['sha256'])[:12]})")
        used, dropped = card.data["rows_used"], card.data["rows_dropped"]
        print(f"  rows        {used:,} used, {dropped:,} dropped")
        print(f"  final loss  {card.final['loss']:.6g}")
        module = trained.module
    else:
        state = read_state_dict(path)
        kind = kind_of_state_dict(state)
        if args.model and args.model != kind:
            raise LilyVAEError(f"{path}: holds a {kind} model, not {args.model}")
        arch = architecture_of_state_dict(state)
        module = build_model(kind, **arch)
        check_state_dict(state, module, path)
        print(f"{path}: {kind} model, plain state dict without a model card")
    n_params = sum(p.numel() for p in module.parameters())
    print(
        f"  architecture input {module.input_dim}, hidden {module.hidden_dims}, "
        f"latent {module.latent_dim}"
        + (f", {module.n_classes} classes" if module.kind == "semisupervised" else "")
    )
    print(f"  parameters  {n_params:,}")
    return 0


# --- demo -----------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from lilyvae.runs.demo import run_demo

    run_demo(
        Path(args.output_dir),
        epochs=args.epochs,
        quiet=args.quiet,
        holdout=args.holdout_boreholes,
        pdf=args.pdf,
        umap_rows=args.umap_rows,
    )
    return 0


# --- embed, evaluate, figures, report -------------------------------------------------------


def cmd_embed(args: argparse.Namespace) -> int:
    from lilyvae.analysis.embeddings import embed_table

    if args.output is None and args.npz is None:
        raise LilyVAEError("give --output (table) and/or --npz")
    result = embed_table(args.data, args.model, output=args.output, npz=args.npz)
    print(
        f"{args.data}: {result.rows:,} rows embedded by {', '.join(result.names)}"
        + (
            f" ({result.rows_without_embedding:,} rows with a missing or non-finite input "
            "have NaN embeddings)"
            if result.rows_without_embedding
            else ""
        )
    )
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
    )
    print(f"wrote {len(result.figures)} figures to {result.output_dir} ({result.manifest.name})")
    for name, why in result.skipped.items():
        print(f"  not drawn: {name}: {why}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from lilyvae.analysis.report import build_report

    path = build_report(args.run_dir, output=args.output, figures_dir=args.figures_dir)
    print(f"wrote {path}")
    return 0


# --- bootstrap, sweep ----------------------------------------------------------------------


def _ensemble_options(args: argparse.Namespace) -> dict:
    """Backend, packs, resuming and member evaluation, shared by bootstrap and sweep."""
    from lilyvae.runs.ensemble import MemberEvaluation, import_ray

    if args.backend == "ray":
        import_ray()  # before any work: one line saying how to install it
    if args.ray_address and args.backend != "ray":
        raise LilyVAEError("--ray-address needs --backend ray")
    return {
        "backend": args.backend,
        "ray_address": args.ray_address,
        "workers": args.workers,
        "pack_size": args.pack_size,
        "resume": args.resume,
        "evaluation": None if args.no_eval else MemberEvaluation(rows=args.eval_rows),
        "quiet": args.quiet,
    }


def _load_for_ensemble(args: argparse.Namespace):
    from lilyvae.data.tables import load_training_data

    data = load_training_data(args.data)
    print(
        f"{args.data}: {data.n_rows:,} rows used ({data.rows_dropped:,} dropped), "
        f"{data.n_labelled:,} labelled"
    )
    split = split_from_args(args, data)
    if split is not None:
        print(f"holding out {len(split.holdout)} boreholes; members are scored on them")
    return data, split


def _report_ensemble(result) -> None:
    from lilyvae.runs.ensemble import summary_table

    if result.settings_from_directory:
        print("--resume: continued the run with the settings stored in its run.json")
    print(summary_table(result))
    for what, path in result.paths.items():
        print(f"  {what:<10} {path}")


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from lilyvae.runs.ensemble import bootstrap

    options = _ensemble_options(args)
    if args.n is None and not args.resume:
        raise LilyVAEError("--n N is required (the number of members)")
    config = config_from_args(args)
    data, split = _load_for_ensemble(args)
    result = bootstrap(
        data,
        config,
        n=args.n,
        output_dir=args.output_dir,
        resample=args.resample,
        split=split,
        **options,
    )
    _report_ensemble(result)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from lilyvae.runs.ensemble import parse_grid, sweep

    grid = parse_grid(args.grid)  # bad names and values fail before any work
    options = _ensemble_options(args)
    config = config_from_args(args)
    data, split = _load_for_ensemble(args)
    result = sweep(
        data,
        config,
        grid,
        seeds=args.seeds,
        output_dir=args.output_dir,
        resample=args.resample,
        split=split,
        **options,
    )
    _report_ensemble(result)
    return 0


def _add_ensemble_options(p: argparse.ArgumentParser, resample_default: str) -> None:
    from lilyvae.runs.ensemble import RESAMPLES

    p.add_argument("--data", default=DEFAULT_DATA, help=f"training table, default {DEFAULT_DATA}")
    p.add_argument("--output-dir", required=True, help="the run directory (resumable)")
    p.add_argument(
        "--resample",
        choices=RESAMPLES,
        default=resample_default,
        help=f"each member's training rows (default {resample_default})",
    )
    g = p.add_argument_group("running members")
    g.add_argument("--backend", choices=("local", "ray"), default="local")
    g.add_argument("--ray-address", metavar="ADDR", help="a Ray cluster (default: start one here)")
    g.add_argument(
        "--workers", type=_positive_int, help="packs trained at once (default: one per core)"
    )
    g.add_argument(
        "--pack-size", type=_positive_int, help="members per pack (default: spread, at most 16)"
    )
    g.add_argument(
        "--resume",
        action="store_true",
        help="continue the run OUTPUT_DIR holds with its own settings",
    )
    g.add_argument("--no-eval", action="store_true", help="do not score members")
    g.add_argument(
        "--eval-rows",
        type=_positive_int,
        default=20000,
        help="rows of the table members are scored on (held-out boreholes only)",
    )
    add_split_options(p)
    add_training_options(p)


# --- the parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lilyvae",
        description="VAEs for IODP LILY core measurements: build, train, embed, evaluate.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("train", help="train one model (unsupervised or semi-supervised)")
    p.add_argument("--data", default=DEFAULT_DATA, help=f"training table, default {DEFAULT_DATA}")
    p.add_argument("--output", required=True, help="checkpoint path, e.g. models/unsup.pt")
    add_split_options(p)
    add_training_options(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("synth", help="write a SYNTHETIC LILY-like training table")
    p.add_argument("--rows", type=_positive_int, default=None, help="default 238,506")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", required=True, help="table path (.csv or .parquet)")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser(
        "build-dataset", help="build the 20 cm training table from the raw LILY CSV files"
    )
    p.add_argument(
        "--lily-dir", required=True, help="folder holding GRA, MS, NGR and RGB _DataLITH.csv"
    )
    p.add_argument("--output", required=True, help="table path (.csv or .parquet)")
    p.add_argument(
        "--bin-size", type=_positive_float, default=0.2, help="depth bin in metres (default 0.2)"
    )
    p.add_argument("--threads", type=_positive_int, default=None, help="default: all cores")
    p.add_argument(
        "--memory-limit", default="1GB", help="DuckDB memory cap, spills beyond it (default 1GB)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress log")
    p.set_defaults(func=cmd_build_dataset)

    p = sub.add_parser("synth-lily", help="write SYNTHETIC raw LILY tables (*_DataLITH.csv)")
    p.add_argument("--output-dir", required=True)
    p.add_argument(
        "--scale",
        type=_positive_float,
        default=0.1,
        help="bins relative to the real table (1: 238,506 bins, ~14 M rows; default 0.1)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_synth_lily)

    p = sub.add_parser("inspect", help="check a checkpoint and print what it holds")
    p.add_argument("checkpoint")
    p.add_argument("--model", choices=("unsupervised", "semisupervised"), help="expected kind")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("demo", help="the main job on the embedded synthetic data")
    p.add_argument("--output-dir", default="runs/demo")
    p.add_argument("--epochs", type=_positive_int, default=None, help="per model (default: short)")
    p.add_argument(
        "--holdout-boreholes",
        type=float,
        default=0.2,
        metavar="F",
        help="fraction of boreholes held out of training (default 0.2)",
    )
    p.add_argument("--umap-rows", type=_positive_int, default=3000, help="UMAP subsample")
    p.add_argument("--pdf", action="store_true", help="also write PDF figures")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_demo)

    model_help = "checkpoint PATH or NAME=PATH (repeat for several models)"
    p = sub.add_parser("embed", help="add each model's embedding columns to a table")
    p.add_argument("--model", action="append", required=True, help=model_help)
    p.add_argument("--data", default=DEFAULT_DATA, help="table to embed (.csv or .parquet)")
    p.add_argument("--output", help="embedded table (.csv or .parquet)")
    p.add_argument("--npz", help="also write the reference's embeddings.npz layout here")
    p.set_defaults(func=cmd_embed)

    p = sub.add_parser("evaluate", help="score embeddings on held-out boreholes")
    p.add_argument("--model", action="append", required=True, help=model_help)
    p.add_argument("--data", default=DEFAULT_DATA, help="table with labels (.csv or .parquet)")
    p.add_argument("--output-dir", required=True, help="metrics.json, metrics.md go here")
    p.add_argument("--svm-train-rows", type=_positive_int, default=8000)
    p.add_argument("--svm-test-rows", type=_positive_int, default=4000)
    p.add_argument("--gmm-components", type=_positive_int, default=20)
    p.add_argument("--gmm-rows", type=_positive_int, default=10000)
    p.add_argument(
        "--zero-shot-classes",
        nargs="+",
        metavar="NAME",
        help="lithologies for the zero-shot test (default: labels withheld from the models, "
        "else six chosen by seed)",
    )
    p.add_argument("--seed", type=int, default=0, help="subsamples and GMM seed")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("figures", help="draw every figure of a run (PNG, optionally PDF)")
    p.add_argument("--run-dir", required=True, help="holds metrics.json, models/, embeddings")
    p.add_argument("--data", help="the table (default: the one metrics.json names)")
    p.add_argument("--model", action="append", help=model_help + " (default: the run's)")
    p.add_argument("--output-dir", help="default RUN_DIR/figures")
    p.add_argument("--umap-rows", type=_positive_int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pdf", action="store_true", help="also write PDF files")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("report", help="one self-contained HTML report of a run")
    p.add_argument("--run-dir", required=True)
    p.add_argument("--output", help="default RUN_DIR/report.html")
    p.add_argument("--figures-dir", help="default RUN_DIR/figures")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bootstrap", help="train N bootstrap members; metrics with intervals")
    p.add_argument("--n", type=_positive_int, help="number of members")
    _add_ensemble_options(p, "rows")
    p.set_defaults(func=cmd_bootstrap)

    p = sub.add_parser("sweep", help="a hyper-parameter grid, several seeds per cell")
    p.add_argument(
        "--grid",
        nargs="+",
        required=True,
        metavar="NAME=V1,V2",
        help="e.g. beta=0.1,0.5,1 alpha=0.1,0.5 (hidden-dims values as 64/32)",
    )
    p.add_argument("--seeds", type=_positive_int, default=3, help="seeds per cell (default 3)")
    _add_ensemble_options(p, "seed-only")
    p.set_defaults(func=cmd_sweep)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LilyVAEError as exc:
        print(f"lilyvae {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lilyvae {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
