"""``python -m lilyvae`` is the ``lilyvae`` command."""

import sys

from lilyvae.cli import main

sys.exit(main())
