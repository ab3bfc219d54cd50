"""``flowexec bml upload``: put a script into BML (the local gateway's store on the embedded default)."""

from __future__ import annotations

import argparse
import getpass
import os
import re
from pathlib import Path
from typing import Any

from api.cli.common import EXIT_OK
from api.cli.common import UsageError
from api.cli.common import print_json

VERSION = re.compile(r"^v\d{6}$")


def cmd_bml_upload(args: argparse.Namespace) -> int:
    from api.embedded import running_gateway
    from flowexec.config import Settings
    from flowexec.linkis import bml
    from flowexec.linkis.client import LinkisClient

    file = Path(args.file)
    if not file.is_file():
        raise UsageError(f"{args.file}: no such file")
    if args.version is not None and not VERSION.match(args.version):
        raise UsageError(f"--version must be v and 6 digits (v000001), got {args.version!r}")
    if args.version is not None and args.resource_id is None:
        raise UsageError("--version needs --resource-id (a new resource starts at v000001)")
    settings = Settings.from_env(os.environ)
    user = settings.linkis_user or getpass.getuser()
    with running_gateway(settings) as local_url:
        url = settings.linkis_url or local_url
        assert url is not None  # running_gateway serves one whenever no Linkis URL is set
        with LinkisClient(
            url, token=settings.linkis_token, user=user, password=settings.linkis_password
        ) as client:
            stored = bml.upload(
                client, file.read_bytes(), file.name, user, resource_id=args.resource_id, version=args.version
            )
    asked = (args.resource_id or stored.resource_id, args.version or stored.version)
    if asked != (stored.resource_id, stored.version):
        raise UsageError(
            f"Linkis stored {file.name} as {stored.resource_id} {stored.version}, not as the ids asked for: "
            "a real Linkis assigns its own (--resource-id/--version seed the local gateway)"
        )
    print_json({"resourceId": stored.resource_id, "version": stored.version})
    return EXIT_OK


def add_parser(sub: Any) -> None:
    top = sub.add_parser("bml", help="BML resources (scripts of DSS flows)")
    bml_sub = top.add_subparsers(dest="bml_command", required=True)
    upload = bml_sub.add_parser(
        "upload", help="upload a file to BML; prints {resourceId, version} as one JSON object"
    )
    upload.add_argument("file", help="the file to store (a script: its name is not kept)")
    upload.add_argument("--resource-id", help="store under this resourceId (local gateway only)")
    upload.add_argument("--version", help="store as this version, e.g. v000003 (local gateway only)")
    upload.set_defaults(func=cmd_bml_upload)
