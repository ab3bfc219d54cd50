"""``python -m benchmarks.peers.client --flow-id N``: a new process that runs a 1-node flow on the
production cluster (``FLOWEXEC_*`` from the environment the bench's workers have) and exits."""

from __future__ import annotations

import argparse
import os
import sys

from benchmarks.config import TOKEN
from benchmarks.workloads import Runner
from benchmarks.workloads import chain_doc
from benchmarks.workloads import control_node


def main(argv: list[str] | None = None) -> int:
    from api.app import create_app

    args = argparse.ArgumentParser(prog="python -m benchmarks.peers.client")
    args.add_argument("--flow-id", type=int, required=True)
    flow_id = args.parse_args(argv).flow_id
    env = os.environ
    app = create_app(
        {
            "database_url": env["FLOWEXEC_DATABASE_URL"],
            "broker_url": env["FLOWEXEC_BROKER_URL"],
            "linkis_url": env["FLOWEXEC_LINKIS_URL"],
            "token": TOKEN,
            "home": env["FLOWEXEC_HOME"],
        }
    )
    runner = Runner(app, env["FLOWEXEC_DATABASE_URL"])
    runner.next_flow_id = flow_id
    try:
        flow, version = runner.register(chain_doc(1, control_node))
        status, _end = runner.wait_terminal(runner.submit(flow, version), 300, interval=0.005)
    finally:
        runner.close()
    return 0 if status == "Succeed" else 1


if __name__ == "__main__":
    sys.exit(main())
