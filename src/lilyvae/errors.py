"""The one exception type the command line turns into a one-line message."""


class LilyVAEError(Exception):
    """A problem with the user's input (a file, a flag, a checkpoint).

    The message names the file or flag and the problem. The command line prints it
    as a single line and exits non-zero, without a traceback.
    """
