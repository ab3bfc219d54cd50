"""The declarative base, engine settings, and the one transaction helper.

The store never builds its own engine or sessions: the composition root (``api.app``) owns
them and hands the store a session source with :func:`bind`. Under Flask-SQLAlchemy that
source is the request- or task-scoped session of the current app context.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from typing import TypeVar
from typing import cast

from sqlalchemy import MetaData
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Session
from sqlalchemy.orm import scoped_session

log = logging.getLogger(__name__)
T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose constraints get predictable names (Alembic can drop them)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SessionSource = Callable[[], "Session | scoped_session[Any]"]
_source: list[SessionSource] = []


def bind(source: SessionSource) -> None:
    """Give the store its session source (the composition root calls this; idempotent)."""
    _source[:] = [source]


def session() -> Session:
    """The current session, from the source the composition root bound."""
    if not _source:
        raise RuntimeError("the store has no session source: build the app with api.app.create_app")
    return cast(Session, _source[0]())  # a scoped_session proxies its Session


AFTER_COMMIT = "flowexec.after_commit"


def after_commit(current: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the transaction under way commits (never if it rolls back): work
    outside the database, such as a file write, kept out of the transaction's lock time."""
    current.info.setdefault(AFTER_COMMIT, []).append(callback)


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit on success, roll back on any error; then the callbacks of a commit."""
    current = session()
    try:
        yield current
        current.commit()
    except BaseException:
        current.info.pop(AFTER_COMMIT, None)
        current.rollback()
        raise
    for callback in current.info.pop(AFTER_COMMIT, []):
        try:
            callback()
        except Exception:
            log.exception("after-commit callback failed")


def _retryable(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "args", [None])[0]
    return code in (1213, 1205) or "database is locked" in str(exc.orig)


def in_transaction(work: Callable[[Session], T], attempts: int = 5) -> T:
    """Run ``work`` in a transaction, again from the start after a deadlock or lock timeout."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction() as current:
                return work(current)
        except OperationalError as exc:
            if attempt == attempts or not _retryable(exc):
                raise
            log.warning("transaction retried attempt=%s error=%s", attempt, exc.orig)
    raise AssertionError("unreachable")


def engine_options(url: str, pool_size: int = 20) -> dict[str, Any]:
    """Return ``create_engine`` options suited to the database behind ``url``."""
    if url.startswith("sqlite"):
        # isolation_level=None: the driver issues no BEGIN of its own; ours is IMMEDIATE.
        return {
            "connect_args": {"check_same_thread": False, "timeout": 30, "isolation_level": None},
            "pool_size": pool_size,
            "max_overflow": pool_size,
        }
    return {
        # No ping at every checkout and no ROLLBACK at every checkin: two round trips that
        # doubled a node step's. ``configure_engine`` pings a connection idle for a while
        # instead, and rolls back at checkin only a connection whose server says a transaction
        # is still open (the Session and ``Connection.close`` end theirs already).
        "pool_pre_ping": False,
        "pool_reset_on_return": None,
        "pool_recycle": 3600,
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "isolation_level": "READ COMMITTED",
        # A node step's statements travel together (``store.batch``); FOUND_ROWS is what
        # SQLAlchemy sets itself (a compare-and-set's rowcount is the rows it matched).
        **(
            {"connect_args": {"client_flag": CLIENT_MULTI_STATEMENTS | CLIENT_FOUND_ROWS}}
            if url.startswith("mysql")
            else {}
        ),
    }


#: A pooled connection idle longer than this is pinged before use (a restarted database, a
#: proxy's idle timeout); one used more recently is handed out as it is. If the database went
#: away within that second, the statement fails as a disconnect: SQLAlchemy invalidates the
#: pool and the task or request retries, as it would on a failure mid-transaction.
PING_AFTER_IDLE_S = 1.0


def configure_engine(engine: Engine) -> None:
    """MySQL/MariaDB: ping only connections idle for a while. SQLite: safe under a threads
    pool, WAL, and every transaction BEGIN IMMEDIATE.

    A deferred BEGIN that reads and then writes cannot be cured by a busy timeout: two
    readers both try to upgrade and one fails with "database is locked" at once.
    """
    if engine.dialect.name != "sqlite":
        _ping_when_idle(engine)
        _no_commit_after_batch(engine)
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


#: The server's status flag for "a transaction is open" (MySQL protocol, in every OK packet).
SERVER_STATUS_IN_TRANS = 1
#: The MySQL protocol's capability flags (pymysql.constants.CLIENT, not imported at start-up).
CLIENT_FOUND_ROWS = 1 << 1
CLIENT_MULTI_STATEMENTS = 1 << 16
#: Set on a driver connection while ``store.batch`` ends the session's transaction that its
#: last statement committed.
COMMITTED_BY_BATCH = "flowexec_committed_by_batch"


def is_mysql(session: Session) -> bool:
    """True on MariaDB/MySQL, where the multi-table UPDATEs of ``statements`` apply."""
    return session.get_bind().dialect.name in ("mysql", "mariadb")


def _no_commit_after_batch(engine: Engine) -> None:
    """A batch that ended with its COMMIT (``store.batch``) ends the session's transaction at
    once, with nothing left to commit: the COMMIT the session would send is a round trip."""

    def _commit_unless_done(dbapi_connection: Any) -> None:
        if not getattr(dbapi_connection, COMMITTED_BY_BATCH, False):
            dbapi_connection.commit()

    engine.dialect.do_commit = _commit_unless_done  # type: ignore[method-assign]


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine.pool, "reset")
    def _reset(dbapi_connection: Any, _record: Any, state: Any) -> None:
        # pymysql keeps the last OK packet's status: a clean connection costs no round trip.
        open_transaction = getattr(dbapi_connection, "server_status", SERVER_STATUS_IN_TRANS)
        if not state.terminate_only and open_transaction & SERVER_STATUS_IN_TRANS:
            dbapi_connection.rollback()

    @event.listens_for(engine.pool, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("checked_in", 0.0) < PING_AFTER_IDLE_S:
            return
        try:
            dbapi_connection.ping(False)
        except Exception as exc:  # the pool discards this connection and checks out another
            raise DisconnectionError(f"pooled connection is gone: {exc}") from exc
