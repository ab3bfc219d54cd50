"""Flows and workspaces from a real DSS: what ``execute`` needs besides its body.

Flows: DSS's stock service asks ``DSS-WORKFLOW-SERVER`` over Linkis RPC (Protostuff), which a
Python service cannot speak; DSS's web reads the same flow over REST, with the user's cookies:
``GET /api/rest_j/v1/dss/workflow/get?flowId=<id>&isNotHaveLock=true&labels=<route>``
(``FlowRestfulApi.get``), answering ``{"status": 0, "data": {"flow": DSSFlow}}`` where the
``DSSFlow`` carries ``flowJson`` (a JSON string), ``bmlVersion`` and ``name``. The fetched JSON is
registered as that flow version, so history, rerun and ``flowexec inspect`` work as for any flow.

Workspaces: ``SSOHelper.getWorkspace`` reads the cookies ``workspaceId`` and ``workspaceName``
(error 50010 without them) and keeps the cookies and the ``GATEWAY_URL`` header beside them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import requests
from flask import Request

from api.http.ticket import MARKER_COOKIE
from api.http.ticket import TICKET_COOKIE
from flowexec import service
from flowexec.config import Settings
from flowexec.errors import FlowexecError
from flowexec.errors import LinkisUnavailable
from flowexec.errors import NotFound
from flowexec.service.flows import has_version

log = logging.getLogger(__name__)

WORKFLOW_GET = "/api/rest_j/v1/dss/workflow/get"
SUBFLOW = "workflow.subflow"
_MAX_DEPTH = 8
#: Cookies never stored with a run: credentials.
_SECRET_COOKIES = frozenset({TICKET_COOKIE, MARKER_COOKIE, "Token-Code", "bdp-user-ticket-id"})


class WorkspaceMissing(FlowexecError):
    """DSS's ``AppStandardWarnException``: the request names no workspace."""

    code = 50010


def workspace(request: Request, settings: Settings) -> dict[str, Any]:
    """``params.workspace`` as DSS builds it; the login cookies are left out (they are secrets).

    ``dssUrl`` is the gateway's ``GATEWAY_URL`` header; WSGI servers drop header names with an
    underscore (werkzeug always, gunicorn by default), so ``FLOWEXEC_DSS_URL`` stands in for it.
    """
    cookies = request.cookies
    workspace_id, name = cookies.get("workspaceId", "").strip(), cookies.get("workspaceName", "").strip()
    if not workspace_id or not name:
        raise WorkspaceMissing("workspaceName or workspaceId is empty, please refresh the page (cookies)")
    return {
        "workspaceId": int(workspace_id) if workspace_id.isdigit() else workspace_id,
        "workspaceName": name,
        "cookies": {k: v for k, v in cookies.items() if k not in _SECRET_COOKIES},
        "dssUrl": request.headers.get("GATEWAY_URL") or settings.dss_url or "",
    }


def _cookie_header(cookies: Mapping[str, str]) -> str:
    """The caller's cookies for DSS (the gateway adds its own inner-request marker)."""
    return "; ".join(f"{k}={v}" for k, v in cookies.items() if k != MARKER_COOKIE)


def fetch_flow(settings: Settings, flow_id: int, cookies: Mapping[str, str], route: str) -> dict[str, Any]:
    """One ``DSSFlow`` from DSS's workflow API, as the caller."""
    url = f"{settings.dss_url}{WORKFLOW_GET}"
    try:
        reply = requests.get(
            url,
            params={"flowId": str(flow_id), "isNotHaveLock": "true", "labels": route},
            headers={"Cookie": _cookie_header(cookies)},
            timeout=30,
        )
        body = reply.json()
    except (requests.RequestException, ValueError) as exc:
        raise LinkisUnavailable(f"DSS workflow API at {settings.dss_url} unreachable: {exc}") from None
    flow = (body.get("data") or {}).get("flow") if isinstance(body, dict) else None
    if not isinstance(body, dict) or body.get("status") != 0 or not isinstance(flow, dict):
        message = body.get("message") if isinstance(body, dict) else reply.text[:200]
        raise NotFound(f"flow {flow_id} from DSS: {message or 'no flow in the reply'}")
    return flow


def _children(doc: Any) -> list[int]:
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    found = []
    for node in nodes if isinstance(nodes, list) else []:
        content = node.get("jobContent") if isinstance(node, dict) else None
        if node.get("jobType") == SUBFLOW and isinstance(content, dict):
            child = str(content.get("embeddedFlowId", ""))
            if child.isdigit():
                found.append(int(child))
    return found


def ensure_flow(
    settings: Settings, flow_id: int, version: str | None, cookies: Mapping[str, str], route: str, user: str
) -> None:
    """Ask DSS for the flow as the caller (DSS decides who may open it); register what is new.

    Flows from DSS have no flowexec owner: DSS's own project permissions apply, checked by this
    call on every ``execute``, as the caller.
    """
    if not settings.dss_url:
        return
    _register(settings, flow_id, version, cookies, route, user, depth=0)


def _register(
    settings: Settings,
    flow_id: int,
    version: str | None,
    cookies: Mapping[str, str],
    route: str,
    user: str,
    depth: int,
) -> None:
    flow = fetch_flow(settings, flow_id, cookies, route)
    if has_version(flow_id, version):
        return
    held = str(flow.get("bmlVersion") or "") or None
    if version and held and held != version:
        raise NotFound(
            f"flow {flow_id} version {version}: DSS holds version {held} (save the flow and run again)"
        )
    try:
        doc = json.loads(flow.get("flowJson") or "")
    except (TypeError, ValueError):
        raise NotFound(f"flow {flow_id} from DSS has no readable flowJson") from None
    for child in _children(doc) if depth < _MAX_DEPTH else []:
        _register(settings, child, None, cookies, route, user, depth + 1)
    ref = service.register_flow(
        doc, {}, flow_id=flow_id, version=version or held, name=flow.get("name"), admin=True
    )
    log.info("flow from DSS flow_id=%s version=%s new=%s by=%s", flow_id, ref.version, ref.created, user)
