"""Running and keeping the service: ``flowexec gateway``, ``serve``, ``flow register``, ``db``, ``bench``."""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import json
import os
import secrets
from pathlib import Path
from typing import Any

from api.cli.common import EXIT_OK
from api.cli.common import UsageError
from api.cli.common import positive_int


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_gateway(args: argparse.Namespace) -> int:
    """Serve the gateway; with no credentials configured, make them up and print them once."""
    from flowexec.config import Settings
    from gateway import run_gateway

    settings = Settings.from_env(os.environ)
    has_users, has_tokens = (
        bool(os.environ.get("FLOWEXEC_GATEWAY_USERS")),
        bool(os.environ.get("FLOWEXEC_GATEWAY_TOKENS")),
    )
    if not loopback(args.host) and not (has_users or has_tokens):
        raise UsageError(
            f"refusing to serve the gateway on {args.host} with made-up credentials: it runs shell "
            "code as this OS user; set FLOWEXEC_GATEWAY_TOKENS (and FLOWEXEC_GATEWAY_USERS) first"
        )
    users = dict(settings.gateway_users) if has_users else {"hadoop": secrets.token_urlsafe(12)}
    tokens = dict(settings.gateway_tokens) if has_tokens else {secrets.token_urlsafe(18): "*"}
    if not has_tokens:
        print(
            f"gateway token (any user; give flowexec FLOWEXEC_LINKIS_TOKEN={next(iter(tokens))})", flush=True
        )
    if not has_users:
        print(f"gateway login: hadoop / {users['hadoop']}", flush=True)
    run_gateway(
        args.host,
        args.port,
        args.state_dir or os.path.join(settings.home, "gateway"),
        users=users,
        tokens=tokens,
        faults_enabled=args.faults,
        max_running=args.max_running,
        simulate=settings.gateway_simulate,
    )
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from api.dss import eureka
    from api.embedded import embedded_stack
    from flowexec.config import Settings

    # Registered in DSS's Eureka (FLOWEXEC_EUREKA_URL): execIDs name this host:port.
    advertised = eureka.advertised(Settings.from_env(os.environ), args.port)
    with embedded_stack(advertised or None) as stack:
        settings = stack.app.extensions["flowexec"].settings
        server = make_server(args.host, args.port, stack.app, threaded=True)
        # a token is printed only when it was made up here; a configured one is never echoed
        token = settings.token if settings.token_generated and not settings.tokens else "<your token>"
        print(
            f"flowexec API on http://{args.host}:{server.server_port}  "
            f"(send Token-Code: {token} and Token-User: <you>)",
            flush=True,
        )
        with eureka.registered(settings):
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
    return EXIT_OK


