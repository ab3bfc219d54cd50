"""``python -m benchmarks.peers``: see ``benchmarks/README.rst``."""

import sys

from benchmarks.peers.cli import main

sys.exit(main())
