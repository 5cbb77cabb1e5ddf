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
    check_output,
    config_from_args,
    print_partial_rows,
    required_options,
    split_from_args,
)
from lilyvae.errors import LilyVAEError


def check_checkpoint_output(output: Path, inputs: dict) -> None:
    """Refuse, before any work, a checkpoint name whose ``.pt``, history or card cannot
    be written or would overwrite an input (``{"--data": path, ...}``)."""
    from lilyvae.files import check_output_path, refuse_overwriting_inputs
    from lilyvae.model.checkpoint import card_path, check_checkpoint_name, history_path

    check_output(output, ".pt")
    check_checkpoint_name(output)
    for path in (output, history_path(output), card_path(output)):
        check_output_path(path)
        refuse_overwriting_inputs(path, inputs)


def cmd_train(args: argparse.Namespace) -> int:
    from lilyvae.data.tables import load_training_data
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
    print(
        f"trained {config.model}/{config.recipe.name} for {config.epochs} epochs "
        f"in {trained.card.wall_time_s:.1f} s on {trained.card.training['device']}: {losses}"
        + trained.card.origin.label
    )
    for what, path in paths.items():
        print(f"  {what:<10} {path}")
    return 0


def cmd_adopt(args: argparse.Namespace) -> int:
    from lilyvae.model.adopt import adopt

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


def _inspect_card(path: Path, expected: str | None):
    """The network of a checkpoint with a model card, after printing what the card says:
    first what a user asks (the data, synthetic or not, the rows trained on, the
    held-out boreholes, epochs, seed, recipe), then the rest."""
    from lilyvae.model.checkpoint import load_model

    trained = load_model(path)
    if expected and expected != trained.kind:
        raise LilyVAEError(f"{path}: holds a {trained.kind} model, not {expected}")
    card = trained.card
    data = card.data
    print(f"{path}: {trained.kind} model with a model card")
    print(f"  recipe      {card.recipe}")
    adopted = card.extra.get("adopted")
    if adopted:  # a published checkpoint made usable: no training run of ours to describe
        print(f"  provenance  {adopted.get('provenance')}")
    else:
        print(
            f"  trained on  {data['path']} (sha256 {str(data['sha256'])[:12]})" + card.origin.label
        )
        print(f"  synthetic   {_synthetic_text(card)}")
    trained_rows, used = data.get("rows_trained"), data.get("rows_used")
    dropped = data.get("rows_dropped") or 0
    if trained_rows is not None:
        print(
            f"  rows        {trained_rows:,} trained on (of {used:,} usable rows in the table; "
            f"{dropped:,} dropped)"
        )
    elif used is not None:
        print(f"  rows        {used:,} used, {dropped:,} dropped")
    if not adopted:
        print(f"  held out    {_held_out_text(card)}")
        training = card.training
        print(
            f"  epochs      {training.get('epochs')} (batch size {training.get('batch_size')}, "
            f"learning rate {training.get('lr')})"
        )
        print(f"  seed        {card.seed}")
    withheld = (card.extra.get("labels_withheld") or {}).get("classes")
    if withheld:
        print(f"  labels withheld  {len(withheld)} lithologies: {', '.join(withheld)}")
    if "loss" in card.final:
        print(f"  final loss  {card.final['loss']:.6g}")
    return trained.module


def _held_out_text(card) -> str:
    """The held-out boreholes in a line: how many, how drawn, the first few IDs."""
    ids = card.held_out_boreholes
    if not ids:
        return "none (trained on every borehole: its scores on this table are in-sample)"
    split = card.split or {}
    how = []
    if split.get("fraction") is not None:
        how.append(f"fraction {split['fraction']:g}")
    if split.get("split_seed") is not None:
        how.append(f"split seed {split['split_seed']}")
    if split.get("rows_held_out") is not None:
        how.append(f"{split['rows_held_out']:,} rows")
    shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    return f"{len(ids)} boreholes ({'; '.join(how) or 'from a file'}): {shown}"


def _synthetic_text(card) -> str:
    """Whether the model was trained on SYNTHETIC data, as its card records it."""
    origin = card.origin
    if origin.synthetic:
        return f"yes: SYNTHETIC data (see {origin.evidence})" if origin.evidence else "yes"
    if "synthetic" in card.data:
        return "no (the table has no synthetic sidecar)"
    return "unknown (a card written before lilyvae recorded it)"


def _inspect_state_dict(path: Path, expected: str | None):
    """The network of a plain state dict, rebuilt from the shapes of its weights."""
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
    module = build_model(kind, **architecture_of_state_dict(state))
    check_state_dict(state, module, path)
    print(f"{path}: {kind} model, plain state dict without a model card")
    return module


def cmd_inspect(args: argparse.Namespace) -> int:
    from lilyvae.model.checkpoint import card_path

    path = Path(args.checkpoint)
    if card_path(path).is_file():
        module = _inspect_card(path, args.model)
    else:
        module = _inspect_state_dict(path, args.model)
    n_params = sum(p.numel() for p in module.parameters())
    indicators = " (+6 missing-value indicators: --missing mask)"
    print(
        f"  architecture input {module.input_dim}"
        + (indicators if module.missing_indicators else "")
        + f", hidden {module.hidden_dims}, latent {module.latent_dim}"
        + (f", {module.n_classes} classes" if module.kind == "semisupervised" else "")
    )
    print(f"  parameters  {n_params:,}")
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
