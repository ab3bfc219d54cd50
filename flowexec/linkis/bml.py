"""BML through the Linkis client: a node's script (``filesystem/openScriptFromBML``, as DSS reads
it), and resources (``bml/upload``, ``updateVersion``, ``download``, ``getVersions``).

linkis-protocol.md §12. Errors: what Linkis refuses is a ``LinkisError`` with its errCode; a
failed script read is errCode 10905, as DSS's workspace client reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from marshmallow import EXCLUDE
from marshmallow import Schema
from marshmallow import fields

from flowexec.errors import LinkisError
from flowexec.errors import LinkisUnavailable
from flowexec.linkis.port import BmlVersion
from flowexec.linkis.port import Script
from flowexec.linkis.wire import Transient
from flowexec.linkis.wire import envelope_data
from flowexec.linkis.wire import err_code
from flowexec.linkis.wire import load

if TYPE_CHECKING:
    from flowexec.linkis.client import LinkisClient

#: DSS's workspace client: any failed ``openScriptFromBML`` ("URL ... request failed!").
ERR_REQUEST_FAILED = 10905
GROUPS = ("startup", "runtime", "special")


class _Loose(Schema):
    class Meta:
        unknown = EXCLUDE


class ScriptSchema(_Loose):
    scriptContent = fields.String(allow_none=True, load_default="")
    metadata = fields.Raw(allow_none=True, load_default=None)


class VersionSchema(_Loose):
    resourceId = fields.String(required=True)
    version = fields.String(required=True)


def _strings(value: Any) -> dict[str, str]:
    return (
        {str(k): "" if v is None else str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}
    )


def script_of(data: Mapping[str, Any]) -> Script:
    """The script in an ``openScriptFromBML`` reply: body, ``@set`` variables, configuration."""
    raw = load(ScriptSchema(), data, "openScriptFromBML")
    meta = raw["metadata"] if isinstance(raw["metadata"], Mapping) else {}
    conf = meta.get("configuration")
    conf = conf if isinstance(conf, Mapping) else {}
    configuration = {g: dict(conf[g]) for g in GROUPS if isinstance(conf.get(g), Mapping)}
    return Script(raw["scriptContent"] or "", _strings(meta.get("variable")), configuration)


def open_script(
    client: LinkisClient, resource_id: str, version: str | None, file_name: str, user: str
) -> Script:
    """Read a script as DSS does: as ``user``, always naming the version when it is known."""
    params = {"resourceId": resource_id, "fileName": file_name}
    if version:
        params["version"] = version
    env = client._send("GET", "filesystem/openScriptFromBML", params=params, user=user)
    if env.status != 0:
        cause = f"errCode {err_code(env)}: {env.message}" if err_code(env) else env.message
        raise LinkisError(
            f"URL {client.base_url}/api/rest_j/v1/filesystem/openScriptFromBML?resourceId={resource_id}"
            f"&version={version} request failed! ResponseBody is {cause}",
            ERR_REQUEST_FAILED,
        )
    return script_of(env.data)


def upload(
    client: LinkisClient,
    content: bytes,
    file_name: str,
    user: str,
    *,
    resource_id: str | None = None,
    version: str | None = None,
) -> BmlVersion:
    """``bml/upload``: a new resource (its first version). ``resource_id``/``version`` seed the
    local gateway with ids a flow already names; a real Linkis assigns its own."""
    form = {"system": "WTSS"}
    if resource_id:
        form["resourceId"] = resource_id
    if version:
        form["version"] = version
    env = client._send(
        "POST", "bml/upload", body=form, files={"file": (file_name, content)}, user=user, idempotent=False
    )
    stored: BmlVersion = _version(envelope_data(env, "bml upload"))
    return stored


def update_version(
    client: LinkisClient, resource_id: str, content: bytes, file_name: str, user: str
) -> BmlVersion:
    """``bml/updateVersion``: the next version of a resource."""
    env = client._send(
        "POST",
        "bml/updateVersion",
        body={"resourceId": resource_id},
        files={"file": (file_name, content)},
        user=user,
        idempotent=False,
    )
    return _version(envelope_data(env, "bml updateVersion"))


def versions(client: LinkisClient, resource_id: str, user: str) -> list[str]:
    """``bml/getVersions``: the resource's versions, newest first."""
    env = client._send(
        "GET", "bml/getVersions", params={"resourceId": resource_id, "pageSize": 100}, user=user
    )
    data = envelope_data(env, "bml getVersions").get("ResourceVersions") or {}
    rows = data.get("versions") if isinstance(data, Mapping) else None
    return [str(r["version"]) for r in rows or [] if isinstance(r, Mapping) and "version" in r]


def download(client: LinkisClient, resource_id: str, version: str | None, user: str) -> bytes:
    """``bml/download``: the stored bytes. Errors are not enveloped: only HTTP 200 is content."""
    params = {"resourceId": resource_id, **({"version": version} if version else {})}
    try:
        resp = client._attempt_raw("GET", "bml/download", params, None, client.user_header(user))
    except Transient as exc:
        raise LinkisUnavailable(f"bml download: {exc}") from None
    with resp:
        if resp.status_code == 200:
            return resp.content
        raise LinkisError(
            f"bml download of {resource_id} {version or '(newest)'} failed! ResponseBody is {resp.text[:300]}.",
            ERR_REQUEST_FAILED,
        )


def _version(data: Mapping[str, Any]) -> BmlVersion:
    raw = load(VersionSchema(), data, "bml version")
    return BmlVersion(raw["resourceId"], raw["version"])
