"""The ``lilyvae`` command: a thin layer over the Python API.

Every subcommand parses its flags, calls one function of the package, and prints
what it did. The commands live by stage, each module registering its own
subcommands: :mod:`~lilyvae.cli.data_commands` (tables),
:mod:`~lilyvae.cli.train_commands` (one model), :mod:`~lilyvae.cli.analysis_commands`
(reading models) and :mod:`~lilyvae.cli.runs_commands` (many models, the demo); the
options they share are in :mod:`~lilyvae.cli.options`.

A :class:`~lilyvae.errors.LilyVAEError` (bad input) becomes one line on stderr and
exit status 1, and so does an ``OSError`` that no command foresaw (a disk that fills, a
folder that turns read-only mid-run), naming its file; a usage error becomes one line
and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lilyvae.cli import (
    analysis_commands,
    data_commands,
    predict_commands,
    runs_commands,
    train_commands,
)
from lilyvae.errors import LilyVAEError

#: The command modules, in the order of the data's path; each has ``register(sub)``.
COMMAND_MODULES = (
    data_commands,
    train_commands,
    analysis_commands,
    predict_commands,
    runs_commands,
)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="lilyvae",
        description="VAEs for IODP LILY core measurements: build, train, embed, evaluate.",
        epilog="Start with `lilyvae demo`: the whole job on built-in synthetic data.",
    )
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=Parser, title="commands", metavar="COMMAND"
    )
    for module in COMMAND_MODULES:
        module.register(sub)
    # --- properties (issue 9): registered here for testing; the lead re-applies it ---
    from lilyvae.cli.properties import register as register_properties

    register_properties(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LilyVAEError as exc:
        print(f"lilyvae {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"lilyvae {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lilyvae {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
