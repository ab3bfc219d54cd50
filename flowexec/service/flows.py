"""Flow versions: register (validated, content-addressed), load with subflows resolved."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from flowexec.errors import InvalidRequest
from flowexec.errors import NotFound
from flowexec.graph import Flow
from flowexec.graph import parse_flow
from flowexec.service.common import now
from flowexec.store import flows as store
from flowexec.store.db import in_transaction
from flowexec.store.models import FlowVersion


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
) -> FlowRef:
    """Validate and store a flow version; registering the same content again is a no-op."""
    flow = parse_flow(definition, scripts)
    digest = content_hash(definition, scripts)

    def work(session: Session) -> FlowRef:
        fid = flow_id if flow_id is not None else _flow_id_for(session, source_path)
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


def _flow_id_for(session: Session, source_path: str | None) -> int:
    found = store.flow_id_of_source(session, source_path) if source_path else None
    return found if found is not None else store.next_flow_id(session)


def load_flow(session: Session, flow_id: int, version: str | None) -> tuple[FlowVersion, Flow]:
    """Return a registered version (the newest when ``version`` is None) and its parsed DAG."""
    row = store.newest(session, flow_id, version)
    if row is None:
        what = f"flow {flow_id}" + (f" version {version}" if version else "")
        raise NotFound(f"{what} is not registered")
    return row, parse_flow(json.loads(row.definition), json.loads(row.scripts), _resolver(session))


def _resolver(session: Session) -> Callable[[str], tuple[Any, Mapping[str, str]] | None]:
    """Find a subflow's child flow among the registered ones (its newest version)."""

    def resolve(embedded_flow_id: str) -> tuple[Any, Mapping[str, str]] | None:
        if not str(embedded_flow_id).isdigit():
            return None
        row = store.newest(session, int(embedded_flow_id))
        return (json.loads(row.definition), json.loads(row.scripts)) if row else None

    return resolve


def has_version(flow_id: int, version: str | None) -> bool:
    """True when the flow (that version, or any when ``version`` is None) is registered."""
    return in_transaction(lambda session: store.newest(session, flow_id, version) is not None)