def cmd_flow_register(args: argparse.Namespace) -> int:
    from api.app import create_app
    from api.cli.run import read_flow
    from flowexec import service

    doc, scripts = read_flow(args.file, args.scripts)
    app = create_app()
    with app.app_context():
        ref = service.register_flow(
            doc,
            scripts,
            flow_id=args.flow_id,
            version=args.version,
            name=args.name or Path(args.file).stem,
            user=getpass.getuser(),
            limits=app.extensions["flowexec"].settings.flow_limits,
        )
    print(
        json.dumps(
            {"flowId": ref.flow_id, "version": ref.version, "nodes": ref.nodes, "created": ref.created}
        )
    )
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    """Migrate the database; one line says where it stands after (Alembic's own lines with -v)."""
    import logging

    from flask_migrate import downgrade
    from flask_migrate import upgrade

    from api import preflight
    from api.app import create_app
    from api.app import migrations_dir

    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)-5.5s [%(name)s] %(message)s")
        logging.getLogger("alembic").setLevel(logging.INFO)
    app = create_app()
    checks = preflight.database_checks(app)
    if not checks[0].ok:
        raise preflight.NotReady(checks[0].line())
    with app.app_context():
        if args.action == "upgrade":
            upgrade(directory=migrations_dir(), revision=args.revision or "head")
        else:
            downgrade(directory=migrations_dir(), revision=args.revision or "-1")
    from api.http.health import revision_of

    url = preflight.mask(app.config["SQLALCHEMY_DATABASE_URI"])
    now_at = revision_of(app) or "base (no tables)"
    head = preflight.head_revision()
    where = "the head" if now_at == head else f"head is {head}"
    print(f"flowexec: database {url} {args.action}d: at revision {now_at} ({where})")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print the checklist every process runs at start: configuration, database, schema, broker, Linkis."""
    from api import preflight
    from api.app import create_app
    from flowexec.config import ConfigError

    try:
        app = create_app()
    except ConfigError as exc:
        found = [preflight.Check("configuration", False, exc.message, "fix the FLOWEXEC_* variable named")]
    else:
        settings = app.extensions["flowexec"].settings
        embedded = "embedded (SQLite, memory broker)" if settings.embedded else "services"
        found = [
            preflight.Check("configuration", True, f"{embedded}, home {os.path.abspath(settings.home)}"),
            *preflight.checks(app, linkis=True),
        ]
    for check in found:
        mark = "ok  " if check.ok else "FAIL"
        print(f"[{mark}] {check.line()}")
    return EXIT_OK if all(c.ok for c in found) else preflight.EXIT_NOT_READY


BENCH_WARNING = (
    "DESTRUCTIVE: drops flowexec's tables (flowexec_*, dss_workflow_*, alembic_version) in the bench "
    "database (--database-url) and flushes a whole Redis database (--broker-url); give it its own."
)


def cmd_bench(argv: list[str]) -> int:
    """Hand the arguments to the harness, imported only now (``benchmarks`` is not needed to run flows)."""
    from benchmarks.cli import main

    return main(argv, prog="flowexec bench")


def add_parsers(sub: Any) -> None:
    gw = sub.add_parser("gateway", help="serve the local Linkis-compatible gateway")
    gw.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    gw.add_argument("--port", type=int, default=9001, help="port (default 9001)")
    gw.add_argument(
        "--state-dir", help="where jobs, logs and results are kept (default $FLOWEXEC_HOME/gateway)"
    )
    gw.add_argument("--faults", action="store_true", help="enable fault injection (tests)")
    gw.add_argument(
        "--max-running",
        type=positive_int,
        default=50,
        metavar="N",
        help="jobs running at once per creator, user and engine; the rest wait Inited (50)",
    )
    gw.set_defaults(func=cmd_gateway)
    serve = sub.add_parser("serve", help="the REST API on the embedded stack")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080, 0 for any free one)")
    serve.set_defaults(func=cmd_serve)
    flow = sub.add_parser("flow", help="flow versions").add_subparsers(dest="flow_command", required=True)
    register = flow.add_parser("register", help="register a flow file as flowId/version")
    register.add_argument("file", help="the flow file (JSON)")
    register.add_argument("--flow-id", type=int, help="the DSS flowId (default: a new one)")
    register.add_argument("--version", help="the version name (default: the next vNNNNNN)")
    register.add_argument("--name", help="the flow's name (default: the file's stem)")
    register.add_argument(
        "--scripts", metavar="DIR", help="folder of the flow's scripts (default: the flow's)"
    )
    register.set_defaults(func=cmd_flow_register)
    database = sub.add_parser("db", help="database migrations")
    database.add_argument("action", choices=["upgrade", "downgrade"], help="upgrade or downgrade the schema")
    database.add_argument("revision", nargs="?", help="target revision (default: head, or one down)")
    database.add_argument("-v", "--verbose", action="store_true", help="show each migration Alembic runs")
    database.set_defaults(func=cmd_db)
    doctor = sub.add_parser(
        "doctor", help="check the configuration, database, schema, broker and Linkis; say what to fix"
    )
    doctor.set_defaults(func=cmd_doctor)


def add_bench_parser(sub: Any) -> None:
    """``flowexec bench``: its own arguments are parsed by the harness (``benchmarks.cli``)."""
    bench = sub.add_parser(
        "bench",
        help="measure scheduling overhead on MariaDB + Redis + workers (drops flowexec's tables in "
        "the bench database and flushes a Redis db; see flowexec bench --help)",
        description=BENCH_WARNING,
        add_help=False,
    )
    bench.set_defaults(func=None)
