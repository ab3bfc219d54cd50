"""Flow versions: register (validated, content-addressed), load with subflows resolved."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from flowexec.errors import InvalidRequest
from flowexec.errors import NotAllowed
from flowexec.errors import NotFound
from flowexec.graph import Flow
from flowexec.graph import parse_flow
from flowexec.limits import Limits
from flowexec.service.common import now
from flowexec.store import flows as store
from flowexec.store.db import in_transaction


@dataclass(frozen=True)
class FlowRef:
    flow_id: int
    version: str
    name: str | None
    nodes: int
    created: bool


def content_hash(definition: Any, scripts: Mapping[str, str]) -> str:
    blob = json.dumps({"flow": definition, "scripts": dict(scripts)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def register_flow(
    definition: Any,
    scripts: Mapping[str, str],
    *,
    flow_id: int | None = None,
    version: str | None = None,
    name: str | None = None,
    user: str | None = None,
    source_path: str | None = None,
    admin: bool = False,
    limits: Limits | None = None,
) -> FlowRef:
    """Validate and store a flow version; registering the same content again is a no-op.

    A flow id belongs to the user who registered its first version: only they (or an admin) add
    versions to it. A flow registered without a user (an old row, a benchmark, in-process code)
    takes new versions from admins and in-process code only.
    """
    named: list[str] = []  # subflows named by id: registered as they are, resolved when loaded
    flow = parse_flow(definition, scripts, lambda child: named.append(child), limits)
    digest = content_hash(definition, scripts)
    if not named:  # parsed as loading it would parse it: the execute that follows needn't again
        _remember((digest, limits), flow)

    def work(session: Session) -> FlowRef:
        fid = flow_id if flow_id is not None else _flow_id_for(session, source_path, user)
        exists, owner = store.owner(session, fid)
        if exists and not admin and owner != user:
            raise NotAllowed(f"flow {fid} belongs to another user; register your flow under a new flowId")
        existing = store.find_version(session, fid, version, digest)
        if existing is not None:
            if existing.content_hash != digest:
                raise InvalidRequest(
                    f"flow {fid} version {existing.version} is already registered with other content"
                )
            return FlowRef(fid, existing.version, existing.name, len(flow.nodes), False)
        ver = version or store.next_version(session, fid)
        store.add_version(
            session,
            flow_id=fid,
            version=ver,
            name=name,
            definition=json.dumps(definition),
            scripts=json.dumps(dict(scripts)),
            content_hash=digest,
            source_path=source_path,
            created_by=user,
            created_time=now(),
        )
        return FlowRef(fid, ver, name, len(flow.nodes), True)

    return in_transaction(work)


def _flow_id_for(session: Session, source_path: str | None, user: str | None) -> int:
    found = store.flow_id_of_source(session, source_path, user) if source_path else None
    return found if found is not None else store.next_flow_id(session)


def may_run(owner: str | None, user: str | None, admin: bool) -> bool:
    """A caller runs their own flows (an admin any; a flow without an owner anyone)."""
    return admin or owner is None or owner == user


#: Parsed flows by content (a version's content never changes) and limits, newest used last;
#: only those that named no subflow to look up (a child's newest version and who may run it can
#: change). Bounded by their nodes in total.
_parsed: OrderedDict[tuple[str, Limits | None], Flow] = OrderedDict()
_parsed_lock = threading.Lock()
_parsed_nodes = 0
PARSED_NODES = 50_000


def load_flow(
    session: Session,
    flow_id: int,
    version: str | None,
    user: str | None = None,
    admin: bool = False,
    limits: Limits | None = None,
) -> tuple[store.VersionRow, Flow]:
    """Return a registered version (the newest when ``version`` is None) and its parsed DAG.

    Only flows the caller may run resolve, the flow itself and every subflow it names. A
    version parsed before in this process is not read or parsed again, unless it names
    subflows to look up.
    """
    row = store.newest_with_owner(session, flow_id, version)
    if row is None:
        what = f"flow {flow_id}" + (f" version {version}" if version else "")
        raise NotFound(f"{what} is not registered")
    if not may_run(row.owner, user, admin):
        raise NotAllowed(f"flow {flow_id} belongs to another user")
    key = (row.content_hash, limits)
    with _parsed_lock:
        flow = _parsed.get(key)
        if flow is not None:
            _parsed.move_to_end(key)
            return row, flow
    definition, scripts = store.contents(session, row.id)
    looked_up: list[str] = []
    resolve = _resolver(session, user, admin)

    def resolve_noted(embedded_flow_id: str) -> tuple[Any, Mapping[str, str]] | None:
        looked_up.append(embedded_flow_id)
        return resolve(embedded_flow_id)

    flow = parse_flow(json.loads(definition), json.loads(scripts), resolve_noted, limits)
    if not looked_up:
        _remember(key, flow)
    return row, flow


def _remember(key: tuple[str, Limits | None], flow: Flow) -> None:
    global _parsed_nodes
    with _parsed_lock:
        if key in _parsed:
            return
        _parsed[key] = flow
        _parsed_nodes += len(flow.nodes)
        while _parsed_nodes > PARSED_NODES and len(_parsed) > 1:
            _parsed_nodes -= len(_parsed.popitem(last=False)[1].nodes)


def _resolver(
    session: Session, user: str | None, admin: bool
) -> Callable[[str], tuple[Any, Mapping[str, str]] | None]:
    """Find a subflow's child flow among those the caller may run (its newest version)."""

    def resolve(embedded_flow_id: str) -> tuple[Any, Mapping[str, str]] | None:
        text = str(embedded_flow_id)
        if not text.isdigit() or len(text) > 18:
            return None
        exists, owner = store.owner(session, int(text))
        if not exists:
            return None
        if not may_run(owner, user, admin):
            raise NotAllowed(f"subflow names flow {text}, which belongs to another user")
        row = store.newest(session, int(text))
        return (json.loads(row.definition), json.loads(row.scripts)) if row else None

    return resolve


def has_version(flow_id: int, version: str | None) -> bool:
    """True when the flow (that version, or any when ``version`` is None) is registered."""
    return in_transaction(lambda session: store.newest(session, flow_id, version) is not None)
