"""Stand-ins for DSS's surroundings (test support, not shipped): Eureka, the Linkis gateway with
DSS's routing rule, and a ``dss-server-dev`` that serves DSS's workflow API and every other route.

The gateway re-implements, from Linkis's and DSS's source (shared/dss-drop-in.md 1.2 and 2.1):
``DSSGatewayParser`` (the ``dss-<a>-<b>-server`` name, the label suffix, ``findMostCorrect``), Linkis
>= 1.4's execID rule for ``status``/``execution``/``kill``, ``DefaultGatewayRouter``'s contains
check, the forwarded cookies plus ``;dataworkcloud_inner_request="true"``, a ticket minted on
token auth, and the ``GATEWAY_URL`` header.
"""

from __future__ import annotations

import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import requests
from flask import Flask
from flask import Response
from flask import jsonify
from flask import request
from werkzeug.serving import make_server

from api.http import ticket
from flowexec import execid

REST = "/api/rest_j/v1"


class Served:
    """A Flask app on a loopback port, in a thread."""

    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def shutdown(self) -> None:
        self.server.shutdown()


# ------------------------------------------------------------------ Eureka


@dataclass
class EurekaState:
    apps: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    events: list[tuple[float, str, str, str]] = field(default_factory=list)  # (time, verb, app, id)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def heartbeats(self, app: str, instance_id: str) -> list[float]:
        return [t for t, verb, a, i in self.events if verb == "heartbeat" and (a, i) == (app, instance_id)]

    def verbs(self, app: str) -> list[str]:
        return [verb for _, verb, a, _ in self.events if a == app]


def eureka_app(state: EurekaState) -> Flask:
    """Eureka's REST: register (JSON), heartbeat, cancel, and the XML app list Spring reads."""
    app = Flask("eureka-stub")

    @app.post("/eureka/apps/<name>")
    def register(name: str) -> Response:
        instance = request.get_json(force=True)["instance"]
        with state.lock:
            state.apps.setdefault(name.upper(), {})[instance["instanceId"]] = instance
            state.events.append((time.time(), "register", name.upper(), instance["instanceId"]))
        return Response(status=204)

    @app.put("/eureka/apps/<name>/<instance_id>")
    def heartbeat(name: str, instance_id: str) -> Response:
        with state.lock:
            known = instance_id in state.apps.get(name.upper(), {})
            state.events.append((time.time(), "heartbeat", name.upper(), instance_id))
        return Response(status=200 if known else 404)

    @app.delete("/eureka/apps/<name>/<instance_id>")
    def cancel(name: str, instance_id: str) -> Response:
        with state.lock:
            gone = state.apps.get(name.upper(), {}).pop(instance_id, None)
            state.events.append((time.time(), "cancel", name.upper(), instance_id))
        return Response(status=200 if gone else 404)

    @app.get("/eureka/apps/")
    def applications() -> Response:
        root = ET.Element("applications")
        with state.lock:
            for name, instances in state.apps.items():
                if not instances:
                    continue
                node = ET.SubElement(root, "application")
                ET.SubElement(node, "name").text = name
                for inst in instances.values():
                    item = ET.SubElement(node, "instance")
                    for key in ("instanceId", "hostName", "app", "ipAddr", "status"):
                        ET.SubElement(item, key).text = str(inst.get(key, ""))
                    port = ET.SubElement(item, "port", enabled=str(inst["port"].get("@enabled", "true")))
                    port.text = str(inst["port"]["$"])
        return Response(ET.tostring(root), mimetype="application/xml")

    return app


def read_services(eureka_url: str) -> dict[str, list[str]]:
    """What the gateway's DiscoveryClient sees: lower-case names to UP ``host:port`` instances."""
    root = ET.fromstring(requests.get(f"{eureka_url}/eureka/apps/", timeout=5).content)
    services: dict[str, list[str]] = {}
    for application in root.iter("application"):
        name = (application.findtext("name") or "").lower()
        for inst in application.iter("instance"):
            if inst.findtext("status") == "UP":
                services.setdefault(name, []).append(f"{inst.findtext('hostName')}:{inst.findtext('port')}")
    return services


