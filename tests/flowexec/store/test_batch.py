"""Statements sent together (``store.batch``): on MariaDB in one round trip, on SQLite one by
one; either way the same answers, the caller's transaction, and an error that undoes them all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from flowexec import service
from flowexec.state import NodeState
from flowexec.store import batch
from flowexec.store import statements as st
from flowexec.store.db import in_transaction
from tests.conftest import migrated_app
from tests.conftest import truncate
from workers.runtime import runtime

DOC = {
    "nodes": [
        {"id": "a", "title": "a", "jobType": "linkis.control.empty", "jobContent": {}},
        {"id": "b", "title": "b", "jobType": "linkis.control.empty", "jobContent": {}},
        {"id": "c", "title": "c", "jobType": "linkis.control.empty", "jobContent": {}},
    ],
    "edges": [{"source": "a", "target": "c"}, {"source": "b", "target": "c"}],
    "props": [],
}


@pytest.fixture(params=["mysql", "sqlite"])
def app(request: Any, tmp_path: Any) -> Iterator[Any]:
    if request.param == "mysql":
        url = request.getfixturevalue("migrated_mysql")
        truncate(url)
    else:
        url = f"sqlite:///{tmp_path / 'flowexec.db'}"
    found = migrated_app(url)
    with found.app_context():
        service.register_flow(DOC, {}, flow_id=1, version="v1")
        service.submit_execution(
            service.ExecutionRequest(flow_id=1, version="v1", user="alice"), runtime().settings
        )
        yield found
    from api.extensions import db

    with found.app_context():
        db.engine.dispose()


def _nodes() -> dict[str, Any]:
    rows = in_transaction(
        lambda s: s.execute(
            sa.select(st.NODES.c.node_key, st.NODES.c.id, st.NODES.c.state, st.NODES.c.pending_parents)
        ).all()
    )
    return {r.node_key: r for r in rows}


def test_statements_answer_in_order_in_the_callers_transaction(app: Any) -> None:
    nodes = _nodes()
    task_id = _task_id()
    at = datetime.now()

    def work(session: Any) -> list[batch.Outcome]:
        return batch.run(
            session,
            (st.CONTROL_DONE, {"node_id": nodes["a"].id, "at": at}),
            (st.LOCK_COUNTERS, {"node_id": nodes["a"].id}),
            # lost: c is Pending, so neither statement matches it
            (st.CONTROL_DONE, {"node_id": nodes["c"].id, "at": at}),
            (st.CHILDREN, {"task_id": task_id, "keys": ["c", "b"]}),
        )

    done, locked, lost, children = in_transaction(work)
    assert done.rowcount == 1 and lost.rowcount == 0
    assert locked.rowcount == 1
    (row,) = locked.rows
    assert (row.node_key, row.total_nodes, row.settled_nodes) == ("a", 3, 0)
    assert [c.node_key for c in children.rows] == ["b", "c"]  # ordered by id, an IN of a list
    assert children.rows[1].pending_parents == 2
    assert _nodes()["a"].state == NodeState.SUCCEED.value


def _dialect() -> str:
    from api.extensions import db

    return str(db.engine.dialect.name)


def _task_id() -> int:
    return int(in_transaction(lambda s: s.execute(sa.select(st.EXECUTIONS.c.task_id)).scalar_one()))


def test_a_commit_in_the_batch_commits_and_ends_the_sessions_transaction(app: Any) -> None:
    nodes = _nodes()
    at = datetime.now()
    task_id = _task_id()
    from api.extensions import db

    def work(session: Any) -> bool:
        batch.run(
            session,
            (st.QUEUE, {"ids": [nodes["c"].id], "at": at}),
            (st.SETTLE_COUNT, {"b_task_id": task_id, "settled": 1}),
            commit=True,
        )
        return bool(session().in_transaction())

    still_open = in_transaction(work)
    # On MariaDB the batch's own COMMIT ended the transaction; elsewhere the caller's commits.
    assert still_open is (_dialect() == "sqlite")
    assert _nodes()["c"].state == NodeState.QUEUED.value
    settled = in_transaction(lambda s: s.execute(sa.select(st.EXECUTIONS.c.settled_nodes)).scalar_one())
    assert settled == 1
    with db.engine.connect() as other:
        state = other.execute(sa.select(st.NODES.c.state).where(st.NODES.c.id == nodes["c"].id))
        assert state.scalar_one() == NodeState.QUEUED.value


def test_an_error_in_a_batch_raises_as_sqlalchemy_does_and_undoes_the_statements_before_it(app: Any) -> None:
    nodes = _nodes()
    at = datetime.now()
    wrong = sa.text("SELECT no_such_column FROM flowexec_node_run")

    def work(session: Any) -> None:
        batch.run(session, (st.CONTROL_DONE, {"node_id": nodes["b"].id, "at": at}), (wrong, {}))

    with pytest.raises(OperationalError):
        in_transaction(work)
    assert _nodes()["b"].state == NodeState.QUEUED.value


def test_an_empty_batch_sends_nothing(app: Any) -> None:
    assert in_transaction(lambda s: batch.run(s)) == []


def test_a_connection_the_server_dropped_is_invalidated_and_the_next_transaction_runs(app: Any) -> None:
    if _dialect() != "mysql":
        pytest.skip("a server that drops a connection: MariaDB")
    from api.extensions import db

    task_id = _task_id()

    def work(session: Any) -> None:
        mine = session.execute(sa.text("SELECT CONNECTION_ID()")).scalar_one()
        with db.engine.connect() as other:
            other.exec_driver_sql(f"KILL {int(mine)}")
        batch.run(session, (st.SETTLE_COUNT, {"b_task_id": task_id, "settled": 2}), commit=True)

    with pytest.raises(OperationalError) as caught:
        in_transaction(work, attempts=1)
    assert caught.value.connection_invalidated
    in_transaction(
        lambda s: batch.run(s, (st.SETTLE_COUNT, {"b_task_id": task_id, "settled": 3}), commit=True)
    )
    assert in_transaction(lambda s: s.execute(sa.select(st.EXECUTIONS.c.settled_nodes)).scalar_one()) == 3


def test_a_parameter_that_looks_like_sql_stays_a_value(app: Any) -> None:
    task_id = _task_id()
    hostile = "c'; DROP TABLE flowexec_node_run; -- \\' \" ;"

    def work(session: Any) -> list[batch.Outcome]:
        return batch.run(session, (st.CHILDREN, {"task_id": task_id, "keys": [hostile, "c"]}))

    (children,) = in_transaction(work)
    assert [c.node_key for c in children.rows] == ["c"]
    assert len(_nodes()) == 3


def test_rows_insert_together_with_their_columns_defaults_and_values_kept_as_values(app: Any) -> None:
    from flowexec.store.models import IdempotencyKey
    from flowexec.store.models import NodeRun

    task_id = _task_id()
    at = datetime(2026, 11, 29, 23, 30, 1, 123456)
    evil = "x'); DROP TABLE flowexec_node_run; --"
    base = {"task_id": task_id, "title": evil, "job_type": "linkis.control.empty", "kind": "empty"}
    rows = [
        {**base, "node_key": f"r{i}", "state": NodeState.PENDING.value, "children": "[]", "updated_at": at}
        for i in range(3)
    ]
    key = {"um_user": "alice", "idem_key": "k'1", "task_id": task_id, "created_time": at}

    def work(session: Any) -> list[batch.Outcome]:
        return batch.run(
            session,
            batch.Rows(sa.insert(NodeRun.__table__), rows),
            (sa.insert(IdempotencyKey.__table__), key),
            commit=True,
        )

    inserted, _ = in_transaction(work)
    assert inserted.rowcount == 3
    got = _nodes()
    assert {"r0", "r1", "r2"} <= set(got)
    read = in_transaction(
        lambda s: s.execute(
            sa.select(NodeRun.title, NodeRun.parked, NodeRun.version, NodeRun.updated_at).where(
                NodeRun.node_key == "r1"
            )
        ).one()
    )
    # the title stayed a value; parked and version took their columns' defaults
    assert tuple(read) == (evil, False, 0, at)
    stored = in_transaction(lambda s: s.execute(sa.select(IdempotencyKey.idem_key)).scalars().all())
    assert stored == ["k'1"]


def test_an_insert_of_no_rows_is_refused(app: Any) -> None:
    from flowexec.store.models import NodeRun

    with pytest.raises(ValueError, match="no rows"):
        in_transaction(lambda s: batch.run(s, batch.Rows(sa.insert(NodeRun.__table__), []), commit=True))


@pytest.mark.parametrize("one_trip_nodes", [500, 2])
def test_an_execution_too_large_for_one_trip_is_written_in_two(
    app: Any, one_trip_nodes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowexec.store import submits

    monkeypatch.setattr(submits, "ONE_TRIP_NODES", one_trip_nodes)
    submitted, actions = service.submit_execution(
        service.ExecutionRequest(flow_id=1, version="v1", user="bob"), runtime().settings
    )
    labels = sorted(label for action in actions for label in getattr(action, "labels", ()))
    assert labels == [f"{submitted.task_id}:a", f"{submitted.task_id}:b"]
    states = in_transaction(
        lambda s: dict(
            s.execute(
                sa.select(st.NODES.c.node_key, st.NODES.c.state).where(
                    st.NODES.c.task_id == submitted.task_id
                )
            ).all()
        )
    )
    assert states == {"a": "Queued", "b": "Queued", "c": "Pending"}
