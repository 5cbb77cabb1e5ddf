"""Commands for one model: ``train`` it, ``adopt`` weights trained elsewhere, ``inspect``
a checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from lilyvae.cli.options import (
    add_command,
    add_data_option,
    add_split_options,
    add_training_options,
    config_from_args,
    print_partial_rows,
    required_options,
    split_from_args,
)
from lilyvae.errors import LilyVAEError


def cmd_train(args: argparse.Namespace) -> int:
    from lilyvae.data.tables import load_training_data
    from lilyvae.model.checkpoint import check_checkpoint_output
    from lilyvae.training.trainer import train

    config = config_from_args(args)
    output = Path(args.output)
    check_checkpoint_output(output, {"--data": args.data, "--split": args.split})
    # Every row with an input, so that held-out boreholes are drawn from the same
    # boreholes whatever --missing says; train() keeps the rows the model reads.
    data = load_training_data(args.data, keep_partial=True)
    used = data.rows_for(config.missing)
    print(
        f"{args.data}: {used.rows_read:,} rows read, {used.rows_dropped:,} dropped "
        f"(missing or non-finite input), {used.n_rows:,} used "
        f"({used.n_labelled:,} labelled, {len(used.class_names)} classes){data.origin.label}"
    )
    print_partial_rows(data, config.missing)
    split = split_from_args(args, data)
    if split is not None:
        print(f"holding out {len(split.holdout)} boreholes (recorded in the model card)")
    trained = train(data, config, split=split, quiet=args.quiet)
    paths = trained.save(output)
    final = trained.card.final
    losses = ", ".join(
        f"{k} {final[k]:.4g}" for k in ("loss", "recon", "kl", "masked", "class") if k in final
    )
    if "epoch" in final:  # early stopping kept an earlier epoch: its losses
        losses += f" (epoch {final['epoch']}'s)"
    stopping = trained.card.extra.get("early_stopping")
    epochs = config.epochs if stopping is None else stopping["epochs_run"]
    print(
        f"trained {config.model}/{config.recipe.name} for {epochs} epochs "
        f"in {trained.card.wall_time_s:.1f} s on {trained.card.training['device']}: {losses}"
        + trained.card.origin.label
    )
    if stopping is not None:
        print(
            f"early stopping: {stopping['reason']} (validated on "
            f"{len(stopping['validation_boreholes'])} training boreholes, recorded in the "
            "model card)"
        )
    for what, path in paths.items():
        print(f"  {what:<10} {path}")
    return 0


def cmd_adopt(args: argparse.Namespace) -> int:
    from lilyvae.model.adopt import adopt
    from lilyvae.model.checkpoint import check_checkpoint_output

    output = Path(args.output)
    check_checkpoint_output(output, {"--checkpoint": args.checkpoint, "--data": args.data})
    adopted = adopt(args.checkpoint, args.model, args.data, recipe=args.recipe)
    paths = adopted.save(output)
    card = adopted.card
    print(card.extra["adopted"]["provenance"])
    print(f"  scaler      {card.extra['adopted']['scaler']}")
    if card.class_names:
        print(f"  classes     {card.extra['adopted']['class_names']}")
    for what, path in paths.items():
        print(f"  {what:<10} {path}")
    return 0


def _inspect_card(path: Path, expected: str | None) -> list[str]:
    """What a checkpoint with a model card holds, as lines (the card checked against
    the weights on the way)."""
    from lilyvae.model.checkpoint import load_model

    trained = load_model(path)
    if expected and expected != trained.kind:
        raise LilyVAEError(f"{path}: holds a {trained.kind} model, not {expected}")
    return [f"{path}: {trained.kind} model with a model card", *trained.card.describe()]


def _inspect_state_dict(path: Path, expected: str | None) -> list[str]:
    """A plain state dict's network, rebuilt from the shapes of its weights."""
    from lilyvae.model.card import describe_architecture
    from lilyvae.model.checkpoint import (
        architecture_of_state_dict,
        check_state_dict,
        kind_of_state_dict,
        read_state_dict,
    )
    from lilyvae.model.networks import build_model

    state = read_state_dict(path)
    kind = kind_of_state_dict(state)
    if expected and expected != kind:
        raise LilyVAEError(f"{path}: holds a {kind} model, not {expected}")
    arch = architecture_of_state_dict(state)
    check_state_dict(state, build_model(kind, arch), path)
    return [f"{path}: {kind} model, plain state dict without a model card"] + [
        "  " + line for line in describe_architecture(arch)
    ]


def cmd_inspect(args: argparse.Namespace) -> int:
    from lilyvae.model.checkpoint import card_path

    path = Path(args.checkpoint)
    if card_path(path).is_file():
        lines = _inspect_card(path, args.model)
        lines = lines[:1] + ["  " + line for line in lines[1:]]
    else:
        lines = _inspect_state_dict(path, args.model)
    print("\n".join(lines))
    return 0


def register(sub) -> None:
    from lilyvae.training.config import MODEL_KINDS

    p = add_command(sub, "train", "train one model (unsupervised or semi-supervised)", cmd_train)
    required_options(p).add_argument(
        "--output", required=True, help="checkpoint path, e.g. models/unsup.pt"
    )
    add_data_option(p, "training table")
    add_split_options(p)
    add_training_options(p)

    _register_adopt(sub)

    p = add_command(sub, "inspect", "check a checkpoint and print what it holds", cmd_inspect)
    p.add_argument("checkpoint", help="a .pt file, with or without its model card")
    p.add_argument("--model", choices=MODEL_KINDS, help="the kind it must hold")


def _register_adopt(sub) -> None:
    from lilyvae.model.recipes import RECIPES
    from lilyvae.training.config import MODEL_KINDS

    p = add_command(
        sub,
        "adopt",
        "make weights trained elsewhere (the reference's unsup.pt) usable: scaler, card",
        cmd_adopt,
    )
    required = required_options(p)
    required.add_argument("--checkpoint", required=True, help="the plain state dict (.pt)")
    required.add_argument("--model", choices=MODEL_KINDS, required=True, help="the kind it holds")
    required.add_argument(
        "--data",
        required=True,
        help="the table the weights were trained on (.csv or .parquet): the scaler is fitted "
        "on all its usable rows, its sorted lithology names name the classifier's outputs",
    )
    required.add_argument(
        "--output", required=True, help="the new checkpoint, e.g. models/unsup.pt"
    )
    p.add_argument(
        "--recipe",
        choices=tuple(RECIPES),
        help="the recipe that trained the weights, if known (the published models: standard); "
        "default: recorded as unknown",
    )
