"""``python -m api.cli``: the ``flowexec`` command."""

import sys

from api.cli import main

sys.exit(main())
