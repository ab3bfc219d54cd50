"""The shared ``db`` extension and engine settings for MySQL/MariaDB and SQLite."""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

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


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


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
        "pool_pre_ping": True,
        "pool_recycle": 3600,
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "isolation_level": "READ COMMITTED",
    }


def configure_engine(engine: Engine) -> None:
    """Make SQLite safe under a threads pool: WAL, and every transaction BEGIN IMMEDIATE.

    A deferred BEGIN that reads and then writes cannot be cured by a busy timeout: two
    readers both try to upgrade and one fails with "database is locked" at once.
    """
    if engine.dialect.name != "sqlite":
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
