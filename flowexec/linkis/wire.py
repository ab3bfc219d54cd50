"""The Linkis wire format: request bodies, and replies classified into envelopes or errors.

Transient trouble (network, 5xx, gateway-framework status, non-JSON, queue full) raises
``Transient``; refused credentials ``AuthRejected``; the client turns both into
``flowexec.errors`` types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests
from marshmallow import Schema
from marshmallow import ValidationError
from urllib3.exceptions import ConnectTimeoutError
from urllib3.exceptions import MaxRetryError
from urllib3.exceptions import NewConnectionError

from flowexec.errors import LinkisAuthError
from flowexec.errors import LinkisError
from flowexec.errors import LinkisUnavailable
from flowexec.linkis.port import JobInfo
from flowexec.linkis.port import JobSpec
from flowexec.linkis.schemas import Envelope
from flowexec.linkis.schemas import EnvelopeSchema
from flowexec.linkis.schemas import ErrorDataSchema
from flowexec.linkis.schemas import TaskSchema
from flowexec.linkis.schemas import TaskSourceSchema

API_PREFIX = "/api/rest_j/v1/"
#: errCode of a full group queue: the only transient ``status: 1``.
QUEUE_FULL = 12001
#: Soft error: "not in memory", "no progress", "job has ended" depending on the endpoint.
SOFT_ERROR = 1


class Transient(Exception):
    """Internal: a failure worth retrying; ``maybe_sent`` says the server may have acted on it."""

    def __init__(self, message: str, *, maybe_sent: bool = True) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class AuthRejected(Exception):
    """Internal: HTTP 401 or ``status: -1``."""


#: Every reply's envelope, and an error's data: one instance each, shared (``load`` keeps no state).
ENVELOPE = EnvelopeSchema()
ERROR_DATA = ErrorDataSchema()


def submit_body(spec: JobSpec) -> dict[str, Any]:
    """Build the ``entrance/submit`` body; ``userCreator`` must name the execute user (50080)."""
    labels = {"engineType": spec.engine_type, "userCreator": f"{spec.user}-{spec.creator}"}
    labels.update(spec.labels)
    configuration = {
        "startup": dict(spec.startup),
        "runtime": dict(spec.runtime),
        "special": dict(spec.special),
    }
    return {
        "executionContent": {"code": spec.code, "runType": spec.run_type},
        "params": {"variable": dict(spec.variables), "configuration": configuration},
        "labels": labels,
        "source": dict(spec.source),
    }


def execute_body(spec: JobSpec) -> dict[str, Any]:
    """Build the legacy ``entrance/execute`` body (engine without version, creator as application)."""
    body = submit_body(spec)
    content = body.pop("executionContent")
    body.update(
        executionCode=content["code"],
        runType=content["runType"],
        executeApplicationName=spec.engine_type.split("-", 1)[0],
        requestApplicationName=spec.creator,
    )
    return body


def entrance_instance(exec_id: str) -> str:
    """Return the ``host:port`` an execID names (``exec_id`` + two 3-digit lengths + app + instance)."""
    try:
        app_len, inst_len = int(exec_id[7:10]), int(exec_id[10:13])
    except ValueError:
        return ""
    start = 13 + app_len
    return exec_id[start : start + inst_len]


def classify_login(resp: requests.Response) -> Envelope:
    with resp:
        try:
            return classify(resp)
        except AuthRejected as exc:
            raise LinkisAuthError(f"Linkis login refused: {exc}") from None


def maybe_sent(exc: requests.RequestException) -> bool:
    """Tell whether the request may have reached the server (False only for failed connects)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        return not isinstance(reason.reason, NewConnectionError | ConnectTimeoutError)
    return True


def classify(resp: requests.Response) -> Envelope:
    """Parse the envelope before the HTTP code: soft errors come with HTTP 400."""
    if resp.status_code == 401:
        raise AuthRejected(f"HTTP 401 {resp.text[:200]}")
    try:
        payload = resp.json()
    except ValueError:
        raise Transient(f"non-JSON reply, HTTP {resp.status_code}: {resp.text[:200]!r}") from None
    try:
        env: Envelope = ENVELOPE.load(payload if isinstance(payload, dict) else {})
    except ValidationError:
        raise Transient(f"not a Linkis envelope, HTTP {resp.status_code}") from None
    if env.status == -1:
        raise AuthRejected(env.message)
    if env.status >= 100 or resp.status_code >= 500:
        raise Transient(f"HTTP {resp.status_code} status {env.status}: {env.message}")
    if env.status == 0 and not isinstance(env.data, dict):
        raise Transient(f"HTTP {resp.status_code}: data is not an object")
    return env


def err_code(env: Envelope) -> int | None:
    """Return ``data.errorMsg.errCode`` when the error envelope carries one."""
    if not isinstance(env.data, dict):
        return None
    try:
        error = ERROR_DATA.load(env.data).get("errorMsg")
    except ValidationError:
        return None
    return error.get("errCode") if error else None


def envelope_data(env: Envelope, what: str) -> dict[str, Any]:
    """Return the data of a successful envelope, or raise the matching Linkis error."""
    if env.status == 0:
        data: dict[str, Any] = env.data
        return data
    code = err_code(env)
    message = f"Linkis {what} failed (status {env.status}): {env.message}"
    if code == QUEUE_FULL:
        raise LinkisUnavailable(message, code)
    raise LinkisError(message, code)


def load(schema: Schema, data: Mapping[str, Any], what: str) -> Any:
    """Validate a reply's data; a shape we cannot read is a protocol error, not a retry."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise LinkisError(f"unexpected Linkis {what} reply: {exc.messages}") from None


def match_source(tasks: list[dict[str, Any]], tag: Mapping[str, str]) -> JobInfo | None:
    """Return the first history row whose ``sourceJson`` holds every ``tag`` item."""
    for raw in tasks:
        try:
            source_json = TaskSourceSchema().load(raw).get("sourceJson")
            source = json.loads(source_json) if source_json else {}
        except (ValidationError, ValueError):
            continue
        if isinstance(source, dict) and all(str(source.get(k)) == v for k, v in tag.items()):
            info: JobInfo = load(TaskSchema(), raw, "history")
            return info
    return None


def environment_once(session: requests.Session, url: str) -> None:
    """Apply the environment's proxies, CA bundle and netrc login for ``url`` now, once.

    A session that trusts the environment reads it again at every request (proxies, ``NO_PROXY``,
    the CA bundle variables, ``~/.netrc``): about a third of a poll's CPU in the client. Every
    call goes to the one Linkis gateway, so the answer is the same each time.
    """
    settings = session.merge_environment_settings(url, {}, None, None, None)
    auth = requests.utils.get_netrc_auth(url)
    session.trust_env = False
    session.proxies.update(settings["proxies"])
    session.verify = settings["verify"]
    if settings["cert"] is not None:
        session.cert = settings["cert"]
    if auth:
        session.auth = auth
