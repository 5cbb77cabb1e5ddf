"""Running the ``lilyvae`` command in-process, for the tests of every subcommand."""

from lilyvae.cli import main


def run(args, capsys):
    """Run the command in-process: (exit status, stdout, non-blank stderr lines)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.strip()]
