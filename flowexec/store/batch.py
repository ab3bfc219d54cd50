"""Several prebuilt statements in one round trip to MariaDB/MySQL (elsewhere: one by one).

A node step's statements are few and tiny; what they cost is the wait for each answer. On
MariaDB/MySQL the statements of one :func:`run` travel as one multi-statement query (the
connection is opened with ``CLIENT.MULTI_STATEMENTS``, see ``db.engine_options``): each is
rendered with the driver's own escaping, as the driver renders any statement, and the server
runs them in order, in the caller's transaction, and stops at the first error. ``commit=True``
ends the transaction in the same trip, and the session's transaction with it (its COMMIT,
already done, is not sent again: ``db.configure_engine``).

Only Core statements built once at import (``store.statements``) go through here: their
compiled text is cached per statement.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple
from typing import cast

from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.mysql import pymysql as mysql_pymysql
from sqlalchemy.engine import Connection
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.sql.expression import Executable
from sqlalchemy.sql.expression import Insert
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from flowexec.store.db import CLIENT_MULTI_STATEMENTS
from flowexec.store.db import COMMITTED_BY_BATCH


class Rows(NamedTuple):
    """An INSERT of several rows that share their columns: one multi-row ``VALUES``."""

    statement: Executable
    rows: Sequence[Mapping[str, Any]]


#: A statement and its parameters (or an INSERT of rows); several, to run in order in one :func:`run`.
Write = tuple[Executable, Mapping[str, Any]] | Rows
Writes = list[Write]

_PYFORMAT = mysql_pymysql.dialect(paramstyle="pyformat")
_EXPANDING = re.compile(r"\(__\[POSTCOMPILE_(\w+)\]\)")
_VALUES = re.compile(r"^(.* VALUES )(\(.*\))$", re.DOTALL)


class Outcome(NamedTuple):
    """One statement's answer: rows changed or matched, and the rows of a SELECT."""

    rowcount: int
    rows: list[Any]


#: Statements whose text is kept (the prebuilt ones of ``store.statements`` are a few dozen).
MAX_CACHED = 256
_texts: dict[tuple[int, tuple[str, ...]], tuple[Executable, str, dict[str, Any]]] = {}
_rows: dict[tuple[str, ...], Any] = {}


def run(session: Session, *statements: Write, commit: bool = False) -> list[Outcome]:
    """Execute ``statements`` (statement, parameters) in order, in the session's transaction;
    ``commit``: they are the transaction's last, and where it saves a round trip it commits
    with them (elsewhere the caller's transaction commits as usual). Returns one :class:`Outcome` per statement."""
    if not statements and not commit:
        return []
    if any(isinstance(write, Rows) and not write.rows for write in statements):
        raise ValueError("an INSERT of no rows")
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    if getattr(raw, "client_flag", 0) & CLIENT_MULTI_STATEMENTS:
        outcomes = _one_trip(connection, raw, statements, commit)
        if commit:
            # The server committed; the session's transaction ends here too, without a COMMIT.
            setattr(raw, COMMITTED_BY_BATCH, True)
            try:
                session.commit()
            finally:
                setattr(raw, COMMITTED_BY_BATCH, False)
        return outcomes
    outcomes = []
    for write in statements:
        if isinstance(write, Rows):
            session.execute(write.statement, [dict(row) for row in write.rows])
            outcomes.append(Outcome(len(write.rows), []))
            continue
        statement, params = write
        result = cast(CursorResult[Any], session.execute(statement, params))
        if result.returns_rows:
            rows = list(result.all())
            outcomes.append(Outcome(len(rows), rows))
        else:
            outcomes.append(Outcome(result.rowcount, []))
    return outcomes


def _text(statement: Executable, columns: tuple[str, ...] = ()) -> tuple[str, dict[str, Any]]:
    """The statement's text with ``%(name)s`` placeholders, and its constant parameters
    (``columns``: an INSERT's, for the ones the rows give)."""
    key = (id(statement), columns)
    cached = _texts.get(key)
    if cached is None or cached[0] is not statement:
        if len(_texts) > MAX_CACHED:  # a statement built per call: keep the cache bounded
            _texts.clear()
        compiled = cast(ClauseElement, statement).compile(
            dialect=_PYFORMAT, column_keys=list(columns) if columns else None
        )
        defaults = {k: v for k, v in compiled.params.items() if v is not None}
        if isinstance(statement, Insert):  # a column's own default, for the rows that omit it
            for name in compiled.params:
                column = statement.table.c.get(name)
                default = None if column is None else column.default
                if isinstance(default, ScalarElementColumnDefault):
                    defaults.setdefault(name, default.arg)
        cached = (statement, _EXPANDING.sub(r"%(\1)s", compiled.string), defaults)
        _texts[key] = cached
    return cached[1], cached[2]


def _render(cursor: Any, write: Write) -> str:
    """One statement of the trip, its values in place."""
    if isinstance(write, Rows):
        text, defaults = _text(write.statement, tuple(write.rows[0]))
        found = _VALUES.match(text)
        if found is None:
            raise ValueError(f"not an INSERT of one VALUES row: {text[:80]!r}")
        head, values = found.groups()
        return head + ", ".join(
            cursor.mogrify(values, {k: _value(v) for k, v in {**defaults, **row}.items()})
            for row in write.rows
        )
    statement, params = write
    text, defaults = _text(statement, tuple(params) if isinstance(statement, Insert) else ())
    return str(cursor.mogrify(text, {k: _value(v) for k, v in {**defaults, **params}.items()}))


def _row_type(description: Sequence[Any]) -> Any:
    names = tuple(column[0] for column in description)
    if names not in _rows:
        _rows[names] = namedtuple("Row", names)  # noqa: PYI024 - a row type per column list
    return _rows[names]


def _one_trip(connection: Connection, raw: Any, statements: Sequence[Write], commit: bool) -> list[Outcome]:
    import pymysql  # type: ignore[import-untyped]

    cursor = raw.cursor()
    texts = [_render(cursor, write) for write in statements]
    if commit:
        texts.append("COMMIT")
    query = ";\n".join(texts)
    outcomes: list[Outcome] = []
    try:
        cursor.execute(query)
        for index in range(len(texts)):
            if index:
                cursor.nextset()
            if index < len(statements):
                if cursor.description:
                    row = _row_type(cursor.description)
                    rows = [row(*values) for values in cursor.fetchall()]
                    outcomes.append(Outcome(len(rows), rows))
                else:
                    outcomes.append(Outcome(cursor.rowcount, []))
    except pymysql.err.Error as error:
        # As SQLAlchemy raises it from a statement of its own: ``in_transaction`` retries a
        # deadlock, and a connection the server dropped is invalidated, not pooled again.
        gone = connection.dialect.is_disconnect(error, raw, cursor)
        if gone:
            connection.invalidate(error)
        raise sa_exc.DBAPIError.instance(
            query, None, error, pymysql.err.Error, connection_invalidated=gone, dialect=connection.dialect
        ) from error
    finally:
        cursor.close()
    return outcomes


def _value(value: Any) -> Any:
    """A list parameter (an expanding IN) as the tuple the driver renders as ``(a, b)``."""
    return tuple(value) if isinstance(value, list) else value
