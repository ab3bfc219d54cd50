"""A node's script at submit time, found as DSS finds it (dss-api.md §2.5, linkis-protocol.md §12.4).

The script named by ``jobContent.script`` is read from BML through the Linkis port, as the
submitting user, and its header metadata merged: the script's ``@set`` variables under the
flow's, and each ``configuration`` group the node sets replacing the script's (a shallow
merge, as DSS's ``putAll``). A local copy registered with the flow is the fallback when BML
has no such resource. DSS's errors fail the node: 90102 ``Script is empty`` /
``Failed to get script resource``, 10905 when BML refuses.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowexec import variables as vars_
from flowexec.errors import InvalidRequest
from flowexec.errors import LinkisError
from flowexec.errors import LinkisUnavailable
from flowexec.graph import SCRIPT_ERROR_CODE
from flowexec.linkis.port import JobSpec
from flowexec.linkis.port import Linkis
from flowexec.linkis.port import Script

log = logging.getLogger(__name__)
GROUPS = ("startup", "runtime", "special")


class ScriptError(LinkisError):
    """DSS could not find the node's script: the node fails (errCode 90102)."""


@dataclass(frozen=True)
class ScriptSource:
    """Where a claimed node's code comes from (read from its stored spec)."""

    resource_id: str | None = None
    version: str | None = None
    file_name: str | None = None
    fallback: str | None = None
    error: str | None = None
    configured: tuple[str, ...] = ()
    #: The node's variables (flow, node, request), over the script's ``@set`` ones.
    variables: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def from_bml(self) -> bool:
        return self.resource_id is not None


def source_of(spec_text: str | None) -> ScriptSource:
    spec: Mapping[str, Any] = json.loads(spec_text or "{}")
    bml = spec.get("bml") or {}
    return ScriptSource(
        resource_id=bml.get("resource_id"),
        version=bml.get("version"),
        file_name=bml.get("file_name"),
        fallback=spec.get("code"),
        error=spec.get("scriptError"),
        configured=tuple(spec.get("configured") or ()),
        variables={str(k): str(v) for k, v in (spec.get("variables") or {}).items()},
    )


def error_text(exc: LinkisError) -> str:
    """How a node records a Linkis refusal: the message, then its errCode."""
    return f"{exc.message} (errCode {exc.err_code})" if exc.err_code else exc.message


def resolve(spec: JobSpec, source: ScriptSource, linkis: Linkis, max_chars: int | None = None) -> JobSpec:
    """Return the job to submit with the node's script in it; ``ScriptError``/``LinkisError``
    when DSS would fail the node; ``LinkisUnavailable`` (transient) is the caller's to retry."""
    if source.error is not None:
        raise ScriptError(source.error, SCRIPT_ERROR_CODE)
    if not source.from_bml:
        return spec
    assert source.resource_id is not None
    try:
        script = linkis.open_script(
            source.resource_id, source.version, source.file_name or "script", spec.user
        )
    except LinkisUnavailable:
        raise
    except LinkisError:
        if source.fallback is None:
            raise
        log.info("BML has no resource %s %s: the flow's local copy runs", source.resource_id, source.version)
        return spec
    try:
        return with_script(spec, script, source, max_chars)
    except InvalidRequest as exc:
        raise ScriptError(exc.message) from None


def with_script(spec: JobSpec, script: Script, source: ScriptSource, max_chars: int | None = None) -> JobSpec:
    """Merge a script into the job: its variables under the node's (substituted here, once, as
    for inline code), its configuration groups where the node sets none."""
    variables = {**script.variables, **source.variables}
    configured = source.configured
    groups: dict[str, dict[str, Any]] = {}
    for group in GROUPS:
        base = {} if group in configured else dict(script.configuration.get(group) or {})
        groups[group] = {**base, **getattr(spec, group)}
    return dataclasses.replace(
        spec,
        code=vars_.render(script.content, variables, max_chars),
        startup=groups["startup"],
        runtime=groups["runtime"],
        special=groups["special"],
    )
