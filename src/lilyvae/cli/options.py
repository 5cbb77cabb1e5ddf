"""Argument types and the options several commands share.

The training options of ``train``, ``bootstrap`` and ``sweep`` are generated from the
declarations of :class:`~lilyvae.training.config.TrainingConfig` and of the registered
recipes (:mod:`lilyvae.hyperparams`): one flag per declared field, its help text and
rule from the declaration, its default read from the dataclasses. A new recipe field
gets its flag here without an edit.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from lilyvae.hyperparams import (
    HYPER_GROUP,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    RUNNING_GROUP,
    SWITCH,
    Hyper,
    ValueKind,
    hyper_fields,
)

DEFAULT_DATA = "data/vae_training_data_v2_20cm.csv"


def argument_type(kind: ValueKind) -> Callable[[str], Any]:
    """An argparse ``type=`` that reads and checks a value of ``kind``: a bad value is a
    usage error naming the flag, e.g. ``argument --epochs: must be a positive integer, not 0``."""

    def parse(text: str) -> Any:
        try:
            return kind.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = kind.rule
    return parse


positive_int = argument_type(POSITIVE_INT)
positive_float = argument_type(POSITIVE_NUMBER)


def flag_values(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """``{name: args.name}``: the flags a command passes on unchanged to its function,
    which takes them under the same names."""
    return {name: getattr(args, name) for name in names}


def comma_separated(what: str, example: str) -> Callable[[str], tuple[str, ...]]:
    """An argparse ``type=`` for ``A,B,...``: the names, stripped, blank ones left out
    (``A, B,`` is ``A`` and ``B``); none at all is a usage error."""

    def parse(text: str) -> tuple[str, ...]:
        names = tuple(part.strip() for part in text.split(",") if part.strip())
        if not names:
            raise argparse.ArgumentTypeError(
                f"{text!r}: give {what} separated by commas, e.g. {example}"
            )
        return names

    parse.__name__ = what
    return parse


def add_command(sub, name: str, summary: str, func: Callable) -> argparse.ArgumentParser:
    """A subcommand whose one-line summary is also its ``--help`` description."""
    p = sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".")
    p.set_defaults(func=func)
    return p


def required_options(p: argparse.ArgumentParser):
    """The group listing a command's required flags in its ``--help`` (one per command)."""
    group = getattr(p, "required_group", None)
    if group is None:
        group = p.required_group = p.add_argument_group("required")
    return group


def add_data_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--data", default=DEFAULT_DATA, help=f"{what} (.csv or .parquet), default {DEFAULT_DATA}"
    )


def add_quiet_option(p, what: str = "no progress bar") -> None:
    p.add_argument("--quiet", action="store_true", help=what)


# --- held-out boreholes -----------------------------------------------------------------------


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
    g.add_argument("--split-seed", type=int, default=0, help="seed of the borehole draw, default 0")


def print_partial_rows(data, missing: str) -> None:
    """Say how many rows lack an input and what ``--missing`` does with them."""
    n = data.n_partial
    if n:
        what = (
            "--missing mask trains on them"
            if missing == "mask"
            else "--missing drop leaves them out (--missing mask would train on them)"
        )
        print(f"  {n:,} rows lack an input (a bin without colour, say): {what}")


def split_from_args(args: argparse.Namespace, data):
    from lilyvae.data.splits import read_split_file, split_boreholes

    if args.split:
        return read_split_file(args.split, data)
    if args.holdout_boreholes is not None:
        return split_boreholes(data, args.holdout_boreholes, args.split_seed)
    return None


# --- the training options, generated ------------------------------------------------------------


class RemovedFlag(argparse.Action):
    """A flag that no longer exists: refused with the reason, as a usage error."""

    def __init__(self, option_strings, dest, reason: str, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help=argparse.SUPPRESS, **kwargs)
        self.reason = reason

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string} was removed: {self.reason}")


