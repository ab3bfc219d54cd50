"""Registered flow versions: lookups, the next id and version, and the catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import NamedTuple

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowexec.store.models import FlowVersion


def flow_id_of_source(session: Session, source_path: str, user: str | None = None) -> int | None:
    """The flow id a file was registered under before (by this user), if any."""
    rows = session.execute(
        select(FlowVersion.flow_id).where(FlowVersion.source_path == source_path).order_by(FlowVersion.id)
    ).scalars()
    for flow_id in dict.fromkeys(rows):
        if owner(session, int(flow_id))[1] == user:
            return int(flow_id)
    return None


def owner(session: Session, flow_id: int) -> tuple[bool, str | None]:
    """Whether the flow exists, and its owner: who registered its first version.

    The name is compared in Python, so it matches exactly on every database (MariaDB's
    collations would not).
    """
    row = session.execute(
        select(FlowVersion.created_by).where(FlowVersion.flow_id == flow_id).order_by(FlowVersion.id).limit(1)
    ).first()
    return (False, None) if row is None else (True, row[0])


def next_flow_id(session: Session) -> int:
    top = session.execute(select(func.max(FlowVersion.flow_id))).scalar_one_or_none()
    return int(top or 0) + 1


def find_version(session: Session, flow_id: int, version: str | None, digest: str) -> FlowVersion | None:
    """The named version, or (no name) the version with this content."""
    query = select(FlowVersion).where(FlowVersion.flow_id == flow_id)
    if version is not None:
        query = query.where(FlowVersion.version == version)
    else:
        query = query.where(FlowVersion.content_hash == digest)
    return session.execute(query.limit(1)).scalar_one_or_none()


def next_version(session: Session, flow_id: int) -> str:
    count = session.execute(
        select(func.count()).select_from(FlowVersion).where(FlowVersion.flow_id == flow_id)
    ).scalar_one()
    return f"v{int(count) + 1:06d}"


def add_version(session: Session, **values: Any) -> FlowVersion:
    row = FlowVersion(**values)
    session.add(row)
    return row


class VersionRow(NamedTuple):
    """A registered version without its definition, and the flow's owner (who registered its
    first version)."""

    id: int
    flow_id: int
    version: str
    name: str | None
    content_hash: str
    created_by: str | None
    created_time: datetime
    owner: str | None


def _newest_with_owner(by_version: bool) -> Select[Any]:
    table = FlowVersion.__table__
    first = table.alias("first_version")
    owner_of = (
        select(first.c.created_by)
        .where(first.c.flow_id == bindparam("flow_id"))
        .order_by(first.c.id)
        .limit(1)
        .scalar_subquery()
    )
    columns = [table.c[name] for name in VersionRow._fields if name != "owner"]
    query = select(*columns, owner_of).where(table.c.flow_id == bindparam("flow_id"))
    if by_version:
        query = query.where(table.c.version == bindparam("version"))
    return query.order_by(table.c.id.desc()).limit(1)


#: Built once: every ``execute`` request reads its flow's version with one of them.
_NEWEST_WITH_OWNER = {True: _newest_with_owner(True), False: _newest_with_owner(False)}
_CONTENTS = select(FlowVersion.__table__.c.definition, FlowVersion.__table__.c.scripts).where(
    FlowVersion.__table__.c.id == bindparam("id")
)


def newest_with_owner(session: Session, flow_id: int, version: str | None = None) -> VersionRow | None:
    """One version (the newest when ``version`` is None) with the flow's owner, in one
    statement of plain columns (not its definition: ``contents`` reads that); None when there
    is no such version."""
    query = _NEWEST_WITH_OWNER[bool(version)]
    row = session.execute(query, {"flow_id": flow_id, "version": version}).first()
    return None if row is None else VersionRow(*row)


def contents(session: Session, version_id: int) -> tuple[str, str]:
    """A version's definition and scripts (JSON text)."""
    definition, scripts = session.execute(_CONTENTS, {"id": version_id}).one()
    return str(definition), str(scripts)


def newest(session: Session, flow_id: int, version: str | None = None) -> FlowVersion | None:
    """One version (the newest when ``version`` is None), or None."""
    query = select(FlowVersion).where(FlowVersion.flow_id == flow_id)
    if version:
        query = query.where(FlowVersion.version == version)
    return session.execute(query.order_by(FlowVersion.id.desc()).limit(1)).scalar_one_or_none()


def versions(session: Session, flow_id: int) -> Sequence[FlowVersion]:
    """A flow's versions, newest first (empty when the flow is unknown)."""
    query = select(FlowVersion).where(FlowVersion.flow_id == flow_id).order_by(FlowVersion.id.desc())
    return session.execute(query).scalars().all()


@dataclass(frozen=True)
class FlowSummary:
    """A registered flow: its newest version and how many versions it has."""

    flow_id: int
    name: str | None
    latest_version: str
    versions: int
    updated_time: datetime


def catalogue(session: Session, page: int = 1, page_size: int = 20) -> tuple[list[FlowSummary], int]:
    """Registered flows by flowId, each with its newest version, and how many there are."""
    grouped = (
        select(FlowVersion.flow_id, func.max(FlowVersion.id).label("newest"), func.count().label("n"))
        .group_by(FlowVersion.flow_id)
        .subquery()
    )
    query = (
        select(FlowVersion, grouped.c.n)
        .join(grouped, FlowVersion.id == grouped.c.newest)
        .order_by(FlowVersion.flow_id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    flows = [
        FlowSummary(v.flow_id, v.name, v.version, int(n), v.created_time)
        for v, n in session.execute(query).all()
    ]
    total = int(session.execute(select(func.count(func.distinct(FlowVersion.flow_id)))).scalar_one())
    return flows, total
