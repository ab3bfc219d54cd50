"""A real app on SQLite (the embedded database), migrated, for direct service tests.

Every actual write of a node's state is recorded by a SQLite trigger, independently of the
code under test, so a test can check each move the database saw against the state table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

MOVES_TABLE = """
CREATE TABLE IF NOT EXISTS test_node_moves (
    node_id INTEGER, old_state TEXT, new_state TEXT, steps INTEGER)
"""
MOVES_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS test_record_node_moves AFTER UPDATE ON flowexec_node_run
WHEN old.state != new.state
BEGIN
    INSERT INTO test_node_moves VALUES (new.id, old.state, new.state, new.version - old.version);
END
"""


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from api.extensions import db
    from tests.conftest import migrated_app

    app = migrated_app(f"sqlite:///{Path(tmp_path_factory.mktemp('service')) / 'flowexec.db'}")
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text(MOVES_TABLE))
            conn.execute(sa.text(MOVES_TRIGGER))
    yield app
    with app.app_context():
        db.engine.dispose()


def recorded_moves(app: Any) -> list[tuple[int, str, str, int]]:
    """Every node state write the database saw: (node id, old, new, version steps)."""
    from api.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT node_id, old_state, new_state, steps FROM test_node_moves"))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def forget_moves(app: Any) -> None:
    from api.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM test_node_moves"))