# ------------------------------------------------------------ the gateway rule


def label_suffix(args: Mapping[str, str], method: str, body: Any) -> str:
    """``getServiceNameFromLabel``: query ``labels``/``labelsRoute``, else the body's ``labels``."""
    values: list[str] = []
    if args.get("labels") or args.get("labelsRoute"):
        values = [args.get("labels") or args.get("labelsRoute") or ""]
    elif (
        method in ("POST", "PUT", "DELETE")
        and isinstance(body, dict)
        and isinstance(body.get("labels"), dict)
    ):
        values = [str(v) for v in body["labels"].values()]
    for value in values:
        if value.lower() in ("dev", "prod", "test"):
            return "-" + value.lower()
    return ""


def find_most_correct(words: list[str], services: list[str]) -> str | None:
    """The service whose name holds most of the words; a tie goes to the shorter name."""
    best: tuple[int, int, str] | None = None
    for name in services:
        score = sum(1 for w in words if w in name)
        if score and (best is None or (score, -len(name)) > (best[0], best[1])):
            best = (score, -len(name), name)
    return best[2] if best else None


def dss_service_name(path: str, args: Mapping[str, str], method: str, body: Any, services: list[str]) -> str:
    """``DSSGatewayParser`` for ``/dss/<a>/<b>/...``, then the fallback ``dss-server``."""
    match = re.match(r"/dss/([^/]+)/([^/]+)", path)
    if not match:
        return "dss-server"
    a, b = match.groups()
    tmp = f"dss-{a}-{b}-server{label_suffix(args, method, body)}"
    exact = [s for s in services if s.lower() == tmp.lower()]
    if exact:
        return exact[0]
    words = ["dss", a, b] + (["prod"] if tmp.endswith("-prod") else [])
    return find_most_correct(words, services) or "dss-server"


EXEC_ROUTE = re.compile(r"/dss/flow/entrance/([^/]+)/(status|execution|kill)")


@dataclass
class Forwarded:
    path: str
    service: str
    instance: str
    by_exec_id: bool


def gateway_app(
    eureka_url: str, tokens: Mapping[str, str], crypt_key: str = ticket.DEFAULT_KEY, linkis_14: bool = True
) -> tuple[Flask, list[Forwarded]]:
    """The Linkis gateway as DSS's web meets it."""
    app = Flask("gateway-stub")
    log: list[Forwarded] = []

    def error(message: str, http: int = 400) -> Response:
        reply = jsonify({"method": request.path, "status": 1, "message": message, "data": {}})
        reply.status_code = http
        return reply

    @app.route(f"{REST}/<path:rest>", methods=["GET", "POST", "PUT", "DELETE"])
    def route(rest: str) -> Response:
        path = "/" + rest
        body = request.get_json(silent=True)
        services = read_services(eureka_url)
        match = EXEC_ROUTE.match(path) if linkis_14 else None
        if match:  # Linkis >= 1.4: the execID names the instance
            try:
                parsed = execid.parse(match.group(1))
            except Exception:
                return error(f"cannot parse execID {match.group(1)}")
            service, instances = parsed.application, [parsed.instance]
            if parsed.instance not in services.get(service, []):
                return error(f"no instance {parsed.instance} of {service}", 502)
        else:
            name = dss_service_name(path, request.args, request.method, body, list(services))
            owners = [s for s in services if name.lower() in s]  # DefaultGatewayRouter: contains
            if len(owners) != 1:
                return error(
                    f"{'TooManyServiceException' if owners else 'no service'} for {name}: {owners}", 502
                )
            service, instances = owners[0], services[owners[0]]
        instance = instances[0]
        log.append(Forwarded(path, service, instance, bool(match)))
        cookie = request.headers.get("Cookie", "")
        code, user = request.headers.get("Token-Code"), request.headers.get("Token-User")
        if code and user:  # TokenAuthentication: validate, then mint the user's ticket
            if tokens.get(code) not in ("*", user):
                return error("token is not valid", 401)
            minted = ticket.encode(user, int(time.time() * 1000), crypt_key)
            cookie += f';{ticket.TICKET_COOKIE}="{minted}"'
        cookie += f';{ticket.MARKER_COOKIE}="true"'  # addIgnoreTimeoutSignal, HttpCookie.toString()
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "cookie", "content-length")
        }
        headers.update({"Cookie": cookie.lstrip(";"), "GATEWAY_URL": request.host_url.rstrip("/")})
        upstream = requests.request(
            request.method,
            f"http://{instance}{request.full_path if request.query_string else request.path}",
            data=request.get_data(),
            headers=headers,
            timeout=30,
        )
        return Response(upstream.content, status=upstream.status_code, mimetype="application/json")

    return app, log


