"""``python -m benchmarks gateway``: the bench's gateway process (``flowexec bench`` starts it)."""

import sys

from benchmarks.cluster import serve_gateway_main

if sys.argv[1:2] == ["gateway"]:
    sys.exit(serve_gateway_main(sys.argv[2:]))
sys.exit("usage: python -m benchmarks gateway --state-dir DIR [--max-running N]; run `flowexec bench`")
