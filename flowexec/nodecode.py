"""Where a node's code comes from, as DSS finds it (dss-api.md §2.4-2.5): AppConn code, the BML
script ``jobContent.script`` names, inline code and local copies (standard library only)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowexec.errors import InvalidFlow

#: DSS's errors finding a node's script (raised at submit: they fail the node, not the parse).
SCRIPT_EMPTY = "Script is empty"
NO_SCRIPT_RESOURCE = "Failed to get script resource"
SCRIPT_ERROR_CODE = 90102


@dataclass(frozen=True)
class ScriptRef:
    """Where a node's script lives in BML: the ``resources`` entry ``jobContent.script`` names."""

    file_name: str
    resource_id: str
    version: str | None


def bml_script(raw: Mapping[str, Any]) -> ScriptRef | None:
    """DSS's lookup: the first ``resources`` entry whose ``fileName`` is ``jobContent.script``."""
    content = raw.get("jobContent")
    script = content.get("script") if isinstance(content, Mapping) else None
    resources = raw.get("resources")
    if not isinstance(script, str) or not isinstance(resources, list):
        return None
    for entry in resources:
        if isinstance(entry, Mapping) and entry.get("fileName") == script and entry.get("resourceId"):
            version = entry.get("version")
            return ScriptRef(script, str(entry["resourceId"]), None if version is None else str(version))
    return None


def appconn_code(raw: Mapping[str, Any]) -> str:
    """An AppConn node's code, as DSS builds it: ``jobContent`` as JSON (compact, keys in order)."""
    return json.dumps(raw.get("jobContent"), separators=(",", ":"), ensure_ascii=False)


def node_code(
    key: str, content: Any, scripts: Mapping[str, str]
) -> tuple[str | None, str | None, str | None]:
    """Code without BML: inline ``jobContent.code``, else a local copy of the named script;
    else DSS's error for the node (``Script is empty`` / ``Failed to get script resource``)."""
    if not isinstance(content, Mapping):
        return None, None, SCRIPT_EMPTY
    code = content.get("code")
    if isinstance(code, str) and code.strip():
        return code, None, None
    script = content.get("script")
    if isinstance(script, str) and script in scripts:
        if not scripts[script].strip():
            raise InvalidFlow(f"node {key!r}: script {script!r} is empty")
        return scripts[script], script, None
    return None, script if isinstance(script, str) else None, NO_SCRIPT_RESOURCE
