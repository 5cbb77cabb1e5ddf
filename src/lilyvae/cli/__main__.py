"""``python -m lilyvae.cli`` is the ``lilyvae`` command, as ``python -m lilyvae`` is."""

import sys

from lilyvae.cli.main import main

sys.exit(main())
