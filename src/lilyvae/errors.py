"""The one exception type the command line turns into a one-line message."""


class LilyVAEError(Exception):
    """A problem with the user's input (a file, a flag, a checkpoint).

    The message names the file or flag and the problem. The command line prints it
    as a single line and exits non-zero, without a traceback.
    """


def first_line(exc: BaseException, with_type: bool = False) -> str:
    """The first line of an exception's message, for a one-line report; its type's name
    when it has no message. ``with_type`` puts the name in front (``ValueError: ...``),
    for reports where the kind of failure is news (a member that crashed)."""
    text = str(exc).strip()
    name = type(exc).__name__
    if not text:
        return name
    line = text.splitlines()[0]
    return f"{name}: {line}" if with_type else line