def default_text(name: str, h: Hyper) -> str:
    """A setting's default as its help shows it: one value, or one per recipe when the
    recipes differ (``standard: 1; hybrid: 0.5``)."""
    from lilyvae.model.recipes import RECIPES
    from lilyvae.training.config import TrainingConfig

    training = TrainingConfig.__dataclass_fields__.get(name)
    if training is not None:
        return f"default {h.kind.show(training.default)}"
    recipes = {r: cls() for r, cls in RECIPES.items()}
    defaults = {r: getattr(recipe, name) for r, recipe in recipes.items() if hasattr(recipe, name)}
    if len(set(map(repr, defaults.values()))) == 1 and len(defaults) == len(RECIPES):
        return f"default {h.kind.show(next(iter(defaults.values())))}"
    return "; ".join(f"{r}: {h.kind.show(v)}" for r, v in defaults.items())


def _add_setting(group, name: str, h: Hyper, default: Any = None, shown: str | None = None) -> None:
    flag = "--" + name.replace("_", "-")
    text = f"{h.help} [{shown or default_text(name, h)}]"
    if h.kind is SWITCH:
        group.add_argument(flag, action="store_true", default=bool(default), help=text)
    elif h.kind.choices is not None:
        group.add_argument(flag, choices=h.kind.choices, default=default, help=text)
    else:
        metavar = "N,N" if h.kind.is_list else None
        kind = argument_type(h.kind)
        group.add_argument(flag, type=kind, metavar=metavar, default=default, help=text)


def add_declared_options(group, cls: type, names) -> None:
    """Flags for the declared fields ``names`` of the settings dataclass ``cls`` (help,
    checks and defaults from their :func:`~lilyvae.hyperparams.hyper` declarations).
    The parsed values default to the dataclass's own defaults."""
    fields = cls.__dataclass_fields__
    for name, h in hyper_fields(cls).items():
        if name in names:
            default = fields[name].default
            _add_setting(group, name, h, default, f"default {h.kind.show(default)}")


def settings_from_args(cls: type, names, args: argparse.Namespace, **more):
    """An instance of ``cls`` from the parsed flags of :func:`add_declared_options`."""
    return cls(**{name: getattr(args, name) for name in names}, **more)


def training_settings() -> dict[str, Hyper]:
    """The declared settings that have a flag: what :func:`config_from_args` reads."""
    from lilyvae.training.config import hyper_parameters

    return {name: h for name, h in hyper_parameters().items() if h.flag}


def add_training_options(p: argparse.ArgumentParser) -> None:
    """Model, recipe and every declared setting, for train, bootstrap and sweep."""
    from lilyvae.model.recipes import RECIPES
    from lilyvae.training.config import MODEL_KINDS, RETIRED_FIELDS, TrainingConfig

    model = TrainingConfig.__dataclass_fields__["model"].metadata["hyper"]
    required_options(p).add_argument("--model", choices=MODEL_KINDS, required=True, help=model.help)
    p.add_argument(
        "--recipe",
        choices=tuple(RECIPES),
        default=None,  # None: standard; None also shows the flag was not given (--resume)
        help="the loss and optimiser recipe; it sets the defaults below (default standard)",
    )
    groups = {
        HYPER_GROUP: p.add_argument_group("hyper-parameters (defaults: the recipe's)"),
        RUNNING_GROUP: p.add_argument_group("running"),
    }
    for name, h in training_settings().items():
        _add_setting(groups[h.group], name, h)
    add_quiet_option(groups[RUNNING_GROUP])
    for name, reason in RETIRED_FIELDS.items():
        p.add_argument("--" + name.replace("_", "-"), action=RemovedFlag, reason=reason)


def config_from_args(args: argparse.Namespace):
    """The :class:`~lilyvae.training.config.TrainingConfig` the training flags describe."""
    from lilyvae.training.config import make_config

    options = {name: getattr(args, name) for name in training_settings()}
    return make_config(model=args.model, recipe=args.recipe or "standard", **options)


def given_training_flags(args: argparse.Namespace) -> list[str]:
    """The training flags given on the command line (each of them defaults to "not
    given": None, or off for a switch), as ``--name``."""
    names = [name for name in training_settings() if getattr(args, name) not in (None, False)]
    if args.recipe is not None:
        names.insert(0, "recipe")
    return ["--" + name.replace("_", "-") for name in names]
