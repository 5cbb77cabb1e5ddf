"""Progress of long steps (epochs, ensemble members): a bar on a terminal, plain lines
in a log.

A tqdm bar redraws itself with carriage returns, which a terminal overwrites in place
but a log file (or a CI job's output) keeps, one screen-wide line per redraw. So a bar
is drawn only when its stream is a terminal; otherwise each step is one line
(``training unsupervised/standard: epoch 3/15, loss 5.04``). ``quiet`` draws nothing.
"""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """Steps of one long task: ``update()`` after each, ``close()`` at the end."""

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str,
        quiet: bool = False,
        stream: TextIO | None = None,
        position: int | None = None,
    ):
        self.total, self.desc, self.unit = total, desc, unit
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.bar = None
        self.quiet = quiet
        if quiet:
            return
        if _is_terminal(self.stream):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream, position=position)

    def update(self, n: int = 1, note: str = "") -> None:
        """``n`` more steps done; ``note`` (the current loss, say) shown beside them."""
        self.done += n
        if self.quiet:
            return
        if self.bar is not None:
            if note:
                self.bar.set_postfix_str(note, refresh=False)
            self.bar.update(n)
            return
        line = f"{self.desc}: {self.unit} {self.done}/{self.total}" + (f", {note}" if note else "")
        print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
