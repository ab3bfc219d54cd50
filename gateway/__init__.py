"""A local Linkis-compatible gateway: the Linkis REST protocol over real HTTP, jobs in subprocesses.

It stands in for Linkis in development and in the client's contract tests (see
``linkis-protocol.md`` §9): token and cookie auth, ``entrance`` submit/status/progress/log/kill,
``jobhistory`` in a SQLite file (so history and force kill survive eviction and restart),
``filesystem`` results and logs, and, only when enabled, fault injection per job and per request.
Shell and Python jobs run as subprocesses; SQL runs on a SQLite file in a subprocess.

It is an application of its own beside ``flowexec``: it sees only the Linkis port and schemas.
"""

from gateway.app import create_gateway
from gateway.context import gateway_of
from gateway.server import GatewayServer
from gateway.server import run_gateway
from gateway.server import serve_gateway

__all__ = ["GatewayServer", "create_gateway", "gateway_of", "run_gateway", "serve_gateway"]
