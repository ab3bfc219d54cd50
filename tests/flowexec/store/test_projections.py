"""DSS's tables as DSS's tools read them, on SQLite (embedded) and MariaDB (production)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from flowexec.events import Change
from flowexec.events import Transitions
from flowexec.state import NodeState as N
from flowexec.store import batch
from flowexec.store import projections
from flowexec.store import repository as repo
from flowexec.store.db import in_transaction
from flowexec.store.models import WorkflowExecuteInfo
from tests.conftest import migrated_app
from tests.conftest import truncate


@pytest.fixture(params=["sqlite", "mariadb"])
def app(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'flowexec.db'}"
    else:
        url = request.getfixturevalue("migrated_mysql")
        truncate(url)
    found = migrated_app(url)
    with found.app_context():
        yield found


def _task(status: str = "Inited") -> int:
    at = datetime.now()
    return in_transaction(lambda s: repo.insert_task(s, status=status, progress=0.0, created_time=at).id)


def _info(flow_id: int, version: str) -> WorkflowExecuteInfo | None:
    return in_transaction(lambda s: projections._newest_info(s, flow_id, version))


def _end(task_id: int, states: dict[str, N], succeeded: bool, flow_id: int = 7, version: str = "v1") -> None:
    """What an execution's end writes into ``execute_info``: the newest row read locked, then
    written (or a row inserted), as ``completion.finalize`` batches them."""

    def work(session: Any) -> None:
        (newest,) = batch.run(session, projections.newest_info(flow_id, version))
        row = newest.rows[0] if newest.rows else None
        batch.run(
            session, projections.info_write(row, task_id, flow_id, version, states, succeeded, datetime.now())
        )

    in_transaction(work)


def test_first_submission_makes_the_task_running_and_progress_follows(app: Any) -> None:
    task_id = _task()
    claim = Transitions(task_id, 7, "v1", 1, 4, (Change("a", N.QUEUED, N.SUBMITTING),))
    in_transaction(lambda s: projections.update_task(s, claim))
    task = in_transaction(lambda s: repo.get_task(s, task_id))
    # a claim settles nothing: Running, the progress left to the batches that settle nodes
    assert task.status == "Running" and task.progress == 0.0
    skipped = Transitions(task_id, 7, "v1", 1, 4, (Change("b", N.PENDING, N.SKIPPED),))
    in_transaction(lambda s: projections.update_task(s, skipped))
    assert in_transaction(lambda s: repo.get_task(s, task_id)).progress == pytest.approx(0.25)
    running = Transitions(task_id, 7, "v1", 2, 4, (Change("a", N.SUBMITTING, N.RUNNING),))
    in_transaction(lambda s: projections.update_task(s, running))
    assert in_transaction(lambda s: repo.get_task(s, task_id)).progress == pytest.approx(0.25)
    end = Transitions(task_id, 7, "v1", 3, 4, (Change("a", N.RUNNING, N.SUCCEED),))
    in_transaction(lambda s: projections.update_task(s, end))
    assert in_transaction(lambda s: repo.get_task(s, task_id)).progress == pytest.approx(0.75)


def test_a_batch_the_sender_wrote_is_not_written_again(app: Any) -> None:
    task_id = _task()
    batch = Transitions(task_id, 7, "v1", 1, 2, (Change("a", N.QUEUED, N.SUBMITTING),), task_written=True)
    in_transaction(lambda s: projections.update_task(s, batch))
    task = in_transaction(lambda s: repo.get_task(s, task_id))
    assert task.status == "Inited" and task.progress == 0.0


def test_the_end_of_a_run_writes_the_version_row_and_merges_successes(app: Any) -> None:
    first, second = _task(), _task()
    _end(first, {"a": N.SUCCEED, "b": N.FAILED, "c": N.CANCELLED, "d": N.SKIPPED}, succeeded=False)
    info = _info(7, "v1")
    assert info is not None and info.task_id == first and info.status == 0
    assert (info.succeed_jobs, info.failed_jobs, info.skipped_jobs) == ("a", "b,c", "d")
    assert info.pending_jobs == "d" and info.running_jobs == ""
    _end(second, {"a": N.SKIPPED, "b": N.SUCCEED, "c": N.SUCCEED, "d": N.SKIPPED}, succeeded=True)
    info = _info(7, "v1")
    assert info is not None and info.task_id == second and info.status == 1
    assert info.succeed_jobs == "b,c,a"  # DSS merges: this run's, then the earlier ids it lacks
    assert in_transaction(lambda s: s.query(WorkflowExecuteInfo).count()) == 1


def test_each_version_has_its_own_row(app: Any) -> None:
    _end(_task(), {"a": N.SUCCEED}, succeeded=True, version="v1")
    _end(_task(), {"a": N.FAILED}, succeeded=False, version="v2")
    v1, v2 = _info(7, "v1"), _info(7, "v2")
    assert v1 is not None and v1.status == 1 and v1.succeed_jobs == "a"
    assert v2 is not None and v2.status == 0 and v2.failed_jobs == "a"


def test_rerun_reads_the_newest_failed_row(app: Any) -> None:
    assert in_transaction(lambda s: projections.rerun_done(s, 7)) is None
    _end(_task(), {"a": N.SUCCEED, "b": N.FAILED, "c": N.SKIPPED}, succeeded=False)
    assert in_transaction(lambda s: projections.rerun_done(s, 7)) == {"a", "c"}


@pytest.mark.parametrize(
    ("new", "old", "merged"),
    [("", None, ""), ("a,b", "", "a,b"), ("b", "a,b", "b,a"), ("", "a", "a"), ("a,,b", "c,,a", "a,b,c")],
)
def test_merge_ids(new: str, old: str | None, merged: str) -> None:
    assert projections.merge_ids(new, old) == merged
