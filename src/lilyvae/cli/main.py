"""The ``lilyvae`` command: a thin layer over the Python API.

Every subcommand parses its flags, calls one function of the package, and prints
what it did. The commands live by stage, each module registering its own
subcommands: :mod:`~lilyvae.cli.data_commands` (tables),
:mod:`~lilyvae.cli.train_commands` (one model), :mod:`~lilyvae.cli.analysis_commands`
(reading models), :mod:`~lilyvae.cli.property_commands` (other measurements) and
:mod:`~lilyvae.cli.runs_commands` (many models, the demo); the options they share are
in :mod:`~lilyvae.cli.options`.

A :class:`~lilyvae.errors.LilyVAEError` (bad input) becomes one line on stderr and
exit status 1, and so does an ``OSError`` that no command foresaw (a disk that fills, a
folder that turns read-only mid-run), naming its file; a usage error becomes one line
and exit status 2. Ctrl-C is exit status 130 and SIGTERM 143, each after the same
clean-up. An output pipe closed by its reader (``| head -1``) costs nothing: the
lines it would have carried are dropped, the work is done and the status is the
work's (:mod:`~lilyvae.cli.streams`).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from lilyvae.cli import (
    analysis_commands,
    data_commands,
    predict_commands,
    property_commands,
    runs_commands,
    train_commands,
)
from lilyvae.cli.streams import EXIT_TERMINATED, Terminated, safe_streams
from lilyvae.errors import LilyVAEError
from lilyvae.memory import keep_freed_memory

#: The command modules, in the order of the data's path; each has ``register(sub)``.
COMMAND_MODULES = (
    data_commands,
    train_commands,
    predict_commands,
    analysis_commands,
    property_commands,
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
    return parser


# The temporary name an atomic write gives its file until it is complete:
# ``.<name>.<random>.tmp`` beside it (:func:`lilyvae.files.atomic_path`).
_TEMPORARY_NAME = re.compile(r"^\.(?P<name>.+)\.[^./]+\.tmp$")


def output_name(filename) -> str:
    """The file a user asked for, where an error names the hidden temporary file that
    was being written in its place."""
    path = Path(filename)
    match = _TEMPORARY_NAME.match(path.name)
    return str(path.with_name(match["name"])) if match else str(filename)


def main(argv: Sequence[str] | None = None) -> int:
    # Freed arrays are reused instead of returned to the kernel (lilyvae.memory).
    keep_freed_memory()
    with safe_streams():
        parser = build_parser()
        args = parser.parse_args(argv)
        return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    """The command's exit status, with its failures turned into one line on stderr."""
    try:
        return int(args.func(args) or 0)
    except LilyVAEError as exc:
        print(f"lilyvae {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f"{output_name(exc.filename)}: " if exc.filename else ""
        print(f"lilyvae {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except Terminated:
        print(f"lilyvae {args.command}: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print(f"lilyvae {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
