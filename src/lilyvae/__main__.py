"""``python -m lilyvae`` is the ``lilyvae`` command."""

import sys

from .cli import main

sys.exit(main())