# --------------------------------------------------------------- dss-server-dev


@dataclass
class DssState:
    flows: dict[int, dict[str, Any]] = field(default_factory=dict)  # flowId -> DSSFlow
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # (path, ticket user)


def dss_server_app(state: DssState, crypt_key: str = ticket.DEFAULT_KEY) -> Flask:
    """``dss-server-dev``: ``/dss/workflow/get`` as ``FlowRestfulApi.get``; any other route echoes."""
    app = Flask("dss-server-stub")

    def login_user() -> str | None:
        try:
            return ticket.gateway_user(request.cookies, crypt_key)
        except ticket.TicketError:
            return None

    @app.get(f"{REST}/dss/workflow/get")
    def get_flow() -> Response:
        user = login_user()
        state.seen.append((request.path, user))
        if user is None:
            reply = jsonify(
                {"method": "/api/workflow/get", "status": -1, "message": "not logged in", "data": {}}
            )
            reply.status_code = 401
            return reply
        flow = state.flows.get(int(request.args.get("flowId", "0")))
        if flow is None:
            return jsonify(
                {"method": "/api/workflow/get", "status": 1, "message": "no such flow", "data": {}}
            )
        return jsonify({"method": "/api/workflow/get", "status": 0, "message": "OK", "data": {"flow": flow}})

    @app.route(f"{REST}/<path:rest>", methods=["GET", "POST", "PUT", "DELETE"])
    def anything(rest: str) -> Response:
        state.seen.append(("/" + rest, login_user()))
        return jsonify(
            {"method": "/api/" + rest, "status": 0, "message": "OK", "data": {"served_by": "dss-server-dev"}}
        )

    return app


def dss_flow(flow_id: int, bml_version: str, doc: Any, name: str = "daily_load") -> dict[str, Any]:
    """A ``DSSFlow`` as ``/dss/workflow/get`` returns it."""
    return {
        "id": flow_id,
        "name": name,
        "rootFlow": True,
        "bmlVersion": bml_version,
        "resourceId": "c9a0b2d1-0000-4000-8000-000000000001",
        "flowJson": json.dumps(doc),
    }


def register_plain(eureka_url: str, app: str, host: str, port: int) -> None:
    """A Java service's registration, as the stub ``dss-server-dev`` needs it."""
    instance = {
        "instanceId": f"{host}:{app.lower()}:{port}",
        "hostName": host,
        "app": app.upper(),
        "ipAddr": host,
        "status": "UP",
        "port": {"$": port, "@enabled": "true"},
        "dataCenterInfo": {"@class": "com.netflix.appinfo.MyDataCenterInfo", "name": "MyOwn"},
    }
    requests.post(
        f"{eureka_url}/eureka/apps/{app.upper()}", json={"instance": instance}, timeout=5
    ).raise_for_status()
